/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config_util.h - private to config/: the parser state, diagnostics and small helpers
 * shared by config.c (lines, directives) and config_filter.c (Filter lines).
 */
#ifndef DOMTRACE_CONFIG_UTIL_H
#define DOMTRACE_CONFIG_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "domtrace/config.h"

struct cfg_parser {
	const char *name;	 /* file name for messages */
	char *dir;		 /* directory of the file, for relative paths; NULL: none */
	struct dt_config *cfg;
	struct dt_config_diags *diags;
	size_t ndiags, nerrors;
	bool stop; /* too many diagnostics */
	bool oom;
	unsigned nsuggest; /* "did you mean" lookups done (each scans the catalogue) */
	unsigned line;
	size_t section; /* current section index */
	int *ids;	/* scratch for dt_catalog_resolve, cfg->ncatalog entries */
	char buf[DT_CONFIG_MAX_LINE + 1]; /* the current line, NUL-terminated */
};

/* Record a diagnostic about column `col` (1-based) of the current line. hint may be NULL. */
void cfg_diag(struct cfg_parser *p, unsigned col, bool warning, const char *hint,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define cfg_error(p, col, hint, ...) cfg_diag(p, col, false, hint, __VA_ARGS__)

char *cfg_strdup(struct cfg_parser *p, const char *s);
char *cfg_strndup(struct cfg_parser *p, const char *s, size_t n);
/* Append s to a growing array of strings (takes ownership); false on ENOMEM. */
bool cfg_push_str(struct cfg_parser *p, char ***arr, size_t *n, char *s);

/* Levenshtein distance, capped: for "did you mean" hints. */
unsigned cfg_distance(const char *a, const char *b);
/* The closest of words[] (NULL-ended) to s within distance 2, or NULL. */
const char *cfg_suggest(const char *s, const char *const *words);

/* dt_catalog_suggest() (a scan of the catalogue) at most 4 times per file: a garbage
 * file stays cheap to check. */
const char *cfg_suggest_function(struct cfg_parser *p, const char *name);

/* Resolve a function name to catalogue ids into p->ids; count or -ENOENT. */
int cfg_resolve_function(struct cfg_parser *p, const char *name);

/* Parse one Filter line's arguments (p->buf from index `start`). */
void cfg_parse_filter(struct cfg_parser *p, size_t start);

void cfg_regex_free(struct dt_regex *re);
void cfg_filter_free(struct dt_filter_spec *f);

#endif /* DOMTRACE_CONFIG_UTIL_H */
