// SPDX-License-Identifier: GPL-2.0-only
/*
 * The A3 sink: events for the A3 monitor, sent by libcurl from the reporter thread.
 *
 * The sink keeps the events it must deliver (match, abort, would-abort, pslist, lost)
 * in a FIFO, so they stay inside the reporter's memory bound until the server has
 * them. One request at a time (per-VM order is the FIFO order), on one easy handle
 * driven by a multi handle, so the reporter never blocks on the network: the reporter
 * sleeps in curl_multi_poll() on the transfer and the queue's eventfd together.
 * A batch is sent when it is full, when its oldest event has waited a3_delay_ms, or
 * at once when stopping. A failed batch (no connection, timeout, 5xx, 408, 429) is
 * retried unchanged after an exponential backoff; other 4xx answers are final: the
 * events are counted as rejected. Each batch carries an id (X-DT-Batch) that stays the
 * same across its retries, so a receiver can drop a batch it already has.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "format.h"
#include "sink.h"

#define DEFAULT_SERVER DT_A3_SERVER_DEFAULT
#define DEFAULT_POST_PATH DT_A3_POST_PATH_DEFAULT
#define DEFAULT_QUERYKEY DT_A3_QUERYKEY_DEFAULT
#define MAX_LOSS_VMS 1024 /* VMs with unannounced A3 loss tracked by name; then pooled */

/* A VM's A3 events dropped because the backlog was full, not announced yet. */
struct vm_loss {
	uint32_t domid;
	char vm[DT_VM_NAME_MAX];
	uint64_t pending;
};

struct a3_sink {
	struct dt_report *r;
	enum dt_report_a3 mode;
	char *url; /* POST: the URL; GET: the prefix each event is appended to */
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];

	/* FIFO of kept events, linked through ev->qnode.next (the queue is done with it) */
	struct dt_event *head, *tail;
	size_t npending, pending_bytes, max_bytes;
	uint64_t first_ms; /* when the oldest pending event came; 0: send at once */
	struct vm_loss *loss;
	size_t nloss;

	/* the batch: the first nbatch events of the FIFO, with its body, kept for retries */
	bool have_batch, busy;
	size_t nbatch;
	struct dt_buf body;
	struct dt_buf get_url;
	uint64_t sender, batch_id;

	unsigned batch_max, delay_ms, backoff_min, backoff_max, backoff;
	size_t batch_bytes;
	uint64_t retry_at;

	_Atomic uint64_t pending, sent, requests, failures, rejected, abandoned, backlog_lost;
	_Atomic size_t backlog_bytes;
	_Atomic long last_http;
	_Atomic int last_curl;
};

static struct dt_event *next_of(struct dt_event *ev)
{
	struct cds_wfcq_node *n = ev->qnode.next;

	return n ? (struct dt_event *)(void *)((char *)n - offsetof(struct dt_event, qnode)) : NULL;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static bool has_scheme(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

static int build_url(struct a3_sink *a, const struct dt_report_opts *o)
{
	const char *server = o->a3_server ? o->a3_server : DEFAULT_SERVER;
	const char *path = o->a3_url;
	CURLU *u;
	int n, err = 0;

	if (!path)
		path = a->mode == DT_REPORT_A3_GET ? DEFAULT_QUERYKEY : DEFAULT_POST_PATH;
	if (has_scheme(path))
		n = asprintf(&a->url, "%s", path);
	else if (strpbrk(server, "/ \t\r\n?#@"))
		return -EINVAL;
	else
		n = asprintf(&a->url, "http://%s%s%s", server, path[0] == '/' ? "" : "/", path);
	if (n < 0) {
		a->url = NULL;
		return -ENOMEM;
	}
	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, a->url, 0) != CURLUE_OK)
		err = -EINVAL;
	curl_url_cleanup(u);
	return err;
}

static void a3_close(void *state);

