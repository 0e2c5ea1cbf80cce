// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decoding a guest kernel's kallsyms tables from its memory (kallsyms.h). The search:
 *  1. scan for kallsyms_token_index: 256 u16, 0 first, each step a token's length + 1,
 *     8-aligned; kallsyms_token_table is the 256 NUL-terminated tokens just before it
 *     (every kernel generation emits the two together);
 *  2. kallsyms_markers ends at the token table (8- or 4-byte entries, 0 first, growing);
 *  3. kallsyms_num_syms and kallsyms_names precede the markers: the count must fit the
 *     number of markers and the names must decode to exactly the markers' offsets and end
 *     where the markers begin;
 *  4. the addresses: before num_syms (<= 6.1) or after the token index (6.4+), absolute
 *     or relative to kallsyms_relative_base; the reading that is sorted, inside the
 *     kernel image and consistent with LSTAR and the tables' own symbols wins.
 * Everything read is copied into bounded local buffers first; unreadable pages read as
 * zeros, which no table accepts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_internal.h"
#include "guest/kallsyms.h"

#define KIMAGE_START 0xffffffff80000000ull
#define KIMAGE_END 0xffffffffc0000000ull
#define ALIGN_2M (2ull << 20)
#define PAGE 4096ull
#define ABS_MAX 0x100000000ull			     /* absolute (per-cpu) values below */
#define TOKEN_MAX 128				     /* longest token accepted */
#define INDEX_BYTES 512				     /* 256 u16 */
#define CHUNK (64u << 10)			     /* scan read size */
#define CANDIDATES_MAX 32			     /* token indexes tried */
#define NUMSYMS_TRIES_MAX 16			     /* num_syms candidates fully decoded */
#define GROUP_MAX (256u * (2 + DT_SYM_NAME_MAX))  /* bytes of 256 compressed names */
#define MARKERS_MAX (DT_KALLSYMS_SYMS_MAX / 256)
#define NAMES_TEXT_MAX (256u << 20)		     /* decoded names kept at most */
#define SEQS_BETWEEN_MAX (1u << 20)		     /* symbols, seqs_of_names in between */
#define READ_BUDGET (512ull << 20)		     /* guest bytes read in all, at most */
#define BANNER_PREFIX "Linux version "

struct ks {
	const struct dt_kallsyms_mem *mem;
	uint64_t lo; /* the scan's start: every table is in .rodata, above it */
	uint64_t lstar;
	struct dt_kallsyms_info info;
	char why[256]; /* the furthest the search got, for the refusal */
	int why_depth;

	/* the found tables */
	uint16_t idx[256];
	char tok[256][TOKEN_MAX + 1];
	uint8_t toklen[256];
	uint64_t *marks;
	uint32_t nmarks;
	uint32_t n;
	/* decoded: "Tname\0" per symbol, offsets into text */
	char *text;
	size_t text_len, text_cap;
	uint32_t *name_off;
	uint64_t *addr;
};

