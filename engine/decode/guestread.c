// SPDX-License-Identifier: GPL-2.0-only
/* Bounded string building and bounded guest reads for the decoders. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define GUEST_PAGE 4096u

void dt_sb_init(struct dt_sbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	sb->trunc = false;
	buf[0] = '\0';
}

void dt_sb_putmem(struct dt_sbuf *sb, const void *p, size_t n)
{
	size_t room = sb->cap - 1 - sb->len;

	if (n > room) {
		n = room;
		sb->trunc = true;
	}
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void dt_sb_putc(struct dt_sbuf *sb, char c)
{
	dt_sb_putmem(sb, &c, 1);
}

void dt_sb_puts(struct dt_sbuf *sb, const char *s)
{
	dt_sb_putmem(sb, s, strlen(s));
}

void dt_sb_printf(struct dt_sbuf *sb, const char *fmt, ...)
{
	size_t room = sb->cap - sb->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->buf[sb->len] = '\0';
		sb->trunc = true;
		return;
	}
	if ((size_t)n >= room) {
		sb->len = sb->cap - 1;
		sb->trunc = true;
		return;
	}
	sb->len += (size_t)n;
}

void dt_sb_escaped(struct dt_sbuf *sb, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n && !sb->trunc; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			dt_sb_puts(sb, "\\\"");
			break;
		case '\\':
			dt_sb_puts(sb, "\\\\");
			break;
		case '\n':
			dt_sb_puts(sb, "\\n");
			break;
		case '\t':
			dt_sb_puts(sb, "\\t");
			break;
		case '\r':
			dt_sb_puts(sb, "\\r");
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				dt_sb_putc(sb, (char)c);
			else
				dt_sb_printf(sb, "\\x%02x", c);
		}
	}
}

void dt_sb_flags(struct dt_sbuf *sb, const struct dt_flagname *tab, size_t n, uint64_t v,
		 const char *zero)
{
	bool first = true;
	size_t i;

	if (v == 0) {
		dt_sb_puts(sb, zero);
		return;
	}
	for (i = 0; i < n && v; i++) {
		if (tab[i].val == 0 || (v & tab[i].val) != tab[i].val)
			continue;
		if (!first)
			dt_sb_putc(sb, '|');
		dt_sb_puts(sb, tab[i].name);
		v &= ~tab[i].val;
		first = false;
	}
	if (v)
		dt_sb_printf(sb, "%s%#llx", first ? "" : "|", (unsigned long long)v);
}

enum dt_gread dt_gread_some(const struct dt_guest_mem *mem, uint64_t va, void *buf, size_t len,
			    size_t *ret_n)
{
	ssize_t n;

	*ret_n = 0;
	if (len == 0)
		return DT_GR_OK;
	if (va + len < va) /* wraps around the address space */
		return DT_GR_UNREADABLE;
	n = mem->read(mem->ctx, va, buf, len);
	if (n < 0 || (size_t)n > len) /* a backend returning more than asked is broken */
		return DT_GR_UNREADABLE;
	*ret_n = (size_t)n;
	return (size_t)n == len ? DT_GR_OK : DT_GR_NOT_PRESENT;
}

enum dt_gread dt_gread_all(const struct dt_guest_mem *mem, uint64_t va, void *buf, size_t len)
{
	size_t n;

	return dt_gread_some(mem, va, buf, len, &n);
}

enum dt_gread dt_gread_str(const struct dt_guest_mem *mem, uint64_t va, char *buf, size_t cap,
			   size_t *ret_len, bool *ret_trunc)
{
	size_t got = 0, max = cap - 1;

	*ret_len = 0;
	*ret_trunc = false;
	buf[0] = '\0';
	/* page by page: a short string costs one page, not DT_STR_MAX bytes */
	while (got < max) {
		size_t chunk = GUEST_PAGE - (size_t)((va + got) % GUEST_PAGE), n;
		enum dt_gread st;
		char *nul;

		if (chunk > max - got)
			chunk = max - got;
		st = dt_gread_some(mem, va + got, buf + got, chunk, &n);
		nul = memchr(buf + got, '\0', n);
		if (nul) {
			*ret_len = (size_t)(nul - buf);
			return DT_GR_OK;
		}
		got += n;
		buf[got] = '\0';
		if (st != DT_GR_OK)
			return st;
	}
	*ret_len = got;
	*ret_trunc = true;
	return DT_GR_OK;
}
