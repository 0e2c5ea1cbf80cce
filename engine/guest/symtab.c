// SPDX-License-Identifier: GPL-2.0-only
/*
 * System.map / kallsyms parsing. The file is read once into one buffer that also
 * holds the names (separators become NULs); symbols sit in an array sorted by
 * address, and an index array sorted by (name, preference) serves name lookups and
 * duplicates with binary search: O(n log n) whatever the file holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

#define PERCPU_ZERO_BASED_MAX (16ull << 20)

struct dt_symtab {
	char *label;
	char *text;	     /* the file, names point into it */
	struct dt_sym *syms; /* sorted by (addr, rank, line) */
	uint32_t *by_name;   /* indices into syms sorted by (name, rank, addr) */
	size_t n;
	size_t skipped;
	bool has_pcpu;
	uint64_t pcpu_start, pcpu_end;
};

void dt_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Lower is preferred: the kernel's over a module's, global over local. */
static int sym_rank(const struct dt_sym *s)
{
	return (s->module ? 2 : 0) + (s->type >= 'a' && s->type <= 'z' ? 1 : 0);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_namechar(char c)
{
	return c > ' ' && c < 0x7f;
}

/*
 * One line, NUL-terminated in place: "addr type name[ [module]]". Returns false for a
 * malformed line. The name (and module) are terminated inside the line.
 */
static bool parse_line(char *p, char *end, struct dt_sym *s)
{
	uint64_t addr = 0;
	int digits = 0, v;
	char *name, *mod = NULL;

	while (p < end && (v = hexval(*p)) >= 0) {
		if (++digits > 16)
			return false;
		addr = addr << 4 | (uint64_t)v;
		p++;
	}
	if (!digits || p >= end || !is_blank(*p))
		return false;
	while (p < end && is_blank(*p))
		p++;
	if (p + 1 >= end || !is_namechar(p[0]) || !is_blank(p[1]))
		return false;
	s->type = p[0];
	p += 2;
	while (p < end && is_blank(*p))
		p++;
	name = p;
	while (p < end && is_namechar(*p))
		p++;
	if (p == name || p - name >= DT_SYM_NAME_MAX)
		return false;
	if (p < end) {
		if (!is_blank(*p))
			return false;
		*p++ = '\0';
		while (p < end && is_blank(*p))
			p++;
		if (p < end) {
			/* kallsyms: "[module]", nothing after it */
			if (*p != '[')
				return false;
			mod = ++p;
			while (p < end && is_namechar(*p) && *p != ']')
				p++;
			if (p >= end || *p != ']' || p == mod || p - mod >= DT_SYM_NAME_MAX)
				return false;
			*p++ = '\0';
			while (p < end && is_blank(*p))
				p++;
			if (p != end)
				return false;
		}
	}
	*end = '\0';
	s->addr = addr;
	s->name = name;
	s->module = mod;
	return true;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct dt_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (sym_rank(x) != sym_rank(y))
		return sym_rank(x) - sym_rank(y);
	/* names point into the text in line order: a stable tie-break */
	return x->name < y->name ? -1 : x->name > y->name;
}

/* qsort_r is GNU; keep the table in a thread-local for the comparator. */
static _Thread_local const struct dt_sym *sort_syms;

static int cmp_name(const void *a, const void *b)
{
	const struct dt_sym *x = &sort_syms[*(const uint32_t *)a];
	const struct dt_sym *y = &sort_syms[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (sym_rank(x) != sym_rank(y))
		return sym_rank(x) - sym_rank(y);
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Takes ownership of text (len bytes + 1 spare for a NUL) in every case. */
static int symtab_build(char *text, size_t len, const char *label, struct dt_symtab **ret_tab,
			char *err, size_t errlen)
{
	struct dt_symtab *tab = NULL;
	size_t lines = 1, i, nonzero = 0;
	char *p, *end = text + len;
	const struct dt_sym *s;
	int r;

	text[len] = '\0';
	for (p = text; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	if (lines > DT_SYMTAB_MAX_SYMS) {
		dt_errf(err, errlen, "symbol map '%s': more than %u lines", label,
			DT_SYMTAB_MAX_SYMS);
		r = -E2BIG;
		goto fail;
	}
	tab = calloc(1, sizeof(*tab));
	if (!tab)
		goto nomem;
	tab->text = text;
	text = NULL;
	tab->label = strdup(label);
	tab->syms = malloc(lines * sizeof(*tab->syms));
	if (!tab->label || !tab->syms)
		goto nomem;

	for (p = tab->text; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *q = p;

		if (le > p && le[-1] == '\r')
			le--;
		while (q < le && is_blank(*q))
			q++;
		if (q < le) {
			if (parse_line(q, le, &tab->syms[tab->n])) {
				nonzero += tab->syms[tab->n].addr != 0;
				tab->n++;
			} else {
				tab->skipped++;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!tab->n) {
		dt_errf(err, errlen, "symbol map '%s': no symbol lines (%zu malformed)", label,
			tab->skipped);
		r = -EINVAL;
		goto fail;
	}
	if (!nonzero) {
		dt_errf(err, errlen,
			"symbol map '%s': every address is zero (kallsyms read without "
			"privilege?)", label);
		r = -EINVAL;
		goto fail;
	}
	qsort(tab->syms, tab->n, sizeof(*tab->syms), cmp_addr);
	tab->by_name = malloc(tab->n * sizeof(*tab->by_name));
	if (!tab->by_name)
		goto nomem;
	for (i = 0; i < tab->n; i++)
		tab->by_name[i] = (uint32_t)i;
	sort_syms = tab->syms;
	qsort(tab->by_name, tab->n, sizeof(*tab->by_name), cmp_name);
	sort_syms = NULL;

	s = dt_symtab_find(tab, "__per_cpu_start");
	if (s && !s->module) {
		const struct dt_sym *e = dt_symtab_find(tab, "__per_cpu_end");

		if (e && !e->module && e->addr >= s->addr) {
			tab->has_pcpu = true;
			tab->pcpu_start = s->addr;
			tab->pcpu_end = e->addr;
		}
	}
	*ret_tab = tab;
	return 0;
nomem:
	dt_errf(err, errlen, "symbol map '%s': out of memory", label);
	r = -ENOMEM;
fail:
	free(text);
	dt_symtab_free(tab);
	return r;
}

int dt_symtab_parse(const char *text, size_t len, const char *label, struct dt_symtab **ret_tab,
		    char *err, size_t errlen)
{
	char *copy;

	if (!label)
		label = "(memory)";
	if (len > DT_SYMTAB_FILE_MAX) {
		dt_errf(err, errlen, "symbol map '%s': larger than %llu bytes", label,
			DT_SYMTAB_FILE_MAX);
		return -EFBIG;
	}
	copy = malloc(len + 1);
	if (!copy) {
		dt_errf(err, errlen, "symbol map '%s': out of memory", label);
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	return symtab_build(copy, len, label, ret_tab, err, errlen);
}

int dt_symtab_load(const char *path, struct dt_symtab **ret_tab, char *err, size_t errlen)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = NULL, *nb;
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		dt_errf(err, errlen, "symbol map '%s': %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = -EINVAL;
		dt_errf(err, errlen, "symbol map '%s': not a regular file", path);
		goto out;
	}
	/* /proc/kallsyms says 0 bytes: read to EOF, bounded */
	if ((uint64_t)st.st_size > DT_SYMTAB_FILE_MAX) {
		r = -EFBIG;
		dt_errf(err, errlen, "symbol map '%s': larger than %llu bytes", path,
			DT_SYMTAB_FILE_MAX);
		goto out;
	}
	if (st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		goto nomem;
	for (;;) {
		if (len == cap) {
			if (cap >= DT_SYMTAB_FILE_MAX) {
				r = -EFBIG;
				dt_errf(err, errlen, "symbol map '%s': larger than %llu bytes",
					path, DT_SYMTAB_FILE_MAX);
				goto out;
			}
			cap = cap * 2 > DT_SYMTAB_FILE_MAX ? DT_SYMTAB_FILE_MAX : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			dt_errf(err, errlen, "symbol map '%s': %s", path, strerror(-r));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	return symtab_build(buf, len, path, ret_tab, err, errlen);
nomem:
	r = -ENOMEM;
	dt_errf(err, errlen, "symbol map '%s': out of memory", path);
out:
	free(buf);
	close(fd);
	return r;
}

void dt_symtab_free(struct dt_symtab *tab)
{
	if (!tab)
		return;
	free(tab->by_name);
	free(tab->syms);
	free(tab->text);
	free(tab->label);
	free(tab);
}

const char *dt_symtab_label(const struct dt_symtab *tab)
{
	return tab->label;
}

size_t dt_symtab_count(const struct dt_symtab *tab)
{
	return tab->n;
}

size_t dt_symtab_skipped(const struct dt_symtab *tab)
{
	return tab->skipped;
}

/* First index in by_name whose name is >= name. */
static size_t name_lower_bound(const struct dt_symtab *tab, const char *name)
{
	size_t lo = 0, hi = tab->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(tab->syms[tab->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct dt_sym *dt_symtab_find(const struct dt_symtab *tab, const char *name)
{
	size_t i = name_lower_bound(tab, name);

	if (i < tab->n && !strcmp(tab->syms[tab->by_name[i]].name, name))
		return &tab->syms[tab->by_name[i]];
	return NULL;
}

size_t dt_symtab_find_all(const struct dt_symtab *tab, const char *name, const struct dt_sym **out,
			  size_t max)
{
	size_t i = name_lower_bound(tab, name), n = 0;

	for (; i < tab->n && !strcmp(tab->syms[tab->by_name[i]].name, name); i++, n++)
		if (n < max)
			out[n] = &tab->syms[tab->by_name[i]];
	return n;
}

const struct dt_sym *dt_symtab_at(const struct dt_symtab *tab, uint64_t addr, uint64_t *ret_off)
{
	size_t lo = 0, hi = tab->n;
	const struct dt_sym *s;

	/* first symbol above addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tab->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &tab->syms[lo - 1];
	/* the preferred one of those at that address comes first */
	lo = 0;
	hi = (size_t)(s - tab->syms);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tab->syms[mid].addr < s->addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	s = &tab->syms[lo];
	if (ret_off)
		*ret_off = addr - s->addr;
	return s;
}

const struct dt_sym *dt_symtab_index(const struct dt_symtab *tab, size_t i)
{
	return i < tab->n ? &tab->syms[i] : NULL;
}

bool dt_symtab_is_percpu(const struct dt_symtab *tab, const struct dt_sym *sym)
{
	return tab->has_pcpu && tab->pcpu_start < PERCPU_ZERO_BASED_MAX && !sym->module &&
	       sym->addr >= tab->pcpu_start && sym->addr < tab->pcpu_end;
}
