// SPDX-License-Identifier: GPL-2.0-only
/* Test helpers: dt-a3-receiver child process, files, JSON checks, test CA. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/a3_receiver.h"

const char *dt_test_receiver_path(void)
{
	static char path[1024];
	const char *bin = getenv("DT_BINARY_DIR");

	snprintf(path, sizeof(path), "%s/dt-a3-receiver", bin ? bin : ".");
	return path;
}

int dt_test_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/dt-test-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(buf) ? 0 : -errno;
}

void dt_test_rmdir(const char *dir)
{
	char path[1024];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dp);
	rmdir(dir);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int dt_test_receiver_start(struct dt_test_receiver *r, const char *dir, unsigned port,
			   const char *const *extra)
{
	const char *argv[32];
	char listen[64];
	unsigned n = 0, i;
	FILE *f;

	snprintf(r->out, sizeof(r->out), "%s/a3-events.txt", dir);
	snprintf(r->err, sizeof(r->err), "%s/a3-receiver.err", dir);
	snprintf(r->ready, sizeof(r->ready), "%s/a3-receiver.port", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	unlink(r->ready);
	argv[n++] = dt_test_receiver_path();
	argv[n++] = "-q";
	argv[n++] = "-l";
	argv[n++] = listen;
	argv[n++] = "-o";
	argv[n++] = r->out;
	argv[n++] = "-r";
	argv[n++] = r->ready;
	for (i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (r->pid == 0) {
		int fd = open(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDWR);

		/* die with the test, and hold none of its pipes: ctest must not wait on us */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (fd >= 0)
			dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) { /* up to 10 s: sanitizer builds start slowly */
		f = fopen(r->ready, "r");
		if (f) {
			int ok = fscanf(f, "%u", &r->port) == 1;

			fclose(f);
			if (ok)
				return 0;
		}
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			r->pid = 0;
			return -ECHILD;
		}
		sleep_ms(10);
	}
	dt_test_receiver_stop(r);
	return -ETIMEDOUT;
}

int dt_test_receiver_stop(struct dt_test_receiver *r)
{
	int st;

	if (r->pid <= 0)
		return -1;
	kill(r->pid, SIGTERM);
	if (waitpid(r->pid, &st, 0) != r->pid)
		st = -1;
	r->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

long dt_test_receiver_count(const struct dt_test_receiver *r, const char *name)
{
	char key[64], *text, *p;
	size_t len;
	long v = -1;

	text = dt_test_read_file(r->err, &len);
	if (!text)
		return -1;
	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(text, key);
	if (p)
		v = strtol(p + strlen(key), NULL, 10);
	free(text);
	return v;
}

char *dt_test_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *p;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

char **dt_test_read_lines(const char *path, size_t *ret_n)
{
	size_t len, n = 0, cap = 0;
	char *text = dt_test_read_file(path, &len), *p, *e, **lines = NULL, **tmp;

	if (!text)
		return NULL;
	for (p = text; p < text + len; p = e + 1) {
		e = memchr(p, '\n', (size_t)(text + len - p));
		if (!e)
			e = text + len;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			tmp = realloc(lines, cap * sizeof(*lines));
			if (!tmp)
				break;
			lines = tmp;
		}
		lines[n] = strndup(p, (size_t)(e - p));
		if (!lines[n])
			break;
		n++;
	}
	free(text);
	*ret_n = n;
	return lines ? lines : calloc(1, sizeof(*lines));
}

void dt_test_free_lines(char **lines, size_t n)
{
	size_t i;

	for (i = 0; lines && i < n; i++)
		free(lines[i]);
	free(lines);
}

/* --- a small strict JSON parser: validation and top-level string lookup --- */

struct jp {
	const unsigned char *s, *end;
	int depth;
};

