// SPDX-License-Identifier: GPL-2.0-only
/*
 * config.c - reading the configuration file: lines, comments, directives, lists,
 * sections; diagnostics. Filter lines are parsed in config_filter.c.
 *
 * Unlike the ancestor (prior-art.md §1.8): a directive is a whole word (no prefix
 * match), every error is reported with its line and column and parsing goes on to
 * find the rest, unknown names are errors with a suggestion, and nothing is silently
 * ignored.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"

#include "config_util.h"

void cfg_diag(struct cfg_parser *p, unsigned col, bool warning, const char *hint,
	      const char *fmt, ...)
{
	struct dt_config_diag *v;
	char *msg = NULL, *text = NULL;
	va_list ap;
	int r;

	if (p->stop)
		return;
	if (!warning)
		p->nerrors++;
	if (p->ndiags >= DT_CONFIG_MAX_DIAGS) {
		p->stop = true;
		fmt = "too many errors, giving up";
		hint = NULL;
		warning = false;
	}
	p->ndiags++;
	if (!p->diags)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		goto oom;
	if (p->line)
		r = asprintf(&text, "%s:%u:%u: %s: %s%s%s%s", p->name, p->line, col,
			     warning ? "warning" : "error", msg, hint ? " (hint: " : "",
			     hint ? hint : "", hint ? ")" : "");
	else
		r = asprintf(&text, "%s: %s: %s%s%s%s", p->name, warning ? "warning" : "error",
			     msg, hint ? " (hint: " : "", hint ? hint : "", hint ? ")" : "");
	free(msg);
	if (r < 0)
		goto oom;
	v = realloc(p->diags->v, (p->diags->n + 1) * sizeof(*v));
	if (!v) {
		free(text);
		goto oom;
	}
	p->diags->v = v;
	v[p->diags->n++] = (struct dt_config_diag){
		.line = p->line, .col = p->line ? col : 0, .warning = warning, .text = text,
	};
	if (!warning)
		p->diags->nerrors++;
	return;
oom:
	p->oom = true;
}

void dt_config_diags_clear(struct dt_config_diags *diags)
{
	size_t i;

	if (!diags)
		return;
	for (i = 0; i < diags->n; i++)
		free(diags->v[i].text);
	free(diags->v);
	*diags = (struct dt_config_diags){ 0 };
}

char *cfg_strndup(struct cfg_parser *p, const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		p->oom = true;
	return d;
}

char *cfg_strdup(struct cfg_parser *p, const char *s)
{
	return cfg_strndup(p, s, strlen(s));
}

bool cfg_push_str(struct cfg_parser *p, char ***arr, size_t *n, char *s)
{
	char **v;

	if (!s)
		return false;
	v = realloc(*arr, (*n + 1) * sizeof(*v));
	if (!v) {
		free(s);
		p->oom = true;
		return false;
	}
	v[(*n)++] = s;
	*arr = v;
	return true;
}

unsigned cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[33], prev, tmp, best;

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *cfg_suggest(const char *s, const char *const *words)
{
	const char *best = NULL;
	unsigned d, bestd = 3;

	for (; *words; words++) {
		d = cfg_distance(s, *words);
		if (d < bestd) {
			bestd = d;
			best = *words;
		}
	}
	return best;
}

const char *cfg_suggest_function(struct cfg_parser *p, const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	/* only identifier-like names can be typos of a function name */
	if (p->nsuggest >= 4 || n == 0 || n > 40 || name[n])
		return NULL;
	p->nsuggest++;
	return dt_catalog_suggest(name);
}

