// SPDX-License-Identifier: GPL-2.0-only
/*
 * dt-a3-receiver: a small A3 event server for tests, benchmarks and demos.
 *
 * HTTP/1.1 with keep-alive on one poll() loop, optionally TLS (OpenSSL, with the
 * certificate and key given). It accepts domtrace's batched POSTs (one event per body
 * line) and the ancestor's per-event GETs (".../event=VMI:%20<urlencoded event>&&ts=")
 * and appends each event as one line to the output file. A batch whose X-DT-Batch id
 * was already seen from the same X-DT-Sender (a retry of a batch that got through) is
 * answered 200 and not written again. It can answer every request (or the first N)
 * with an error status, or answer slowly. On SIGINT/SIGTERM it prints its counts on
 * stderr and exits.
 *
 * usage: dt-a3-receiver [-l host:port] [-o file] [-r readyfile] [-c cert -k key]
 *                       [-e status [-n count]] [-d delay_ms] [-q]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONNS 64
#define MAX_HEAD 16384
#define MAX_BODY (64u << 20)
#define MAX_SENDERS 64

struct conn {
	int fd;
	SSL *ssl;
	char *in;
	size_t in_len, in_cap;
	char out[256];
	size_t out_len, out_off;
	uint64_t respond_at; /* delayed answer pending: when to send it (ms) */
	bool close_after;
};

static struct {
	int out_fd;
	bool quiet;
	int fail_status;
	long fail_count; /* -1: every request */
	unsigned delay_ms;
	SSL_CTX *tls;
	uint64_t connections, requests, events, duplicates, errors, tls_failures, bad;
	struct {
		char id[40];
		uint64_t last_batch;
	} senders[MAX_SENDERS];
	unsigned nsenders;
} g = { .out_fd = 1, .fail_count = -1 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Read what is available into c->in. <0: the connection is done. */
static int conn_read(struct conn *c)
{
	char *p;
	int n;

	for (;;) {
		if (c->in_cap - c->in_len < 65536) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 131072;

			if (cap > MAX_HEAD + MAX_BODY + 131072)
				return -1;
			p = realloc(c->in, cap);
			if (!p)
				return -1;
			c->in = p;
			c->in_cap = cap;
		}
		if (c->ssl) {
			n = SSL_read(c->ssl, c->in + c->in_len, (int)(c->in_cap - c->in_len - 1));
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);

				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return 0;
				if (!SSL_is_init_finished(c->ssl))
					g.tls_failures++;
				ERR_clear_error();
				return -1;
			}
		} else {
			n = (int)read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			if (n == 0)
				return -1;
		}
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
	}
}

/* Write the pending answer. <0: the connection is done. */
static int conn_flush(struct conn *c)
{
	int n;

	while (c->out_off < c->out_len) {
		if (c->ssl) {
			n = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len - c->out_off));
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);

				ERR_clear_error();
				return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
			}
		} else {
			n = (int)write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return c->close_after ? -1 : 0;
}

static void answer(struct conn *c, int status)
{
	const char *text = status == 200 ? "OK" : status == 400 ? "Bad Request" :
			   status == 411 ? "Length Required" : status == 413 ? "Payload Too Large" : "Error";

	if (status != 200)
		g.errors++;
	c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
				      "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s\r\n", status, text,
				      c->close_after ? "Connection: close\r\n" : "");
	c->out_off = 0;
	c->respond_at = g.delay_ms ? now_ms() + g.delay_ms : 0;
}

/* The value of header `name` in [head, end), copied into buf; false if absent. */
static bool header(const char *head, const char *end, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = head, *e;

	while (p < end) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			n = (size_t)(e - v);
			while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return true;
		}
		p = e + 1;
	}
	return false;
}