static void ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int hex4(const unsigned char *s)
{
	int v = 0, i, d;

	for (i = 0; i < 4; i++) {
		d = s[i];
		if (d >= '0' && d <= '9')
			d -= '0';
		else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')
			d = (d | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Parse a string; decode into out (if not NULL, up to cap-1 bytes). */
static bool jstring(struct jp *p, char *out, size_t cap, size_t *ret_len)
{
	size_t n = 0, k;
	char tmp[4];

	if (p->s >= p->end || *p->s != '"')
		return false;
	p->s++;
	while (p->s < p->end && *p->s != '"') {
		unsigned c = *p->s;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (p->s + 1 >= p->end)
				return false;
			c = p->s[1];
			p->s += 2;
			switch (c) {
			case '"': case '\\': case '/': tmp[0] = (char)c; k = 1; break;
			case 'b': tmp[0] = '\b'; k = 1; break;
			case 'f': tmp[0] = '\f'; k = 1; break;
			case 'n': tmp[0] = '\n'; k = 1; break;
			case 'r': tmp[0] = '\r'; k = 1; break;
			case 't': tmp[0] = '\t'; k = 1; break;
			case 'u': {
				int v;

				if (p->end - p->s < 4 || (v = hex4(p->s)) < 0)
					return false;
				p->s += 4;
				if (v >= 0xd800 && v <= 0xdfff)
					return false; /* we never emit surrogates */
				k = put_utf8(tmp, (unsigned)v);
				break;
			}
			default:
				return false;
			}
		} else {
			/* UTF-8 validity */
			unsigned len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
				       c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
			unsigned i, cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0xf : c & 7;

			if (!len || p->end - p->s < (long)len)
				return false;
			for (i = 1; i < len; i++) {
				if ((p->s[i] & 0xc0) != 0x80)
					return false;
				cp = cp << 6 | (p->s[i] & 0x3f);
			}
			if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
			    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x7f)
				return false;
			memcpy(tmp, p->s, len);
			k = len;
			p->s += len;
		}
		if (out && n + k < cap)
			memcpy(out + n, tmp, k);
		n += k;
	}
	if (p->s >= p->end)
		return false;
	p->s++;
	if (out && cap)
		out[n < cap ? n : cap - 1] = '\0';
	if (ret_len)
		*ret_len = n;
	return true;
}

static bool jvalue(struct jp *p);

static bool jnumber(struct jp *p)
{
	const unsigned char *st = p->s;

	if (p->s < p->end && *p->s == '-')
		p->s++;
	if (p->s >= p->end)
		return false;
	if (*p->s == '0')
		p->s++;
	else if (*p->s >= '1' && *p->s <= '9')
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	else
		return false;
	if (p->s < p->end && *p->s == '.') {
		p->s++;
		if (p->s >= p->end || *p->s < '0' || *p->s > '9')
			return false;
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		p->s++;
		if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
			p->s++;
		if (p->s >= p->end || *p->s < '0' || *p->s > '9')
			return false;
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	return p->s > st;
}

static bool jlit(struct jp *p, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, lit, n))
		return false;
	p->s += n;
	return true;
}

static bool jcontainer(struct jp *p, char close, bool object)
{
	p->s++;
	if (++p->depth > 64)
		return false;
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		p->depth--;
		return true;
	}
	for (;;) {
		ws(p);
		if (object) {
			if (!jstring(p, NULL, 0, NULL))
				return false;
			ws(p);
			if (p->s >= p->end || *p->s != ':')
				return false;
			p->s++;
		}
		if (!jvalue(p))
			return false;
		ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			p->depth--;
			return true;
		}
		return false;
	}
}

static bool jvalue(struct jp *p)
{
	ws(p);
	if (p->s >= p->end)
		return false;
	switch (*p->s) {
	case '{': return jcontainer(p, '}', true);
	case '[': return jcontainer(p, ']', false);
	case '"': return jstring(p, NULL, 0, NULL);
	case 't': return jlit(p, "true");
	case 'f': return jlit(p, "false");
	case 'n': return jlit(p, "null");
	default: return jnumber(p);
	}
}

bool dt_test_json_valid(const char *s, size_t len)
{
	struct jp p = { (const unsigned char *)s, (const unsigned char *)s + len, 0 };

	if (!jvalue(&p))
		return false;
	ws(&p);
	return p.s == p.end;
}

long dt_test_json_get_str(const char *json, const char *key, char *buf, size_t len)
{
	struct jp p = { (const unsigned char *)json, (const unsigned char *)json + strlen(json), 0 };
	char k[128];
	size_t n;

	ws(&p);
	if (p.s >= p.end || *p.s != '{')
		return -1;
	p.s++;
	for (;;) {
		ws(&p);
		if (!jstring(&p, k, sizeof(k), NULL))
			return -1;
		ws(&p);
		if (p.s >= p.end || *p.s != ':')
			return -1;
		p.s++;
		ws(&p);
		if (!strcmp(k, key)) {
			if (!jstring(&p, buf, len, &n))
				return -1;
			return (long)n;
		}
		if (!jvalue(&p))
			return -1;
		ws(&p);
		if (p.s >= p.end || *p.s != ',')
			return -1;
		p.s++;
	}
}

/* --- test CA --- */

static int run(const char *cmd)
{
	int st = system(cmd);

	return st == 0 ? 0 : -1;
}

int dt_test_make_ca(const char *dir, const char *name)
{
	char cmd[4096], ext[1024];
	FILE *f;

	snprintf(ext, sizeof(ext), "%s/%s-ext.cnf", dir, name);
	f = fopen(ext, "w");
	if (!f)
		return -1;
	fprintf(f, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
		   "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
		   "extendedKeyUsage=serverAuth\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && "
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=%s test CA' "
		 "-keyout %s-ca.key -out %s-ca.pem >/dev/null 2>&1 && "
		 "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' "
		 "-keyout %s-server.key -out %s-server.csr >/dev/null 2>&1 && "
		 "openssl x509 -req -in %s-server.csr -CA %s-ca.pem -CAkey %s-ca.key "
		 "-CAcreateserial -days 2 -extfile %s-ext.cnf -out %s-server.pem >/dev/null 2>&1",
		 dir, name, name, name, name, name, name, name, name, name, name);
	return run(cmd);
}