int cfg_resolve_function(struct cfg_parser *p, const char *name)
{
	if (p->cfg->ncatalog == 0)
		return -ENOENT;
	return dt_catalog_resolve(name, p->ids, p->cfg->ncatalog);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split a comma-separated list at p->buf[start..] in place and call fn for each
 * trimmed item with its column. Empty items are errors.
 */
static void split_list(struct cfg_parser *p, size_t start, const char *what,
		       void (*fn)(struct cfg_parser *p, char *item, unsigned col))
{
	char *s = p->buf, *item, *end;
	size_t i = start, b;

	for (;;) {
		while (is_blank(s[i]))
			i++;
		b = i;
		while (s[i] && s[i] != ',')
			i++;
		end = s + i;
		while (end > s + b && is_blank(end[-1]))
			end--;
		item = s + b;
		if (end == item) {
			cfg_error(p, (unsigned)b + 1, "items are separated by single commas",
				  "empty %s in list", what);
		} else {
			char save = *end;

			*end = '\0';
			fn(p, item, (unsigned)b + 1);
			*end = save;
		}
		if (!s[i])
			break;
		i++;
	}
}

static struct dt_config_section *cur(struct cfg_parser *p)
{
	return &p->cfg->sections[p->section];
}

static void add_function(struct cfg_parser *p, char *item, unsigned col)
{
	struct dt_config_section *sec = cur(p);
	int n, k;

	sec->has_functions = true;
	if (strcmp(item, "*") == 0) {
		sec->all_functions = true;
		return;
	}
	n = cfg_resolve_function(p, item);
	if (n < 0) {
		const char *s = cfg_suggest_function(p, item);
		char hint[128];

		if (s)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
		else
			snprintf(hint, sizeof(hint), "%s",
				 "use a syscall name (openat, sys_openat), do_exit, or *");
		cfg_error(p, col, hint, "unknown function '%s'", item);
		return;
	}
	if (!sec->functions) {
		sec->functions = calloc(p->cfg->ncatalog, 1);
		if (!sec->functions) {
			p->oom = true;
			return;
		}
	}
	for (k = 0; k < n; k++)
		if (p->ids[k] >= 0 && (size_t)p->ids[k] < p->cfg->ncatalog)
			sec->functions[p->ids[k]] = 1;
}

static void add_psname(struct cfg_parser *p, char *item, unsigned col)
{
	struct dt_config_section *sec = cur(p);

	if (strlen(item) > DT_PROC_NAME_MAX) {
		cfg_error(p, col, "Linux keeps only the first 15 bytes of a process name",
			  "process name '%s' is longer than %d bytes", item, DT_PROC_NAME_MAX);
		return;
	}
	cfg_push_str(p, &sec->pslist_names, &sec->npslist_names, cfg_strdup(p, item));
}

static bool check_glob(struct cfg_parser *p, const char *item, unsigned col)
{
	if (strlen(item) >= 256) {
		cfg_error(p, col, NULL, "VM name pattern longer than 255 bytes");
		return false;
	}
	return true;
}

static void add_section_glob(struct cfg_parser *p, char *item, unsigned col)
{
	struct dt_config_section *sec = cur(p);

	if (check_glob(p, item, col))
		cfg_push_str(p, &sec->globs, &sec->nglobs, cfg_strdup(p, item));
}

static void add_monitor(struct cfg_parser *p, char *item, unsigned col)
{
	if (check_glob(p, item, col))
		cfg_push_str(p, &p->cfg->monitor, &p->cfg->nmonitor, cfg_strdup(p, item));
}

static void add_ignore(struct cfg_parser *p, char *item, unsigned col)
{
	if (check_glob(p, item, col))
		cfg_push_str(p, &p->cfg->ignore, &p->cfg->nignore, cfg_strdup(p, item));
}

static void start_section(struct cfg_parser *p, size_t arg)
{
	struct dt_config *cfg = p->cfg;
	struct dt_config_section *v;

	if (cfg->nsections >= DT_CONFIG_MAX_SECTIONS) {
		cfg_error(p, 1, "use globs to cover several VMs with one section",
			  "more than %d Domain sections", DT_CONFIG_MAX_SECTIONS - 1);
		return;
	}
	v = realloc(cfg->sections, (cfg->nsections + 1) * sizeof(*v));
	if (!v) {
		p->oom = true;
		return;
	}
	cfg->sections = v;
	v[cfg->nsections] = (struct dt_config_section){ .line = p->line };
	p->section = cfg->nsections++;
	split_list(p, arg, "VM name", add_section_glob);
}

static void set_path(struct cfg_parser *p, size_t arg, bool dir)
{
	struct dt_config_section *sec = cur(p);
	char **slot = dir ? &sec->system_map_dir : &sec->system_map;
	unsigned *line = dir ? &sec->system_map_dir_line : &sec->system_map_line;
	char *s = p->buf + arg, *e = s + strlen(s), *path;

	while (e > s && is_blank(e[-1]))
		e--;
	*e = '\0';
	if (*slot) {
		cfg_error(p, 1, "one per section: use a Domain section per kernel",
			  "duplicate %s in this section (first on line %u)",
			  dir ? "SystemMapDir" : "SystemMap", *line);
		return;
	}
	if (s[0] != '/' && p->dir) {
		if (asprintf(&path, "%s/%s", p->dir, s) < 0) {
			p->oom = true;
			return;
		}
	} else {
		path = cfg_strdup(p, s);
		if (!path)
			return;
	}
	*slot = path;
	*line = p->line;
}

/* OnRegexError deny|allow: global, once. */
static void set_regex_policy(struct cfg_parser *p, const char *v, unsigned wcol, unsigned vcol)
{
	size_t n = strcspn(v, " \t#");

	if (p->section != 0) {
		cfg_error(p, wcol, "put it before the first Domain line",
			  "OnRegexError inside a Domain section");
		return;
	}
	if (p->cfg->regex_error_line) {
		cfg_error(p, wcol, NULL, "second OnRegexError (the first is on line %u)",
			  p->cfg->regex_error_line);
		return;
	}
	if (v[n + strspn(v + n, " \t")] && v[n + strspn(v + n, " \t")] != '#') {
		cfg_error(p, vcol + (unsigned)n, "deny or allow", "unexpected text after '%.*s'",
			  (int)n, v);
		return;
	}
	if (n == 4 && strncmp(v, "deny", 4) == 0) {
		p->cfg->regex_error_allow = false;
	} else if (n == 5 && strncmp(v, "allow", 5) == 0) {
		p->cfg->regex_error_allow = true;
	} else {
		cfg_error(p, vcol, "deny (an abort filter whose regex fails aborts) or allow",
			  "bad value '%.*s' for OnRegexError", (int)n, v);
		return;
	}
	p->cfg->regex_error_line = p->line;
}

enum directive {
	D_FUNCTIONS,
	D_PSLIST,
	D_FILTER,
	D_DOMAIN,
	D_MONITOR,
	D_IGNORE,
	D_SYSTEMMAP,
	D_SYSTEMMAPDIR,
	D_ONREGEXERROR,
	_D_MAX,
};

static const char *const directives[_D_MAX + 1] = {
	[D_FUNCTIONS] = "Functions",	 [D_PSLIST] = "ProcessListNames",
	[D_FILTER] = "Filter",		 [D_DOMAIN] = "Domain",
	[D_MONITOR] = "Monitor",	 [D_IGNORE] = "Ignore",
	[D_SYSTEMMAP] = "SystemMap",	 [D_SYSTEMMAPDIR] = "SystemMapDir",
	[D_ONREGEXERROR] = "OnRegexError",
	[_D_MAX] = NULL,
};

static void parse_line(struct cfg_parser *p)
{
	char *s = p->buf, word[32];
	size_t i = 0, w, arg;
	int d;

	while (is_blank(s[i]))
		i++;
	if (!s[i] || s[i] == '#')
		return;
	w = i;
	while (s[i] && !is_blank(s[i]))
		i++;
	snprintf(word, sizeof(word), "%.*s", (int)(i - w), s + w);
	for (d = 0; d < _D_MAX; d++)
		if (strcmp(word, directives[d]) == 0)
			break;
	if (d == _D_MAX) {
		const char *sug = cfg_suggest(word, directives);
		char hint[160];

		if (sug)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", sug);
		else
			snprintf(hint, sizeof(hint), "directives are Functions, ProcessListNames, "
				 "Filter, Domain, Monitor, Ignore, SystemMap, SystemMapDir, "
				 "OnRegexError; "
				 "comments start with #");
		cfg_error(p, (unsigned)w + 1, hint, "unknown directive '%.*s'", (int)(i - w),
			  s + w);
		return;
	}
	while (is_blank(s[i]))
		i++;
	arg = i;
	if (!s[arg] && d != D_FILTER) {
		cfg_error(p, (unsigned)arg + 1, NULL, "%s needs an argument", directives[d]);
		return;
	}
	switch (d) {
	case D_FUNCTIONS:
		split_list(p, arg, "function name", add_function);
		break;
	case D_PSLIST:
		split_list(p, arg, "process name", add_psname);
		break;
	case D_FILTER:
		cfg_parse_filter(p, arg);
		break;
	case D_DOMAIN:
		start_section(p, arg);
		break;
	case D_MONITOR:
	case D_IGNORE:
		if (p->section != 0) {
			cfg_error(p, (unsigned)w + 1, "Monitor and Ignore are global: put them "
				  "before the first Domain line", "%s inside a Domain section",
				  directives[d]);
			return;
		}
		split_list(p, arg, "VM name", d == D_MONITOR ? add_monitor : add_ignore);
		break;
	case D_SYSTEMMAP:
	case D_SYSTEMMAPDIR:
		set_path(p, arg, d == D_SYSTEMMAPDIR);
		break;
	case D_ONREGEXERROR:
		set_regex_policy(p, s + arg, (unsigned)w + 1, (unsigned)arg + 1);
		break;
	}
}

void cfg_regex_free(struct dt_regex *re)
{
	free(re->src);
	pcre2_code_free((pcre2_code *)re->code);
	*re = (struct dt_regex){ 0 };
}

void cfg_filter_free(struct dt_filter_spec *f)
{
	free(f->function);
	free(f->funcs);
	free(f->argname);
	cfg_regex_free(&f->argval);
	free(f->name);
	cfg_regex_free(&f->retval);
}

static void free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dt_config_free(struct dt_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nsections; i++) {
		struct dt_config_section *s = &cfg->sections[i];

		free_strs(s->globs, s->nglobs);
		free(s->functions);
		free_strs(s->pslist_names, s->npslist_names);
		free(s->system_map);
		free(s->system_map_dir);
	}
	free(cfg->sections);
	for (i = 0; i < cfg->nfilters; i++)
		cfg_filter_free(&cfg->filters[i]);
	free(cfg->filters);
	free_strs(cfg->monitor, cfg->nmonitor);
	free_strs(cfg->ignore, cfg->nignore);
	free(cfg->path);
	free(cfg);
}

