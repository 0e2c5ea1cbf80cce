// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_kallsyms.c - the simulated kernel's own kallsyms tables, built from its symbol list
 * the way scripts/kallsyms.c lays them out for each kernel generation (see
 * engine/guest/kallsyms.h for the three layouts): the names compressed with a byte-pair
 * token table of our own, markers every 256 symbols, and absolute addresses or offsets
 * from kallsyms_relative_base with per-cpu values absolute.
 *
 * The tables hold every symbol of the build, theirs included, so their size must be
 * known before their addresses are: sizes depend only on the set of names (not on the
 * order), so the names are compressed first, the tables placed, their own symbols given
 * addresses, and only then is everything sorted and written. dt_sim_image_make() reserves
 * room in .rodata early (an upper bound) and calls dt_sim_kallsyms_emit() at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"

#define KS_TOKEN_MAX 32 /* longest token made */
#define KS_LATER_SYMS 64 /* symbols added after the reservation, at most */
#define KS_LATER_NAME 48 /* their longest name */

static const char *const self_names[] = {
	"kallsyms_num_syms", "kallsyms_names",	    "kallsyms_markers",
	"kallsyms_token_table", "kallsyms_token_index", "kallsyms_addresses",
	"kallsyms_offsets", "kallsyms_relative_base", "kallsyms_seqs_of_names",
};
enum { S_NUM, S_NAMES, S_MARKERS, S_TTABLE, S_TINDEX, S_ADDRS, S_OFFS, S_BASE, S_SEQS, S_MAX };

static uint64_t al8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

size_t dt_sim_kallsyms_reserve(const struct sim_build *b)
{
	size_t n = b->nsyms + KS_LATER_SYMS + S_MAX, names = 0, i;

	if (b->ksyms == DT_SIM_KSYMS_NONE)
		return 0;
	for (i = 0; i < b->nsyms; i++)
		names += strlen(b->syms[i].name) + 3;
	names += (size_t)(KS_LATER_SYMS + S_MAX) * (KS_LATER_NAME + 3);
	return names + (n / 256 + 1) * 8 + 256 * (KS_TOKEN_MAX + 1) + 512 + 8 * n + 3 * n + 512;
}

/* One entry: the symbol, its compressed name, its place in address order. */
struct ent {
	const char *name;
	uint64_t addr; /* as in the System.map */
	char type;
	bool percpu;
	uint8_t *c; /* compressed "Tname" */
	size_t clen;
	uint32_t seq;
};

struct comp {
	char tok[256][KS_TOKEN_MAX + 1];
	uint8_t toklen[256];
};

/*
 * Byte-pair compression: every byte that occurs is its own token; then, for each free
 * code from 255 down, the most frequent adjacent pair (whose text fits KS_TOKEN_MAX)
 * becomes a token and replaces its occurrences. Deterministic and order-independent.
 */
