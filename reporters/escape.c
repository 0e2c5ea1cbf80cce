// SPDX-License-Identifier: GPL-2.0-only
/* Growable text buffer and the escapers for guest bytes (reporters/format.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

void dt_buf_free(struct dt_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

bool dt_buf_grow(struct dt_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return false;
	if (b->cap && b->len + n + 1 <= b->cap)
		return true;
	want = b->len + n + 1;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void dt_buf_printf(struct dt_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (!dt_buf_grow(b, 64))
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (!dt_buf_grow(b, (size_t)n)) {
			b->p[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void dt_buf_put_u64(struct dt_buf *b, uint64_t v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	dt_buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void dt_buf_put_i64(struct dt_buf *b, int64_t v)
{
	if (v < 0) {
		dt_buf_putc(b, '-');
		dt_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		dt_buf_put_u64(b, (uint64_t)v);
	}
}

void dt_buf_put_hex(struct dt_buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[24];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = hex[v & 15];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	dt_buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Length (1..4) of the valid UTF-8 sequence at s and its code point, or 0 if the
 * bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF, truncated).
 * s is NUL-terminated, and NUL is never a continuation byte, so reads stay inside. */
static unsigned utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned n, i;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Valid characters that still must not reach a terminal or a line-based reader raw:
 * controls, separators, and invisible/bidi format characters that can make text
 * read differently from what it is. */
static bool dangerous(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x180e ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

static void put_hex_bytes(struct dt_buf *b, const unsigned char *s, unsigned n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	unsigned i, k = 0;

	for (i = 0; i < n; i++) {
		tmp[k++] = '\\';
		tmp[k++] = 'x';
		tmp[k++] = hex[s[i] >> 4];
		tmp[k++] = hex[s[i] & 15];
	}
	dt_buf_put(b, tmp, k);
}

bool dt_esc_text(struct dt_buf *b, const char *str, unsigned flags, size_t max)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	const unsigned char *run = s; /* start of bytes that pass unchanged */
	size_t used = 0;
	uint32_t c;
	unsigned n;

	while (*s) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\' && *s != '"' &&
		    !((flags & DT_ESC_FIELD) && strchr(" ,|[]()=", *s)) && (!max || used < max)) {
			s++;
			used++;
			continue;
		}
		n = utf8_seq(s, &c);
		if (max && used + (n ? n : 1) > max) {
			dt_buf_put(b, run, (size_t)(s - run));
			return true;
		}
		if (n && !dangerous(c) && c != '\\' &&
		    !((flags & DT_ESC_QUOTE) && c == '"') &&
		    !((flags & DT_ESC_FIELD) && c < 0x80 && strchr(" ,|[]()=", (int)c))) {
			s += n;
			used += n;
			continue;
		}
		dt_buf_put(b, run, (size_t)(s - run));
		if (!n) {
			put_hex_bytes(b, s, 1);
			n = 1;
		} else if (c == '\\') {
			dt_buf_puts(b, "\\\\");
		} else if (c == '"') {
			dt_buf_puts(b, "\\\"");
		} else if (c == '\n') {
			dt_buf_puts(b, "\\n");
		} else if (c == '\r') {
			dt_buf_puts(b, "\\r");
		} else if (c == '\t') {
			dt_buf_puts(b, "\\t");
		} else {
			put_hex_bytes(b, s, n);
		}
		s += n;
		used += n;
		run = s;
	}
	dt_buf_put(b, run, (size_t)(s - run));
	return false;
}

void dt_esc_json(struct dt_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	const unsigned char *run = s;
	uint32_t c;
	unsigned n;

	while (*s) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\' && *s != '"') {
			s++;
			continue;
		}
		n = utf8_seq(s, &c);
		if (n && !dangerous(c) && c != '\\' && c != '"') {
			s += n;
			continue;
		}
		dt_buf_put(b, run, (size_t)(s - run));
		if (!n) {
			/* text "\xNN", its backslash JSON-escaped */
			dt_buf_printf(b, "\\\\x%02x", *s);
			n = 1;
		} else if (c == '\\') {
			dt_buf_puts(b, "\\\\\\\\"); /* text "\\" */
		} else if (c == '"') {
			dt_buf_puts(b, "\\\"");
		} else if (c == '\n') {
			dt_buf_puts(b, "\\n");
		} else if (c == '\r') {
			dt_buf_puts(b, "\\r");
		} else if (c == '\t') {
			dt_buf_puts(b, "\\t");
		} else {
			dt_buf_printf(b, "\\u%04x", (unsigned)c); /* all dangerous ones are BMP */
		}
		s += n;
		run = s;
	}
	dt_buf_put(b, run, (size_t)(s - run));
}

void dt_url_encode(struct dt_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	char tmp[3];

	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' || *s == '~') {
			dt_buf_putc(b, (char)*s);
		} else if (*s == ' ') {
			dt_buf_putc(b, '+');
		} else {
			tmp[0] = '%';
			tmp[1] = hex[*s >> 4];
			tmp[2] = hex[*s & 15];
			dt_buf_put(b, tmp, 3);
		}
	}
}