static int a3_open(struct dt_report *r, const struct dt_report_opts *o, void **ret_state)
{
	struct a3_sink *a = calloc(1, sizeof(*a));
	int err = -ENOMEM;

	if (!a)
		return -ENOMEM;
	a->r = r;
	a->mode = o->a3;
	a->batch_max = a->mode == DT_REPORT_A3_GET ? 1 : (o->a3_batch_max ? o->a3_batch_max : 1);
	a->batch_bytes = o->a3_batch_bytes ? o->a3_batch_bytes : (1u << 20);
	a->delay_ms = o->a3_delay_ms;
	a->max_bytes = o->a3_max_bytes ? o->a3_max_bytes : DT_QUEUE_DEFAULT_BYTES;
	a->backoff_min = o->a3_backoff_min_ms ? o->a3_backoff_min_ms : 1;
	a->backoff_max = o->a3_backoff_max_ms > a->backoff_min ? o->a3_backoff_max_ms
								: a->backoff_min;
	if (getrandom(&a->sender, sizeof(a->sender), GRND_NONBLOCK) != sizeof(a->sender))
		a->sender = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	err = build_url(a, o);
	if (err < 0)
		goto fail;
	err = -ENOMEM;
	a->multi = curl_multi_init();
	a->easy = curl_easy_init();
	if (!a->multi || !a->easy)
		goto fail;
	/* connections are cached in the multi handle: keep-alive across requests */
	curl_multi_setopt(a->multi, CURLMOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, (long)(o->a3_timeout_ms ? o->a3_timeout_ms : 5000));
	curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(a->easy, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(a->easy, CURLOPT_USERAGENT, "domtrace/" DT_VERSION);
	curl_easy_setopt(a->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(a->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->a3_ca_file)
		curl_easy_setopt(a->easy, CURLOPT_CAINFO, o->a3_ca_file);
	if (a->mode == DT_REPORT_A3_GET)
		curl_easy_setopt(a->easy, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(a->easy, CURLOPT_URL, a->url);
	*ret_state = a;
	return 0;
fail:
	a3_close(a);
	return err;
}

/* Append ev to the FIFO (ours now, outside the queue's bound). */
static void keep(struct a3_sink *a, struct dt_event *ev)
{
	ev->qnode.next = NULL;
	if (a->tail)
		a->tail->qnode.next = &ev->qnode;
	else
		a->head = ev;
	a->tail = ev;
	if (!a->npending++)
		a->first_ms = dt_report_now_ms();
	a->pending_bytes += ev->size;
	atomic_store_explicit(&a->backlog_bytes, a->pending_bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&a->pending, 1, memory_order_relaxed);
}

static struct vm_loss *vm_loss_of(struct a3_sink *a, const struct dt_event *ev, bool add)
{
	struct vm_loss *l;
	size_t i;

	for (i = 0; i < a->nloss; i++)
		if (a->loss[i].domid == ev->domid && !strcmp(a->loss[i].vm, ev->vm))
			return &a->loss[i];
	if (!add)
		return NULL;
	if (a->nloss == MAX_LOSS_VMS)
		return &a->loss[MAX_LOSS_VMS - 1]; /* pooled with the last: still counted */
	l = realloc(a->loss, (a->nloss + 1) * sizeof(*l));
	if (!l)
		return a->nloss ? &a->loss[a->nloss - 1] : NULL;
	a->loss = l;
	l = &a->loss[a->nloss++];
	memset(l, 0, sizeof(*l));
	l->domid = ev->domid;
	memcpy(l->vm, ev->vm, sizeof(l->vm));
	return l;
}

/* The VM's unannounced loss becomes a LOST record in the FIFO (past the bound). */
static void announce_vm(struct a3_sink *a, struct vm_loss *l)
{
	struct dt_event *ev;

	if (!l || !l->pending || dt_event_new(DT_EV_LOST, 0, &ev) < 0)
		return;
	ev->lost = l->pending;
	ev->domid = l->domid;
	memcpy(ev->vm, l->vm, sizeof(ev->vm));
	ev->ts_ns = dt_report_realtime_ns();
	l->pending = 0;
	keep(a, ev);
}

static void announce_all(struct a3_sink *a)
{
	size_t i;

	if (a->pending_bytes >= a->max_bytes)
		return;
	for (i = 0; i < a->nloss; i++)
		announce_vm(a, &a->loss[i]);
	a->nloss = 0;
}

static void a3_write_batch(void *state, struct dt_event **evs, size_t n)
{
	struct a3_sink *a = state;
	size_t i;

	for (i = 0; i < n; i++) {
		struct dt_event *ev = evs[i];

		if (!ev || !dt_fmt_a3_wanted(ev))
			continue;
		if (ev->type == DT_EV_LOST && ev->lost_sink && !strcmp(ev->lost_sink, "a3"))
			continue; /* our own loss: we tell the server per VM instead */
		/* the backlog's own bound; LOST records pass, like in the queue */
		if (ev->type != DT_EV_LOST && a->npending &&
		    (ev->size > a->max_bytes || a->pending_bytes > a->max_bytes - ev->size)) {
			struct vm_loss *l = vm_loss_of(a, ev, true);

			if (l)
				l->pending++;
			atomic_fetch_add_explicit(&a->backlog_lost, 1, memory_order_relaxed);
			dt_report_sink_lost(a->r, &dt_sink_a3, 1, "backlog full (%zu bytes)",
					    a->max_bytes);
			continue; /* the reporter frees it */
		}
		announce_vm(a, vm_loss_of(a, ev, false)); /* before this VM's next event */
		evs[i] = NULL; /* ours until delivered */
		dt_report_keep(a->r, ev);
		keep(a, ev);
	}
}

/* Give the first n events back to the reporter. */
static void release(struct a3_sink *a, size_t n)
{
	struct dt_event *ev;
	size_t i;

	for (i = 0; i < n && a->head; i++) {
		ev = a->head;
		a->head = next_of(ev);
		if (!a->head)
			a->tail = NULL;
		a->npending--;
		a->pending_bytes -= ev->size;
		dt_event_free(ev);
	}
	atomic_fetch_sub_explicit(&a->pending, i, memory_order_relaxed);
	atomic_store_explicit(&a->backlog_bytes, a->pending_bytes, memory_order_relaxed);
	a->first_ms = 0; /* whatever is left has waited already */
}

static void build_batch(struct a3_sink *a)
{
	struct dt_event *ev;
	size_t n = 0;

	dt_buf_reset(&a->body);
	for (ev = a->head; ev && n < a->batch_max; ev = next_of(ev)) {
		if (n && a->body.len >= a->batch_bytes)
			break;
		if (a->mode == DT_REPORT_A3_POST_JSON) {
			dt_fmt_json(&a->body, ev);
		} else if (a->mode == DT_REPORT_A3_POST) {
			dt_fmt_a3(&a->body, ev);
			dt_buf_putc(&a->body, '\n');
		}
		n++;
	}
	if (a->mode == DT_REPORT_A3_GET) {
		dt_buf_reset(&a->get_url);
		dt_fmt_a3_get_target(&a->get_url, a->head, a->url);
	}
	a->nbatch = n;
	a->batch_id++;
	a->have_batch = true;
}

static int start_request(struct a3_sink *a)
{
	char h[3][64];
	struct curl_slist *l = NULL, *t;
	unsigned i;

	if ((a->mode == DT_REPORT_A3_GET ? a->get_url.oom : a->body.oom))
		return -ENOMEM;
	snprintf(h[0], sizeof(h[0]), "X-DT-Sender: %016" PRIx64, a->sender);
	snprintf(h[1], sizeof(h[1]), "X-DT-Batch: %" PRIu64, a->batch_id);
	snprintf(h[2], sizeof(h[2]), "X-DT-Events: %zu", a->nbatch);
	for (i = 0; i < 3; i++) {
		t = curl_slist_append(l, h[i]);
		if (!t)
			goto oom;
		l = t;
	}
	if (a->mode != DT_REPORT_A3_GET) {
		t = curl_slist_append(l, a->mode == DT_REPORT_A3_POST_JSON
						 ? "Content-Type: application/x-ndjson"
						 : "Content-Type: text/plain; charset=utf-8");
		if (!t || !(t = curl_slist_append(t, "Expect:")))
			goto oom;
		l = t;
		curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->body.p);
		curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->body.len);
	} else {
		curl_easy_setopt(a->easy, CURLOPT_URL, a->get_url.p);
	}
	curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, l);
	curl_slist_free_all(a->hdrs);
	a->hdrs = l;
	if (curl_multi_add_handle(a->multi, a->easy) != CURLM_OK)
		return -EIO;
	a->busy = true;
	return 0;
oom:
	curl_slist_free_all(l);
	return -ENOMEM;
}