static int compress(struct ent *e, size_t n, struct comp *cp)
{
	uint32_t *count = malloc(65536 * sizeof(*count));
	size_t i, j;
	int code;

	if (!count)
		return -ENOMEM;
	memset(cp, 0, sizeof(*cp));
	for (i = 0; i < n; i++)
		for (j = 0; j < e[i].clen; j++) {
			cp->tok[e[i].c[j]][0] = (char)e[i].c[j];
			cp->toklen[e[i].c[j]] = 1;
		}
	for (code = 255; code >= 0; code--) {
		uint32_t best = 0, bestn = 1;

		if (cp->toklen[code])
			continue;
		memset(count, 0, 65536 * sizeof(*count));
		for (i = 0; i < n; i++)
			for (j = 0; j + 1 < e[i].clen; j++) {
				uint32_t pair = (uint32_t)e[i].c[j] << 8 | e[i].c[j + 1];

				if (cp->toklen[pair >> 8] + cp->toklen[pair & 255] <= KS_TOKEN_MAX)
					count[pair]++;
			}
		for (i = 0; i < 65536; i++)
			if (count[i] > bestn) {
				best = (uint32_t)i;
				bestn = count[i];
			}
		if (bestn < 2)
			break; /* the rest stay empty tokens, as in the kernel */
		memcpy(cp->tok[code], cp->tok[best >> 8], cp->toklen[best >> 8]);
		memcpy(cp->tok[code] + cp->toklen[best >> 8], cp->tok[best & 255],
		       cp->toklen[best & 255]);
		cp->toklen[code] = (uint8_t)(cp->toklen[best >> 8] + cp->toklen[best & 255]);
		for (i = 0; i < n; i++) {
			size_t w = 0;

			for (j = 0; j < e[i].clen; j++) {
				if (j + 1 < e[i].clen && e[i].c[j] == best >> 8 &&
				    e[i].c[j + 1] == (best & 255)) {
					e[i].c[w++] = (uint8_t)code;
					j++;
				} else {
					e[i].c[w++] = e[i].c[j];
				}
			}
			e[i].clen = w;
		}
	}
	free(count);
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static _Thread_local const struct ent *sort_ents; /* qsort_r is GNU */

static int cmp_name(const void *a, const void *b)
{
	const struct ent *x = &sort_ents[*(const uint32_t *)a], *y = &sort_ents[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int add_sym(struct sim_build *b, const char *name, uint64_t off)
{
	struct sim_sym *s;

	if (!(b->nsyms & 255)) {
		s = realloc(b->syms, (b->nsyms + 256) * sizeof(*s));
		if (!s)
			return -ENOMEM;
		b->syms = s;
	}
	s = &b->syms[b->nsyms];
	s->name = strdup(name);
	if (!s->name)
		return -ENOMEM;
	s->addr = SIM_TEXT_BASE + off;
	s->type = 'R';
	s->percpu = false;
	b->nsyms++;
	return 0;
}

static int add_reloc(struct sim_build *b, size_t off)
{
	struct sim_reloc *r;

	if (!(b->nrelocs & 255)) {
		r = realloc(b->relocs, (b->nrelocs + 256) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		b->relocs = r;
	}
	b->relocs[b->nrelocs++] = (struct sim_reloc){ (uint32_t)off, 8 };
	return 0;
}

int dt_sim_kallsyms_emit(struct sim_build *b, uint8_t *img, size_t at, size_t space)
{
	const bool abs = b->ksyms == DT_SIM_KSYMS_ABS, first = b->ksyms == DT_SIM_KSYMS_64;
	const bool mid = b->ksyms == DT_SIM_KSYMS_REL_SEQS; /* seqs before the token table */
	const size_t mw = first || mid ? 4 : 8;		     /* marker width */
	size_t n, i, j, nself = 0, names_size = 0, tsize = 0, nmark, p, o[S_MAX] = { 0 };
	bool has[S_MAX] = { false };
	struct ent *e = NULL;
	struct comp *cp = NULL;
	uint32_t *byname = NULL;
	uint64_t base = UINT64_MAX;
	int err = -ENOMEM;

	if (b->ksyms == DT_SIM_KSYMS_NONE)
		return 0;
	has[S_NUM] = has[S_NAMES] = has[S_MARKERS] = has[S_TTABLE] = has[S_TINDEX] = true;
	has[abs ? S_ADDRS : S_OFFS] = true;
	has[S_BASE] = !abs;
	has[S_SEQS] = first || mid;
	for (i = 0; i < S_MAX; i++)
		nself += has[i];
	n = b->nsyms + nself;
	e = calloc(n, sizeof(*e));
	cp = malloc(sizeof(*cp));
	byname = malloc(n * sizeof(*byname));
	if (!e || !cp || !byname)
		goto out;
	for (i = 0; i < b->nsyms; i++) {
		e[i].name = b->syms[i].name;
		e[i].addr = b->syms[i].addr;
		e[i].percpu = b->syms[i].percpu;
		/* --absolute-percpu marks per-cpu symbols 'A' */
		e[i].type = e[i].percpu && !abs ? 'A' : b->syms[i].type;
	}
	for (i = 0, j = b->nsyms; i < S_MAX; i++)
		if (has[i]) {
			e[j].name = self_names[i];
			e[j].type = 'R';
			j++;
		}
	for (i = 0; i < n; i++) {
		size_t len = strlen(e[i].name);

		e[i].c = malloc(len + 1);
		if (!e[i].c)
			goto out;
		e[i].c[0] = (uint8_t)e[i].type;
		memcpy(e[i].c + 1, e[i].name, len);
		e[i].clen = len + 1;
	}
	err = compress(e, n, cp);
	if (err)
		goto out;
	for (i = 0; i < n; i++)
		names_size += e[i].clen + (e[i].clen > 0x7f ? 2 : 1);
	for (i = 0; i < 256; i++)
		tsize += cp->toklen[i] + 1u;
	nmark = (n + 255) / 256;

	/* where each table goes, in this generation's order */
	p = al8(at);
	if (!first) {
		o[abs ? S_ADDRS : S_OFFS] = p;
		p = al8(p + n * (abs ? 8 : 4));
		if (!abs) {
			o[S_BASE] = p;
			p += 8;
		}
	}
	o[S_NUM] = p;
	p = al8(p + 4);
	o[S_NAMES] = p;
	p = al8(p + names_size);
	o[S_MARKERS] = p;
	p = al8(p + nmark * mw);
	if (mid) {
		o[S_SEQS] = p;
		p = al8(p + n * 3);
	}
	o[S_TTABLE] = p;
	p = al8(p + tsize);
	o[S_TINDEX] = p;
	p += 512;
	if (first) {
		o[S_OFFS] = p;
		p = al8(p + n * 4);
		o[S_BASE] = p;
		p += 8;
		o[S_SEQS] = p;
		p += n * 3;
	}
	err = -ENOSPC;
	if (p > at + space)
		goto out;
	for (i = 0, j = b->nsyms; i < S_MAX; i++)
		if (has[i]) {
			e[j++].addr = SIM_TEXT_BASE + o[i];
			err = add_sym(b, self_names[i], o[i]);
			if (err)
				goto out;
		}
	qsort(e, n, sizeof(*e), cmp_addr);
	for (i = 0; i < n; i++) {
		e[i].seq = (uint32_t)i;
		if (!e[i].percpu && e[i].addr < base)
			base = e[i].addr;
	}

	memcpy(img + o[S_NUM], &(uint32_t){ (uint32_t)n }, 4);
	for (i = 0, p = o[S_NAMES]; i < n; i++) {
		if (!(i % 256)) {
			uint64_t m = p - o[S_NAMES];

			memcpy(img + o[S_MARKERS] + (i / 256) * mw, &m, mw);
		}
		if (e[i].clen > 0x7f) {
			img[p++] = (uint8_t)((e[i].clen & 0x7f) | 0x80);
			img[p++] = (uint8_t)(e[i].clen >> 7);
		} else {
			img[p++] = (uint8_t)e[i].clen;
		}
		memcpy(img + p, e[i].c, e[i].clen);
		p += e[i].clen;
	}
	for (i = 0, p = o[S_TTABLE]; i < 256; i++) {
		uint16_t at16 = (uint16_t)(p - o[S_TTABLE]);

		memcpy(img + o[S_TINDEX] + 2 * i, &at16, 2);
		memcpy(img + p, cp->tok[i], cp->toklen[i]);
		p += cp->toklen[i] + 1u;
	}
	err = 0;
	for (i = 0; i < n && !err; i++) {
		if (abs) {
			/* PTR _text + x, relocated; per-cpu values absolute */
			memcpy(img + o[S_ADDRS] + 8 * i, &e[i].addr, 8);
			if (!e[i].percpu)
				err = add_reloc(b, o[S_ADDRS] + 8 * i);
		} else {
			int32_t v = e[i].percpu ? (int32_t)e[i].addr : (int32_t)(base - e[i].addr - 1);

			memcpy(img + o[S_OFFS] + 4 * i, &v, 4);
		}
	}
	if (!abs && !err) {
		memcpy(img + o[S_BASE], &base, 8);
		err = add_reloc(b, o[S_BASE]);
	}
	if ((first || mid) && !err) {
		for (i = 0; i < n; i++)
			byname[i] = (uint32_t)i;
		sort_ents = e;
		qsort(byname, n, sizeof(*byname), cmp_name);
		sort_ents = NULL;
		for (i = 0; i < n; i++) {
			img[o[S_SEQS] + 3 * i] = (uint8_t)(byname[i] >> 16);
			img[o[S_SEQS] + 3 * i + 1] = (uint8_t)(byname[i] >> 8);
			img[o[S_SEQS] + 3 * i + 2] = (uint8_t)byname[i];
		}
	}
out:
	if (e)
		for (i = 0; i < n; i++)
			free(e[i].c);
	free(e);
	free(cp);
	free(byname);
	return err;
}