static int parse(const char *name, char *dir, const char *text, size_t len,
		 struct dt_config **ret_cfg, struct dt_config_diags *diags)
{
	struct cfg_parser *p;
	struct dt_config *cfg = NULL;
	size_t pos = 0, n, ncat = 0;
	int r = -ENOMEM;

	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->name = name;
	p->dir = dir;
	p->diags = diags;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		goto out;
	p->cfg = cfg;
	dt_catalog_funcs(&ncat);
	cfg->ncatalog = ncat;
	cfg->path = strdup(name);
	cfg->sections = calloc(1, sizeof(*cfg->sections));
	p->ids = calloc(ncat ? ncat : 1, sizeof(*p->ids));
	if (!cfg->path || !cfg->sections || !p->ids)
		goto out;
	cfg->nsections = 1;

	if (len > DT_CONFIG_MAX_BYTES)
		cfg_error(p, 0, "split it or remove comments", "file larger than %u bytes",
			  DT_CONFIG_MAX_BYTES);
	while (pos < len && !p->stop && !p->oom && len <= DT_CONFIG_MAX_BYTES) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		p->line++;
		if (n > 0 && text[pos + n - 1] == '\r')
			n--;
		if (n > DT_CONFIG_MAX_LINE) {
			cfg_error(p, DT_CONFIG_MAX_LINE + 1, NULL, "line longer than %d bytes",
				  DT_CONFIG_MAX_LINE);
		} else if (memchr(text + pos, '\0', n)) {
			cfg_error(p, (unsigned)((const char *)memchr(text + pos, '\0', n) -
						(text + pos)) + 1,
				  "a configuration file is text", "NUL byte in line");
		} else {
			memcpy(p->buf, text + pos, n);
			p->buf[n] = '\0';
			parse_line(p);
		}
		pos += nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
	}
	if (p->oom)
		goto out;
	if (p->nerrors) {
		r = -EINVAL;
		goto out;
	}
	*ret_cfg = cfg;
	cfg = NULL;
	r = 0;