static void failed(struct a3_sink *a)
{
	atomic_fetch_add_explicit(&a->failures, 1, memory_order_relaxed);
	a->backoff = a->backoff ? a->backoff * 2 : a->backoff_min;
	if (a->backoff > a->backoff_max)
		a->backoff = a->backoff_max;
	a->retry_at = dt_report_now_ms() + a->backoff;
}

static void finished(struct a3_sink *a, CURLcode code)
{
	long status = 0;

	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(a->multi, a->easy);
	a->busy = false;
	atomic_fetch_add_explicit(&a->requests, 1, memory_order_relaxed);
	atomic_store_explicit(&a->last_http, status, memory_order_relaxed);
	atomic_store_explicit(&a->last_curl, (int)code, memory_order_relaxed);
	if (code == CURLE_OK && status >= 200 && status < 300) {
		atomic_fetch_add_explicit(&a->sent, a->nbatch, memory_order_relaxed);
		a->backoff = 0;
		a->have_batch = false;
		release(a, a->nbatch);
		dt_report_sink_ok(a->r, &dt_sink_a3);
		announce_all(a);
	} else if (code == CURLE_OK && status >= 400 && status < 500 && status != 408 &&
		   status != 429) {
		/* the server will never take this batch */
		atomic_fetch_add_explicit(&a->rejected, a->nbatch, memory_order_relaxed);
		dt_report_sink_lost(a->r, &dt_sink_a3, a->nbatch, "rejected with HTTP %ld",
				    status);
		a->have_batch = false;
		release(a, a->nbatch);
	} else {
		if (code != CURLE_OK)
			dt_report_sink_failing(a->r, &dt_sink_a3, "%s",
					       a->errbuf[0] ? a->errbuf : curl_easy_strerror(code));
		else
			dt_report_sink_failing(a->r, &dt_sink_a3, "the server answers HTTP %ld",
					       status);
		failed(a);
	}
}