/* Whether this (sender, batch) was seen; records it. */
static bool duplicate(const char *sender, const char *batch)
{
	uint64_t id = strtoull(batch, NULL, 10);
	unsigned i;

	for (i = 0; i < g.nsenders; i++)
		if (!strcmp(g.senders[i].id, sender))
			break;
	if (i == g.nsenders) {
		if (g.nsenders == MAX_SENDERS)
			return false;
		snprintf(g.senders[i].id, sizeof(g.senders[i].id), "%s", sender);
		g.nsenders++;
	} else if (id <= g.senders[i].last_batch) {
		return true;
	}
	g.senders[i].last_batch = id;
	return false;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The ancestor's GET: the event is URL-encoded after "VMI:%20" up to "&&ts=". */
static void handle_get(const char *target, char *scratch)
{
	const char *p = strstr(target, "VMI:%20"), *end;
	size_t n = 0;

	if (!p) {
		g.bad++;
		return;
	}
	p += 7;
	end = strstr(p, "&&ts=");
	if (!end)
		end = p + strlen(p);
	for (; p < end; p++) {
		int ch = (unsigned char)*p;

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			ch = hexval(p[1]) * 16 + hexval(p[2]);
			p += 2;
		}
		scratch[n++] = ch == '\n' || ch == '\r' ? ' ' : (char)ch;
	}
	scratch[n++] = '\n';
	write_all(g.out_fd, scratch, n);
	g.events++;
}

/* Count and write the body's lines (the body is ours to modify). */
static void handle_post(char *body, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && body[i] != '\n')
			continue;
		if (i > start)
			g.events++;
		start = i + 1;
	}
	if (len && body[len - 1] != '\n') {
		write_all(g.out_fd, body, len);
		write_all(g.out_fd, "\n", 1);
	} else {
		write_all(g.out_fd, body, len);
	}
}

/* Handle every complete request in c->in (one at a time: answer before the next). */
static int conn_process(struct conn *c)
{
	char method[16], val[64], sender[40] = "", batch[24] = "";
	char *head_end, *line_end, *target, *sp;
	size_t head_len, body_len = 0, total;
	int status = 200;

	if (c->out_len || c->respond_at)
		return 0; /* previous answer still pending */
	if (!c->in_len)
		return 0;
	head_end = strstr(c->in, "\r\n\r\n");
	if (head_end) {
		head_len = (size_t)(head_end - c->in) + 4;
	} else if ((head_end = strstr(c->in, "\n\n"))) { /* the ancestor's bare LFs */
		head_len = (size_t)(head_end - c->in) + 2;
	} else {
		if (c->in_len > MAX_HEAD)
			return -1;
		return 0;
	}
	line_end = memchr(c->in, '\n', head_len);
	if (!line_end || sscanf(c->in, "%15s", method) != 1)
		return -1;
	if (header(line_end + 1, c->in + head_len, "Transfer-Encoding", val, sizeof(val))) {
		c->close_after = true; /* no chunked bodies here: we could not find the end */
		answer(c, 411);
		return 0;
	}
	if (header(line_end + 1, c->in + head_len, "Content-Length", val, sizeof(val)))
		body_len = strtoul(val, NULL, 10);
	if (body_len > MAX_BODY) {
		c->close_after = true;
		answer(c, 413);
		return 0;
	}
	total = head_len + body_len;
	if (c->in_len < total)
		return 0;
	if (header(line_end + 1, c->in + head_len, "Connection", val, sizeof(val)) &&
	    !strcasecmp(val, "close"))
		c->close_after = true;
	header(line_end + 1, c->in + head_len, "X-DT-Sender", sender, sizeof(sender));
	header(line_end + 1, c->in + head_len, "X-DT-Batch", batch, sizeof(batch));
	g.requests++;

	if (g.fail_status && g.fail_count != 0) {
		if (g.fail_count > 0)
			g.fail_count--;
		status = g.fail_status;
	} else if (sender[0] && batch[0] && duplicate(sender, batch)) {
		g.duplicates++;
	} else if (!strcmp(method, "POST")) {
		handle_post(c->in + head_len, body_len);
	} else if (!strcmp(method, "GET")) {
		target = strchr(c->in, ' ');
		sp = target ? strchr(target + 1, ' ') : NULL;
		if (target && sp && sp < line_end) {
			char *scratch = malloc((size_t)(sp - target) + 2);

			*sp = '\0';
			if (scratch)
				handle_get(target + 1, scratch);
			free(scratch);
		} else {
			status = 400;
		}
	} else {
		status = 400;
	}
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	c->in[c->in_len] = '\0';
	answer(c, status);
	return 0;
}