out:
	dt_config_free(cfg);
	if (p)
		free(p->ids);
	free(p);
	return r;
}

int dt_config_parse_string(const char *name, const char *text, size_t len,
			   struct dt_config **ret_cfg, struct dt_config_diags *diags)
{
	return parse(name ? name : "<string>", NULL, text, len, ret_cfg, diags);
}

int dt_config_parse_file(const char *path, struct dt_config **ret_cfg,
			 struct dt_config_diags *diags)
{
	char *text = NULL, *dir = NULL, *tmp = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		goto fail;
	}
	for (;;) {
		if (len == cap) {
			char *t;

			if (cap > DT_CONFIG_MAX_BYTES)
				break; /* parse() reports the size */
			cap = cap ? cap * 2 : 8192;
			t = realloc(text, cap);
			if (!t) {
				r = -ENOMEM;
				goto out;
			}
			text = t;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		goto fail;
	}
	tmp = strdup(path);
	if (!tmp) {
		r = -ENOMEM;
		goto out;
	}
	dir = strdup(dirname(tmp));
	if (!dir) {
		r = -ENOMEM;
		goto out;
	}
	r = parse(path, dir, text ? text : "", len, ret_cfg, diags);
	goto out;
fail:
	if (diags) {
		struct cfg_parser p = { .name = path, .diags = diags };

		cfg_error(&p, 0, NULL, "cannot read: %s", strerror(-r));
	}
out:
	if (f)
		fclose(f);
	free(text);
	free(tmp);
	free(dir);
	return r;
}
