// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus text format (promtext.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

int dt_prom_open(struct dt_prom *p)
{
	memset(p, 0, sizeof(*p));
	p->f = open_memstream(&p->buf, &p->len);
	return p->f ? 0 : -ENOMEM;
}

char *dt_prom_close(struct dt_prom *p, size_t *ret_len)
{
	bool bad;
	char *text;

	if (!p->f)
		return NULL;
	bad = ferror(p->f) != 0;
	if (fclose(p->f) != 0)
		bad = true;
	p->f = NULL;
	text = p->buf;
	p->buf = NULL;
	if (bad) {
		free(text);
		return NULL;
	}
	*ret_len = p->len;
	return text;
}

void dt_prom_discard(struct dt_prom *p)
{
	if (p->f)
		fclose(p->f);
	p->f = NULL;
	free(p->buf);
	p->buf = NULL;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

void dt_prom_escape(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n;

	while (*s) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fputc('?', f);
			s++;
		} else if ((n = utf8_len(s)) == 0) {
			fputc('?', f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}

void dt_prom_family(struct dt_prom *p, const char *name, const char *type, const char *help)
{
	p->family = name;
	/* HELP text escapes only backslash and newline; ours have neither */
	fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void head(struct dt_prom *p, const char *suffix, const char *const *labels,
		 const char *le)
{
	size_t i;

	fputs(p->family, p->f);
	if (suffix)
		fputs(suffix, p->f);
	if ((!labels || !labels[0]) && !le)
		return;
	fputc('{', p->f);
	for (i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		fprintf(p->f, "%s%s=\"", i ? "," : "", labels[i]);
		dt_prom_escape(p->f, labels[i + 1]);
		fputc('"', p->f);
	}
	if (le)
		fprintf(p->f, "%sle=\"%s\"", i ? "," : "", le);
	fputc('}', p->f);
}

void dt_prom_u64(struct dt_prom *p, const char *suffix, const char *const *labels, uint64_t v)
{
	head(p, suffix, labels, NULL);
	fprintf(p->f, " %" PRIu64 "\n", v);
}

void dt_prom_double(struct dt_prom *p, const char *suffix, const char *const *labels,
		    double v)
{
	head(p, suffix, labels, NULL);
	fprintf(p->f, " %.9g\n", v);
}

void dt_prom_lathist(struct dt_prom *p, const char *const *labels, const struct dt_lathist *h)
{
	uint64_t cum = 0;
	unsigned i = 0, k;
	char le[32];

	for (k = DT_PROM_LAT_MIN_LOG2; k <= DT_PROM_LAT_MAX_LOG2; k++) {
		/* lathist bucket 4k starts at 2^k ns: everything under it is below 2^k */
		for (; i < 4 * k; i++)
			cum += h->n[i];
		snprintf(le, sizeof(le), "%.9g", (double)(1ull << k) / 1e9);
		head(p, "_bucket", labels, le);
		fprintf(p->f, " %" PRIu64 "\n", cum);
	}
	for (; i < DT_LAT_BUCKETS; i++)
		cum += h->n[i];
	head(p, "_bucket", labels, "+Inf");
	fprintf(p->f, " %" PRIu64 "\n", cum);
	dt_prom_double(p, "_sum", labels, (double)h->sum_ns / 1e9);
	dt_prom_u64(p, "_count", labels, cum);
}