static void why(struct ks *k, int depth, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void why(struct ks *k, int depth, const char *fmt, ...)
{
	va_list ap;

	if (depth < k->why_depth)
		return;
	k->why_depth = depth;
	va_start(ap, fmt);
	vsnprintf(k->why, sizeof(k->why), fmt, ap);
	va_end(ap);
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

static bool in_image(uint64_t a)
{
	return a >= KIMAGE_START && a < KIMAGE_END;
}

static bool is_namechar(char c)
{
	return c > ' ' && c < 0x7f;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * len bytes at va into buf; unreadable pages become zeros. Returns the bytes really read,
 * or -ENODEV (the domain is gone). A range that wraps reads as zeros.
 */
static ssize_t fill(struct ks *k, uint64_t va, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0, got = 0;

	/* hostile tables can send every candidate to a new place: the total is bounded */
	if (va + len < va || !dt_kernel_addr(va) || k->info.scanned + len > READ_BUDGET) {
		memset(buf, 0, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = k->mem->read(k->mem->ctx, va + done, p + done, len - done);

		if (n == -ENODEV)
			return n;
		if (n < 0)
			n = 0;
		if ((size_t)n > len - done)
			n = (ssize_t)(len - done); /* a backend that says more than asked */
		k->info.scanned += (uint64_t)n;
		got += (size_t)n;
		done += (size_t)n;
		if (done < len) {
			size_t skip = PAGE - ((va + done) & (PAGE - 1));

			if (skip > len - done)
				skip = len - done;
			memset(p + done, 0, skip);
			done += skip;
		}
	}
	return (ssize_t)got;
}

/* A plausible kallsyms_token_index at p. */
static bool index_ok(const uint8_t *p, uint16_t idx[256])
{
	int i;

	memcpy(idx, p, INDEX_BYTES);
	if (idx[0] != 0 || idx[1] < 1 || idx[1] > TOKEN_MAX + 1)
		return false;
	for (i = 1; i < 256; i++)
		if (idx[i] <= idx[i - 1] || idx[i] - idx[i - 1] > TOKEN_MAX + 1)
			return false;
	return true;
}

/* The 256 tokens at buf[off..], the last ending (8-aligned) exactly at buf[len]. */
static bool tokens_at(struct ks *k, const uint8_t *buf, size_t len, size_t off)
{
	size_t s, e;
	int i;

	for (i = 0; i < 256; i++) {
		s = off + k->idx[i];
		if (i < 255) {
			e = off + k->idx[i + 1] - 1;
		} else {
			for (e = s; e < len && buf[e]; e++)
				;
		}
		if (e >= len || buf[e] || e - s > TOKEN_MAX)
			return false;
		if (i == 255) {
			/* zero padding up to the 8-aligned index */
			if (len - (e + 1) >= 8)
				return false;
			for (size_t j = e + 1; j < len; j++)
				if (buf[j])
					return false;
		}
		for (size_t j = s; j < e; j++)
			if (!is_namechar((char)buf[j]))
				return false;
		memcpy(k->tok[i], buf + s, e - s);
		k->tok[i][e - s] = '\0';
		k->toklen[i] = (uint8_t)(e - s);
	}
	return true;
}

/* The token table that ends at the index found at I. */
static int find_tokens(struct ks *k, uint64_t I)
{
	size_t span = (size_t)k->idx[255] + TOKEN_MAX + 16, off;
	uint64_t base = (I - span) & ~7ull;
	uint8_t *buf;
	ssize_t r;

	span = (size_t)(I - base);
	buf = malloc(span);
	if (!buf)
		return -ENOMEM;
	r = fill(k, base, buf, span);
	if (r < 0) {
		free(buf);
		return (int)r;
	}
	/* candidates from the nearest: T + idx[255] + last token + NUL, padded, is I */
	for (size_t step = 0; (size_t)k->idx[255] + 1 + step * 8 <= span; step++) {
		off = ((span - k->idx[255] - 1) & ~(size_t)7) - step * 8;
		if (span - off > (size_t)k->idx[255] + TOKEN_MAX + 9)
			break;
		if (tokens_at(k, buf, span, off)) {
			k->info.token_table = base + off;
			k->info.token_index = I;
			free(buf);
			return 0;
		}
	}
	free(buf);
	return -ENOENT;
}

/* kallsyms_markers of width w ending at E: 0 first, strictly growing. */
static int find_markers(struct ks *k, uint64_t E, unsigned w)
{
	size_t span = (size_t)MARKERS_MAX * w + 8, p, c = 0, i;
	uint64_t base, prev = 0, v;
	uint8_t *buf;
	ssize_t r;

	if (E < k->lo + w)
		return -ENOENT;
	if (E - k->lo < span)
		span = (size_t)(E - k->lo);
	base = E - span;
	buf = malloc(span);
	if (!buf)
		return -ENOMEM;
	r = fill(k, base, buf, span);
	if (r < 0) {
		free(buf);
		return (int)r;
	}
	for (p = span - w;; p -= w) {
		v = w == 8 ? get64(buf + p) : get32(buf + p);
		if (v > DT_KALLSYMS_NAMES_MAX)
			goto bad;
		if (c && (v >= prev || prev - v < 512 || prev - v > GROUP_MAX))
			goto bad;
		c++;
		prev = v;
		if (!v)
			break;
		if (c >= MARKERS_MAX || p < w)
			goto bad;
	}
	free(k->marks);
	k->marks = malloc(c * sizeof(*k->marks));
	if (!k->marks) {
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < c; i++)
		k->marks[i] = w == 8 ? get64(buf + p + i * w) : get32(buf + p + i * w);
	k->nmarks = (uint32_t)c;
	k->info.markers = base + p;
	k->info.marker_size = (uint8_t)w;
	free(buf);
	return 0;
bad:
	free(buf);
	return -ENOENT;
}

/* One name's compressed length at names[off]: ULEB128, one or two bytes. */
static bool name_len(const uint8_t *names, size_t size, size_t off, size_t *ret_len,
		     size_t *ret_hdr)
{
	size_t len;

	if (off >= size)
		return false;
	len = names[off];
	*ret_hdr = 1;
	if (len & 0x80) {
		if (off + 1 >= size || names[off + 1] & 0x80)
			return false;
		len = (len & 0x7f) | (size_t)names[off + 1] << 7;
		*ret_hdr = 2;
	}
	if (!len || len >= DT_SYM_NAME_MAX || off + *ret_hdr + len > size)
		return false;
	*ret_len = len;
	return true;
}

/* The names from the last marker on must end, padded to 8, at the markers. */
static bool last_group_fits(struct ks *k, const uint8_t *names, size_t size, uint32_t n)
{
	size_t off = (size_t)k->marks[k->nmarks - 1], len, hdr;
	uint32_t i;

	for (i = 256 * (k->nmarks - 1); i < n; i++) {
		if (!name_len(names, size, off, &len, &hdr))
			return false;
		off += hdr + len;
	}
	if (size - off >= 8)
		return false;
	for (; off < size; off++)
		if (names[off])
			return false;
	return true;
}

static int text_put(struct ks *k, const char *s, size_t len)
{
	if (k->text_len + len > k->text_cap) {
		size_t cap = k->text_cap ? k->text_cap * 2 : 1 << 16;
		char *nt;

		while (cap < k->text_len + len)
			cap *= 2;
		if (cap > NAMES_TEXT_MAX)
			return -E2BIG;
		nt = realloc(k->text, cap);
		if (!nt)
			return -ENOMEM;
		k->text = nt;
		k->text_cap = cap;
	}
	memcpy(k->text + k->text_len, s, len);
	k->text_len += len;
	return 0;
}

/* Every name, checked against every marker; "Tname\0" into k->text. */
static int decode_names(struct ks *k, const uint8_t *names, size_t size, uint32_t n)
{
	char name[DT_SYM_NAME_MAX + TOKEN_MAX + 1];
	size_t off = 0, len, hdr, j, nl;
	uint32_t i;
	int r;

	free(k->name_off);
	k->name_off = malloc((size_t)n * sizeof(*k->name_off));
	if (!k->name_off)
		return -ENOMEM;
	k->text_len = 0;
	for (i = 0; i < n; i++) {
		if (!(i % 256) && off != k->marks[i / 256])
			return -EINVAL;
		if (!name_len(names, size, off, &len, &hdr))
			return -EINVAL;
		off += hdr;
		nl = 0;
		for (j = 0; j < len; j++) {
			uint8_t t = names[off + j];

			memcpy(name + nl, k->tok[t], k->toklen[t]);
			nl += k->toklen[t];
			if (nl >= DT_SYM_NAME_MAX)
				return -EINVAL;
		}
		off += len;
		/* a type letter, then a name */
		if (nl < 2 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
			return -EINVAL;
		name[nl] = '\0';
		if (k->text_len > UINT32_MAX - nl - 1)
			return -E2BIG;
		k->name_off[i] = (uint32_t)k->text_len;
		r = text_put(k, name, nl + 1);
		if (r)
			return r;
	}
	return 0;
}

/* num_syms and names before the markers: every candidate count in bounds is tried. */
static int find_names(struct ks *k)
{
	uint64_t M = k->info.markers, m_last = k->marks[k->nmarks - 1];
	uint64_t lo_n = 256ull * (k->nmarks - 1) + 1, hi_n = 256ull * k->nmarks;
	size_t span = (size_t)(m_last + GROUP_MAX + 16), p;
	uint64_t base = (M - span) & ~7ull;
	unsigned tries = 0;
	uint8_t *buf;
	ssize_t rr;
	int r = -ENOENT;

	if (hi_n > DT_KALLSYMS_SYMS_MAX)
		hi_n = DT_KALLSYMS_SYMS_MAX;
	if (M < k->lo || M - k->lo < m_last + 32)
		return -ENOENT;
	if (base < k->lo)
		base = (k->lo + 7) & ~7ull;
	span = (size_t)(M - base);
	if (span > DT_KALLSYMS_NAMES_MAX + GROUP_MAX + 16 || !dt_kernel_addr(base))
		return -ENOENT;
	buf = malloc(span);
	if (!buf)
		return -ENOMEM;
	rr = fill(k, base, buf, span);
	if (rr < 0) {
		free(buf);
		return (int)rr;
	}
	/* P = &num_syms: below the first marked name, above the largest names */
	for (p = (size_t)((M - m_last - 10 - base) & ~7ull); p + 8 > 8; p -= 8) {
		uint32_t n = get32(buf + p);
		size_t nsize = span - (p + 8);

		if (n >= lo_n && n <= hi_n && !get32(buf + p + 4) &&
		    last_group_fits(k, buf + p + 8, nsize, n)) {
			r = decode_names(k, buf + p + 8, nsize, n);
			if (r == 0) {
				k->n = n;
				k->info.num_syms = n;
				k->info.num_syms_va = base + p;
				k->info.names = base + p + 8;
				break;
			}
			if (r != -EINVAL)
				break;
			r = -ENOENT;
			if (++tries >= NUMSYMS_TRIES_MAX)
				break;
		}
		if (p < 8)
			break;
	}
	free(buf);
	return r;
}

static const char *sym_name(const struct ks *k, uint32_t i)
{
	return k->text + k->name_off[i] + 1;
}

static bool find_sym(const struct ks *k, const char *name, uint64_t *ret)
{
	uint32_t i;

	for (i = 0; i < k->n; i++) {
		if (!strcmp(sym_name(k, i), name)) {
			*ret = k->addr[i];
			return true;
		}
	}
	return false;
}

/* The symbols every kernel has, where the tables and LSTAR say they are. */
static bool semantics_ok(struct ks *k, int depth)
{
	static const char *const need[] = { "entry_SYSCALL_64", "sys_call_table", "linux_banner",
					    "init_task" };
	static const struct {
		const char *name;
		size_t off;
	} self[] = {
		{ "kallsyms_token_table", offsetof(struct dt_kallsyms_info, token_table) },
		{ "kallsyms_token_index", offsetof(struct dt_kallsyms_info, token_index) },
		{ "kallsyms_names", offsetof(struct dt_kallsyms_info, names) },
		{ "kallsyms_markers", offsetof(struct dt_kallsyms_info, markers) },
		{ "kallsyms_num_syms", offsetof(struct dt_kallsyms_info, num_syms_va) },
	};
	uint64_t a, want;
	size_t i;

	if (!find_sym(k, "_text", &a) && !find_sym(k, "_stext", &a)) {
		why(k, depth, "no _text or _stext among its %u symbols", k->n);
		return false;
	}
	if (!in_image(a)) {
		why(k, depth, "_text at 0x%llx is not in the kernel image", (unsigned long long)a);
		return false;
	}
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!find_sym(k, need[i], &a) || !in_image(a)) {
			why(k, depth, "no %s in the kernel image among its %u symbols", need[i], k->n);
			return false;
		}
	}
	(void)find_sym(k, "entry_SYSCALL_64", &a);
	if (in_image(k->lstar) && a != k->lstar) {
		why(k, depth, "entry_SYSCALL_64 at 0x%llx, but LSTAR is 0x%llx",
		    (unsigned long long)a, (unsigned long long)k->lstar);
		return false;
	}
	for (i = 0; i < sizeof(self) / sizeof(self[0]); i++) {
		memcpy(&want, (const char *)&k->info + self[i].off, sizeof(want));
		if (find_sym(k, self[i].name, &a) && a != want) {
			why(k, depth, "%s listed at 0x%llx but found at 0x%llx", self[i].name,
			    (unsigned long long)a, (unsigned long long)want);
			return false;
		}
	}
	return true;
}

/* Sorted, every value absolute (small) or in the kernel image, some in it. */
static bool addrs_ok(const uint64_t *a, uint32_t n)
{
	bool image = false;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (i && a[i] < a[i - 1])
			return false;
		if (in_image(a[i]))
			image = true;
		else if (a[i] >= ABS_MAX)
			return false;
	}
	return image;
}

/* kallsyms_seqs_of_names: a permutation of the symbols, 3-byte big-endian indexes (or
 * u32 as first merged in 6.2). */
static bool seqs_ok(struct ks *k, uint64_t va, unsigned width)
{
	size_t size = (size_t)k->n * width, i;
	uint8_t *buf = malloc(size), *seen = calloc((k->n + 7) / 8, 1);
	bool ok = buf && seen && fill(k, va, buf, size) == (ssize_t)size;

	for (i = 0; ok && i < k->n; i++) {
		const uint8_t *e = buf + width * i;
		uint32_t s = width == 4 ? get32(e) : (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2];

		if (s >= k->n || seen[s / 8] & (1u << (s % 8)))
			ok = false;
		else
			seen[s / 8] |= (uint8_t)(1u << (s % 8));
	}
	free(buf);
	free(seen);
	return ok;
}

/* The address tables, every known place and reading. */
static int find_addrs(struct ks *k)
{
	struct place {
		bool rel, first;
		uint64_t addrs, base;
	} cand[4];
	uint64_t n = k->n, P = k->info.num_syms_va, tail = k->info.token_index + INDEX_BYTES;
	size_t size, c, i;
	uint8_t *buf;
	int mode, r = -ENOENT;

	cand[0] = (struct place){ true, false, P - 8 - align8(4 * n), P - 8 };
	cand[1] = (struct place){ true, true, tail, tail + align8(4 * n) };
	cand[2] = (struct place){ false, false, P - 8 * n, 0 };
	cand[3] = (struct place){ false, true, tail, 0 };
	free(k->addr);
	k->addr = malloc(n * sizeof(*k->addr));
	buf = malloc(n * 8);
	if (!k->addr || !buf) {
		free(buf);
		return -ENOMEM;
	}
	for (c = 0; c < 4 && r == -ENOENT; c++) {
		uint64_t base = 0;
		ssize_t rr;

		size = (size_t)n * (cand[c].rel ? 4 : 8);
		rr = fill(k, cand[c].addrs, buf, size);
		if (rr < 0) {
			r = (int)rr;
			break;
		}
		if ((size_t)rr != size)
			continue;
		if (cand[c].rel) {
			if (fill(k, cand[c].base, &base, 8) != 8 || !in_image(base))
				continue;
		}
		for (mode = 0; mode < (cand[c].rel ? 2 : 1); mode++) {
			for (i = 0; i < n; i++) {
				if (!cand[c].rel) {
					k->addr[i] = get64(buf + 8 * i);
				} else {
					int32_t o = (int32_t)get32(buf + 4 * i);

					/* mode 0: --absolute-percpu (x86-64 SMP up to 6.14) */
					if (mode == 1)
						k->addr[i] = base + (uint32_t)o;
					else if (o >= 0)
						k->addr[i] = (uint64_t)o;
					else
						k->addr[i] = base - 1 - (uint64_t)(int64_t)o;
				}
			}
			if (!addrs_ok(k->addr, k->n)) {
				why(k, 3, "token table at 0x%llx, %u names: no sorted address table",
				    (unsigned long long)k->info.token_table, k->n);
				continue;
			}
			k->info.relative = cand[c].rel;
			k->info.absolute_percpu = cand[c].rel && mode == 0;
			k->info.tables_first = cand[c].first;
			k->info.addrs = cand[c].addrs;
			if (!semantics_ok(k, 4))
				continue;
			if (cand[c].first)
				k->info.seqs_of_names =
					seqs_ok(k, cand[c].rel ? cand[c].base + 8 : tail + 8 * n, 3);
			r = 0;
			break;
		}
	}
	free(buf);
	return r;
}

static int names_and_addrs(struct ks *k)
{
	int r;

	why(k, 2, "token table at 0x%llx, %u markers: no kallsyms_num_syms/names that decode to them",
	    (unsigned long long)k->info.token_table, k->nmarks);
	r = find_names(k);
	return r ? r : find_addrs(k);
}

/*
 * kallsyms_seqs_of_names between the markers and the token table: 6.2/6.3, and 6.1.y
 * stable kernels (Debian 12's 6.1 has it). Its size (3 or 4 bytes a symbol) says how many
 * symbols there are, hence how many markers end where it starts: a cheap test at each
 * 8-aligned start, a full one only where the first and last markers read right.
 */
struct seqs_try {
	const uint8_t *buf; /* [base, T) */
	uint64_t base;
	size_t win;
	unsigned full; /* full tries so far */
};

/* seqs of sw-byte entries for n symbols starting at buf[s]. */
static int seqs_at(struct ks *k, struct seqs_try *st, size_t s, unsigned sw, uint64_t n)
{
	uint64_t c = (n + 255) / 256;
	unsigned w;
	size_t j;
	int r;

	for (j = s + sw * n; j < st->win; j++)
		if (st->buf[j])
			return -ENOENT;
	for (w = 4; w <= 8; w += 4) {
		size_t e = s;

		if (w == 4 && (c & 1) && s >= 4 && !get32(st->buf + s - 4))
			e = s - 4; /* an odd count of u32 markers, padded */
		if (e < c * w + w ||
		    (w == 8 ? get64(st->buf + e - c * w) : get32(st->buf + e - c * w)))
			continue;
		if (c > 1 && !(w == 8 ? get64(st->buf + e - w) : get32(st->buf + e - w)))
			continue;
		if (++st->full > CANDIDATES_MAX)
			return -E2BIG;
		r = find_markers(k, st->base + e, w);
		if (r == 0 && k->nmarks != c)
			r = -ENOENT;
		if (r == 0)
			r = find_names(k);
		if (r == 0 && (k->n != n || !seqs_ok(k, st->base + s, sw)))
			r = -ENOENT;
		if (r == 0) {
			k->info.seqs_of_names = true;
			r = find_addrs(k);
		}
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

static int seqs_window(struct ks *k, size_t win)
{
	uint64_t T = k->info.token_table, n;
	size_t d;
	struct seqs_try st = { 0 };
	uint8_t *buf;
	unsigned sw;
	ssize_t rr;
	int r = -ENOENT;

	if (T < k->lo + 32)
		return -ENOENT;
	if (T - k->lo < win)
		win = (size_t)(T - k->lo);
	st.base = (T - win + 7) & ~7ull;
	st.win = (size_t)(T - st.base);
	buf = malloc(st.win);
	if (!buf)
		return -ENOMEM;
	rr = fill(k, st.base, buf, st.win);
	if (rr < 0) {
		free(buf);
		return (int)rr;
	}
	st.buf = buf;
	/* d = T - start of seqs_of_names; the entries end, zero-padded to 8, at T */
	for (d = 8; d + 16 <= st.win && r == -ENOENT; d += 8) {
		/* past 256 symbols the last marker, just before S, is not 0 */
		if (d >= 4 * 257 && !get64(st.buf + st.win - d - 8))
			continue;
		for (sw = 3; sw <= 4 && r == -ENOENT; sw++)
			for (n = d / sw; n && d - sw * n < 8 && r == -ENOENT; n--)
				if (n <= DT_KALLSYMS_SYMS_MAX)
					r = seqs_at(k, &st, st.win - d, sw, n);
	}
	free(buf);
	return r;
}

/* Up to SEQS_BETWEEN_MAX symbols (a real vmlinux has 100-200 k). */
static int find_seqs_between(struct ks *k)
{
	int r = seqs_window(k, 3ull * SEQS_BETWEEN_MAX + 8ull * MARKERS_MAX + 32);

	return r == -E2BIG ? -ENOENT : r;
}

/* Tables anchored at a token index candidate at I. */
static int try_index(struct ks *k, uint64_t I)
{
	int r;

	r = find_tokens(k, I);
	if (r)
		return r;
	why(k, 1, "token table at 0x%llx: no kallsyms_markers before it",
	    (unsigned long long)k->info.token_table);
	/* markers of either width ending at the token table, u32 ones maybe followed by 4
	 * bytes of padding (which alone would read as one marker, 0): each reading is
	 * taken only if names and addresses agree with it */
	r = find_markers(k, k->info.token_table, 8);
	if (r == 0)
		r = names_and_addrs(k);
	if (r == -ENOENT && (r = find_markers(k, k->info.token_table - 4, 4)) == 0)
		r = names_and_addrs(k);
	if (r == -ENOENT && (r = find_markers(k, k->info.token_table, 4)) == 0)
		r = names_and_addrs(k);
	if (r == -ENOENT)
		r = find_seqs_between(k);
	return r;
}

static int scan(struct ks *k, uint64_t start, uint64_t len)
{
	uint64_t va = (start + 7) & ~7ull, end = start + len;
	unsigned tried = 0;
	uint8_t *buf = malloc(CHUNK);
	int r = -ENOENT;

	if (!buf)
		return -ENOMEM;
	if (end < start)
		end = UINT64_MAX;
	while (va < end && va >= start && r == -ENOENT && tried < CANDIDATES_MAX &&
	       k->info.scanned < READ_BUDGET) {
		size_t want = end - va < CHUNK ? (size_t)(end - va) : CHUNK, off;
		ssize_t n = k->mem->read(k->mem->ctx, va, buf, want);

		if (n == -ENODEV) {
			r = -ENODEV;
			break;
		}
		if (n > (ssize_t)want)
			n = (ssize_t)want;
		if (n > 0)
			k->info.scanned += (uint64_t)n;
		for (off = 0; n > 0 && off + INDEX_BYTES <= (size_t)n; off += 8) {
			if (buf[off] || buf[off + 1] || !index_ok(buf + off, k->idx))
				continue;
			r = try_index(k, va + off);
			if (r != -ENOENT || ++tried >= CANDIDATES_MAX)
				break;
		}
		if (n < (ssize_t)want) /* a hole: go on after it */
			va = ((va + (n > 0 ? (uint64_t)n : 0)) & ~(PAGE - 1)) + PAGE;
		else if (va + want >= end || n <= INDEX_BYTES)
			break;
		else
			va += ((size_t)n - INDEX_BYTES) & ~(size_t)7;
	}
	free(buf);
	return r;
}

static int read_banner(struct ks *k, int depth)
{
	char buf[DT_KALLSYMS_BANNER_MAX];
	uint64_t va;
	ssize_t n;
	size_t i;

	(void)find_sym(k, "linux_banner", &va);
	n = fill(k, va, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[sizeof(buf) - 1] = '\0';
	if (strncmp(buf, BANNER_PREFIX, strlen(BANNER_PREFIX))) {
		why(k, depth, "linux_banner at 0x%llx does not read \"%s\"", (unsigned long long)va,
		    BANNER_PREFIX);
		return -EINVAL;
	}
	for (i = 0; buf[i] && buf[i] != '\n' && (unsigned char)buf[i] >= ' '; i++)
		;
	buf[i] = '\0';
	memcpy(k->info.banner, buf, i + 1);
	return 0;
}

/* A System.map of the decoded table, addresses normalised, for dt_symtab_parse. */
static int make_symtab(struct ks *k, const char *label, struct dt_symtab **ret_tab, char *err,
		       size_t errlen)
{
	size_t cap = (size_t)k->n * 20 + k->text_len + 1, len = 0;
	char *map = malloc(cap);
	uint64_t text;
	uint32_t i;
	int r;

	if (!map)
		return -ENOMEM;
	if (!find_sym(k, "_text", &text))
		(void)find_sym(k, "_stext", &text);
	k->info.delta = (text & ~(ALIGN_2M - 1)) - DT_KALLSYMS_TEXT_BASE;
	for (i = 0; i < k->n; i++) {
		const char *s = k->text + k->name_off[i];
		uint64_t a = k->addr[i];
		int w;

		if (dt_kernel_addr(a))
			a -= k->info.delta;
		w = snprintf(map + len, cap - len, "%016llx %c %s\n", (unsigned long long)a, s[0],
			     s + 1);
		if (w < 0 || (size_t)w >= cap - len) {
			free(map);
			return -E2BIG;
		}
		len += (size_t)w;
	}
	r = dt_symtab_parse(map, len, label, ret_tab, err, errlen);
	free(map);
	return r;
}

int dt_kallsyms_read(const struct dt_kallsyms_mem *mem, uint64_t start, uint64_t len,
		     uint64_t lstar, const char *label, struct dt_symtab **ret_tab,
		     struct dt_kallsyms_info *ret_info, char *err, size_t errlen)
{
	struct ks *k;
	int r;

	if (!mem || !mem->read || !ret_tab) {
		dt_errf(err, errlen, "dt_kallsyms_read: missing parameters");
		return -EINVAL;
	}
	char own[96];

	if (!label)
		label = "guest kallsyms";
	if (len > DT_KALLSYMS_SCAN_MAX)
		len = DT_KALLSYMS_SCAN_MAX;
	k = calloc(1, sizeof(*k));
	if (!k) {
		dt_errf(err, errlen, "%s: out of memory", label);
		return -ENOMEM;
	}
	k->mem = mem;
	k->lo = start;
	k->lstar = lstar;
	snprintf(k->why, sizeof(k->why), "no kallsyms_token_table/token_index");
	r = scan(k, start, len);
	if (!r)
		r = read_banner(k, 5);
	if (r == -ENOENT || r == -EINVAL) {
		dt_errf(err, errlen, "%s: no usable kallsyms in 0x%llx-0x%llx (%llu bytes read): %s",
			label, (unsigned long long)start, (unsigned long long)(start + len),
			(unsigned long long)k->info.scanned, k->why);
		r = k->why_depth >= 3 ? -EINVAL : -ENOENT;
		goto out;
	}
	if (r) {
		dt_errf(err, errlen, "%s: %s", label,
			r == -ENODEV ? "the domain is gone" : strerror(-r));
		goto out;
	}
	if (!strcmp(label, "guest kallsyms")) {
		const char *rel = k->info.banner + strlen(BANNER_PREFIX);

		snprintf(own, sizeof(own), "guest kallsyms %.*s", (int)strcspn(rel, " "), rel);
		label = own;
	}
	r = make_symtab(k, label, ret_tab, err, errlen);
	if (r == 0 && ret_info)
		*ret_info = k->info;
	else if (r && r != -EINVAL)
		dt_errf(err, errlen, "%s: %s", label, strerror(-r));
out:
	free(k->marks);
	free(k->text);
	free(k->name_off);
	free(k->addr);
	free(k);
	return r;
}

const char *dt_kallsyms_layout_name(const struct dt_kallsyms_info *info)
{
	if (!info->relative)
		return info->tables_first ? "absolute addresses, 6.4+ order" : "absolute addresses";
	if (info->tables_first)
		return info->seqs_of_names ? "relative offsets, 6.4+ order, seqs_of_names"
					   : "relative offsets, 6.4+ order";
	if (info->seqs_of_names)
		return info->absolute_percpu
			       ? "relative offsets, absolute per-cpu, seqs_of_names before the tokens"
			       : "relative offsets, seqs_of_names before the tokens";
	return info->absolute_percpu ? "relative offsets, absolute per-cpu"
				     : "relative offsets";
}