static void progress(struct a3_sink *a)
{
	struct CURLMsg *m;
	int running, left;

	curl_multi_perform(a->multi, &running);
	while ((m = curl_multi_info_read(a->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == a->easy)
			finished(a, m->data.result);
}

static int a3_flush(void *state, bool final)
{
	struct a3_sink *a = state;
	uint64_t now;
	long t = -1;

	if (a->nloss)
		announce_all(a); /* room again: tell the server what it missed */
	if (a->busy)
		progress(a);
	now = dt_report_now_ms();
	if (!a->busy && a->npending && now >= a->retry_at) {
		bool due = final || !a->first_ms || a->npending >= a->batch_max ||
			   a->pending_bytes >= a->batch_bytes || now - a->first_ms >= a->delay_ms;

		if (a->have_batch || due) {
			if (!a->have_batch)
				build_batch(a);
			if (start_request(a) < 0)
				failed(a);
			else
				progress(a);
		}
	}
	if (a->busy) {
		curl_multi_timeout(a->multi, &t);
		return t < 0 || t > 100 ? 100 : (int)t;
	}
	if (!a->npending)
		return -1;
	now = dt_report_now_ms();
	if (now < a->retry_at)
		return (int)(a->retry_at - now);
	if (a->have_batch || !a->first_ms)
		return 0;
	return a->first_ms + a->delay_ms > now ? (int)(a->first_ms + a->delay_ms - now) : 0;
}

static void a3_wait(void *state, int fd, int timeout_ms)
{
	struct a3_sink *a = state;
	struct curl_waitfd w = { .fd = fd, .events = CURL_WAIT_POLLIN };

	curl_multi_poll(a->multi, &w, 1, timeout_ms, NULL);
}

static bool a3_idle(void *state)
{
	struct a3_sink *a = state;

	return !a->npending && !a->busy;
}

static void a3_abandon(void *state)
{
	struct a3_sink *a = state;

	if (a->busy) {
		curl_multi_remove_handle(a->multi, a->easy);
		a->busy = false;
	}
	a->have_batch = false;
	atomic_fetch_add_explicit(&a->abandoned, a->npending, memory_order_relaxed);
	dt_report_sink_lost(a->r, &dt_sink_a3, a->npending, "not delivered before the stop's "
			    "time limit");
	release(a, a->npending);
}

static void a3_stats(void *state, struct dt_report_stats *st)
{
	struct a3_sink *a = state;

	st->a3_pending = atomic_load_explicit(&a->pending, memory_order_relaxed);
	st->a3_sent = atomic_load_explicit(&a->sent, memory_order_relaxed);
	st->a3_requests = atomic_load_explicit(&a->requests, memory_order_relaxed);
	st->a3_failures = atomic_load_explicit(&a->failures, memory_order_relaxed);
	st->a3_rejected = atomic_load_explicit(&a->rejected, memory_order_relaxed);
	st->a3_abandoned = atomic_load_explicit(&a->abandoned, memory_order_relaxed);
	st->a3_backlog_lost = atomic_load_explicit(&a->backlog_lost, memory_order_relaxed);
	st->a3_backlog_bytes = atomic_load_explicit(&a->backlog_bytes, memory_order_relaxed);
	st->a3_last_http = atomic_load_explicit(&a->last_http, memory_order_relaxed);
	st->a3_last_curl = atomic_load_explicit(&a->last_curl, memory_order_relaxed);
}

static void a3_close(void *state)
{
	struct a3_sink *a = state;

	if (!a)
		return;
	if (a->npending)
		a3_abandon(a);
	if (a->multi && a->easy && a->busy)
		curl_multi_remove_handle(a->multi, a->easy);
	curl_easy_cleanup(a->easy);
	curl_multi_cleanup(a->multi);
	curl_slist_free_all(a->hdrs);
	dt_buf_free(&a->body);
	dt_buf_free(&a->get_url);
	free(a->loss);
	free(a->url);
	free(a);
}

const struct dt_sink_ops dt_sink_a3 = {
	.name = "a3",
	.open = a3_open,
	.write_batch = a3_write_batch,
	.flush = a3_flush,
	.wait = a3_wait,
	.idle = a3_idle,
	.abandon = a3_abandon,
	.stats = a3_stats,
	.close = a3_close,
};