static int listen_on(const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;

	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		sa.sin_port = htons((uint16_t)atoi(colon + 1));
	} else {
		sa.sin_port = htons((uint16_t)atoi(spec));
	}
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: dt-a3-receiver [-l host:port] [-o file] [-r readyfile] "
			"[-c cert -k key] [-e status [-n count]] [-d delay_ms] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *listen_spec = "127.0.0.1:8989", *out = NULL, *ready = NULL;
	const char *cert = NULL, *key = NULL;
	static struct conn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS + 1];
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_in bound;
	socklen_t blen = sizeof(bound);
	int lfd, opt, i;

	while ((opt = getopt(argc, argv, "l:o:r:c:k:e:n:d:q")) != -1) {
		switch (opt) {
		case 'l': listen_spec = optarg; break;
		case 'o': out = optarg; break;
		case 'r': ready = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'e': g.fail_status = atoi(optarg); break;
		case 'n': g.fail_count = atol(optarg); break;
		case 'd': g.delay_ms = (unsigned)atoi(optarg); break;
		case 'q': g.quiet = true; break;
		default: usage();
		}
	}
	if ((cert != NULL) != (key != NULL))
		usage();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (out) {
		g.out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (g.out_fd < 0) {
			perror(out);
			return 1;
		}
	}
	if (cert) {
		g.tls = SSL_CTX_new(TLS_server_method());
		if (!g.tls || SSL_CTX_use_certificate_chain_file(g.tls, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(g.tls, key, SSL_FILETYPE_PEM) != 1) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	lfd = listen_on(listen_spec);
	if (lfd < 0) {
		fprintf(stderr, "dt-a3-receiver: cannot listen on %s: %s\n", listen_spec,
			strerror(errno));
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&bound, &blen);
	if (ready) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(bound.sin_port)) < 0 || fclose(f) ||
		    rename(tmp, ready)) {
			perror(ready);
			return 1;
		}
	}
	if (!g.quiet)
		fprintf(stderr, "dt-a3-receiver: listening on 127.0.0.1:%u%s\n",
			ntohs(bound.sin_port), g.tls ? " (TLS)" : "");
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;

	while (!stop) {
		uint64_t now = now_ms();
		int timeout = 1000, n;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			pfd[i + 1] = (struct pollfd){ .fd = c->fd };
			if (c->fd < 0)
				continue;
			if (c->respond_at) {
				if (c->respond_at <= now)
					timeout = 0;
				else if (c->respond_at - now < (uint64_t)timeout)
					timeout = (int)(c->respond_at - now);
				continue; /* read nothing more until it is answered */
			}
			pfd[i + 1].events = POLLIN | (c->out_len ? POLLOUT : 0);
		}
		n = poll(pfd, MAX_CONNS + 1, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

			for (i = 0; fd >= 0 && i < MAX_CONNS && conns[i].fd >= 0; i++)
				;
			if (fd >= 0 && i == MAX_CONNS) {
				close(fd);
			} else if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				conns[i].fd = fd;
				g.connections++;
				if (g.tls) {
					conns[i].ssl = SSL_new(g.tls);
					if (!conns[i].ssl || SSL_set_fd(conns[i].ssl, fd) != 1)
						conn_close(&conns[i]);
					else
						SSL_set_accept_state(conns[i].ssl);
				}
			}
		}
		now = now_ms();
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			if (c->respond_at && c->respond_at <= now)
				c->respond_at = 0; /* the delay is over: send */
			if (c->respond_at)
				continue;
			if ((pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && conn_read(c) < 0)
				c->close_after = true; /* EOF: answer what came, then close */
			/* answer, then take the next request the client pipelined */
			for (;;) {
				if (c->out_len && !c->respond_at && conn_flush(c) < 0) {
					conn_close(c);
					break;
				}
				if (c->out_len || c->respond_at)
					break;
				if (conn_process(c) < 0) {
					conn_close(c);
					break;
				}
				if (!c->out_len && !c->respond_at) {
					if (c->close_after)
						conn_close(c);
					break;
				}
			}
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	fprintf(stderr,
		"dt-a3-receiver: connections=%" PRIu64 " requests=%" PRIu64 " events=%" PRIu64
		" duplicates=%" PRIu64 " errors=%" PRIu64 " tls_failures=%" PRIu64 " bad=%" PRIu64
		"\n",
		g.connections, g.requests, g.events, g.duplicates, g.errors, g.tls_failures, g.bad);
	SSL_CTX_free(g.tls);
	return 0;
}
