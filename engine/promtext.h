/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * promtext.h - the Prometheus text exposition format (version 0.0.4), written into a
 * memory buffer: "# HELP", "# TYPE", then the family's samples, label values escaped.
 * Private to engine/ (metrics.c); no state beyond the buffer; one thread per writer.
 *
 * Labels are given as a NULL-terminated array of name, value pairs. Label values may
 * be anything (VM names): backslash, double quote and newline are escaped as the
 * format says, other control bytes and bytes that are not valid UTF-8 become '?'.
 */
#ifndef DT_ENGINE_PROMTEXT_H
#define DT_ENGINE_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "domtrace/lathist.h"

struct dt_prom {
	FILE *f;
	char *buf;
	size_t len;
	const char *family; /* the family being written */
};

/* The histogram's upper bounds: 2^DT_PROM_LAT_MIN_LOG2 .. 2^DT_PROM_LAT_MAX_LOG2 ns
 * (1.024 us .. 1.07 s), each the floor of a lathist bucket, so every count is exact:
 * le="x" counts the traps handled in under x seconds (at 1 ns resolution: one of
 * exactly x lands in the next bucket up). */
#define DT_PROM_LAT_MIN_LOG2 10
#define DT_PROM_LAT_MAX_LOG2 30

/* Start writing. 0 or -ENOMEM. */
int dt_prom_open(struct dt_prom *p);
/* Finish: the text (malloc()ed, NUL-terminated; the caller frees it) and its length,
 * or NULL if memory ran out (everything freed). */
char *dt_prom_close(struct dt_prom *p, size_t *ret_len);
/* Free without a result (NULL-safe on a zeroed struct). */
void dt_prom_discard(struct dt_prom *p);

/* Begin a family: type "counter", "gauge" or "histogram". `name` must stay valid
 * until the next family. */
void dt_prom_family(struct dt_prom *p, const char *name, const char *type, const char *help);
/* One sample of the current family: name + suffix (NULL: none) {labels} value. */
void dt_prom_u64(struct dt_prom *p, const char *suffix, const char *const *labels, uint64_t v);
void dt_prom_double(struct dt_prom *p, const char *suffix, const char *const *labels,
		    double v);
/* The samples of a histogram in seconds from a latency histogram of nanoseconds:
 * cumulative _bucket{...,le=...} lines, le="+Inf" equal to _count, _sum. `h` must not
 * change meanwhile (pass a snapshot). */
void dt_prom_lathist(struct dt_prom *p, const char *const *labels, const struct dt_lathist *h);
/* A label value, escaped (above), without quotes. */
void dt_prom_escape(FILE *f, const char *v);

#endif /* DT_ENGINE_PROMTEXT_H */
