/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * format.h - reporters' private text renderers: a growable buffer, escaping of guest
 * bytes, and one renderer per output format (log line, JSON line, A3 event string,
 * report-file entry, compat GET target). docs/EVENTS.md describes every format.
 *
 * Every string that came from a guest goes through an escaper here, so no guest can
 * forge a line, a field or a JSON key, or reach the terminal with control bytes.
 * No state; any thread (the reporter thread in practice). The buffer belongs to the
 * caller; on allocation failure it stops growing and sets `oom`.
 */
#ifndef DOMTRACE_REPORTERS_FORMAT_H
#define DOMTRACE_REPORTERS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "domtrace/catalog.h"
#include "domtrace/event.h"

struct dt_buf {
	char *p;    /* NUL-terminated when len > 0 or after any put */
	size_t len; /* bytes used, without the NUL */
	size_t cap;
	bool oom;   /* an append failed: the content is truncated */
};

void dt_buf_free(struct dt_buf *b);			/* frees p; b itself is the caller's */
/* Make room for n more bytes and the NUL; false (and oom set) if it cannot. */
bool dt_buf_grow(struct dt_buf *b, size_t n);

static inline void dt_buf_reset(struct dt_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

static inline void dt_buf_put(struct dt_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap && !dt_buf_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void dt_buf_puts(struct dt_buf *b, const char *s)
{
	dt_buf_put(b, s, strlen(s));
}

static inline void dt_buf_putc(struct dt_buf *b, char c)
{
	if (b->len + 2 > b->cap && !dt_buf_grow(b, 1))
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}
void dt_buf_printf(struct dt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Numbers without printf (the renderers' hot path): decimal, and "0x" + lowercase hex. */
void dt_buf_put_u64(struct dt_buf *b, uint64_t v);
void dt_buf_put_i64(struct dt_buf *b, int64_t v);
void dt_buf_put_hex(struct dt_buf *b, uint64_t v);

/* Escaping flags for dt_esc_text. */
enum {
	DT_ESC_QUOTE = 1u << 0, /* also escape '"' (inside a quoted string) */
	DT_ESC_FIELD = 1u << 1, /* also escape the separators " ,|[]()=" (a bare field) */
};

/* Longest guest string rendered (input bytes); longer ones end in "...". */
#define DT_FMT_STR_MAX 1024

/*
 * Text escaping: printable ASCII and valid UTF-8 pass; backslash -> \\, \n \r \t ->
 * themselves escaped, every other control byte (C0, DEL), C1 controls, line/paragraph
 * separators, bidi and other invisible format characters, and bytes that are not valid
 * UTF-8 -> \xNN per byte. At most `max` input bytes (0: no cap); returns true if the
 * string was cut there (the caller shows it, e.g. "..." after the closing quote).
 */
bool dt_esc_text(struct dt_buf *b, const char *s, unsigned flags, size_t max);

/*
 * JSON string content (without the quotes). The string is first made unambiguous
 * text like dt_esc_text does for backslashes and invalid UTF-8 (backslash -> two
 * backslashes, a bad byte -> the four characters \xNN), then JSON-escaped: '"', '\\',
 * every control character, DEL, C1, U+2028/2029, bidi controls -> \uXXXX or \n etc.
 * The result is valid UTF-8 JSON that jq reads.
 */
void dt_esc_json(struct dt_buf *b, const char *s);

/* The ancestor's url_encode: [A-Za-z0-9-_.~] pass, ' ' -> '+', else %xx (lowercase). */
void dt_url_encode(struct dt_buf *b, const char *s);

/* One log line, with '\n'. `lookup` (optional, normally dt_catalog_get) tells which
 * arguments are guest strings, to print them quoted; without it, a conservative rule
 * is used (format.c). `utc`: timestamps in UTC instead of local time. */
void dt_fmt_log(struct dt_buf *b, const struct dt_event *ev,
		const struct dt_funcdesc *(*lookup)(int func_id), bool utc);
/* One JSON object, with '\n'. */
void dt_fmt_json(struct dt_buf *b, const struct dt_event *ev);
/* The seed's A3 event string ("domain=vm type=match ..."), no newline. Returns false
 * for event types that are not sent to A3 (call, notice). */
bool dt_fmt_a3(struct dt_buf *b, const struct dt_event *ev);
/* Whether an event type goes to A3: match, abort, would-abort, pslist, lost. */
bool dt_fmt_a3_wanted(const struct dt_event *ev);
/* A3 eventtype: "ENF" for abort, "OBS" otherwise. */
const char *dt_fmt_a3_eventtype(const struct dt_event *ev);
/* The ancestor's GET request for one event: `prefix` (the URL up to and including
 * the query key, e.g. "http://h:8989/index.html?op=pub&type=event&event=") followed
 * by "VMI:%20<urlenc(event string)>&&ts=<ms>&origin=VMI&vmid=<urlenc(vm)>&eventtype=..." */
void dt_fmt_a3_get_target(struct dt_buf *b, const struct dt_event *ev, const char *prefix);
/* A report-file entry (-R): "<sec>.<msec>: <event string>\n" and the pid lineage for
 * match/abort/would-abort. Returns false for types not reported (call, pslist). */
bool dt_fmt_report(struct dt_buf *b, const struct dt_event *ev);

#endif /* DOMTRACE_REPORTERS_FORMAT_H */
