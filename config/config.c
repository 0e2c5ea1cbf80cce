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
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* One line of text (n bytes, no newline) into the parser. */
static void parse_one(struct cfg_parser *p, const char *text, size_t n)
{
	p->line++;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	if (n > DT_CONFIG_MAX_LINE) {
		cfg_error(p, DT_CONFIG_MAX_LINE + 1, NULL, "line longer than %d bytes",
			  DT_CONFIG_MAX_LINE);
	} else if (memchr(text, '\0', n)) {
		cfg_error(p, (unsigned)((const char *)memchr(text, '\0', n) - text) + 1,
			  "a configuration file is text", "NUL byte in line");
	} else {
		memcpy(p->buf, text, n);
		p->buf[n] = '\0';
		parse_line(p);
	}
}

/* The text of `name`, then each extra line (the deprecated -s/-f options), each named
 * by its label in messages, as line 1 of it. */
static int parse(const char *name, char *dir, const char *text, size_t len,
		 const char *const *extra, const char *const *labels, size_t nextra,
		 struct dt_config **ret_cfg, struct dt_config_diags *diags)
{
	struct cfg_parser *p;
	struct dt_config *cfg = NULL;
	size_t pos = 0, n, ncat = 0, i;
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
		parse_one(p, text + pos, n);
		pos += nl ? n + 1 : n;
	}
	for (i = 0; i < nextra && !p->stop && !p->oom; i++) {
		p->name = labels[i];
		p->line = 0;
		parse_one(p, extra[i], strlen(extra[i]));
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
	return parse(name ? name : "<string>", NULL, text, len, NULL, NULL, 0, ret_cfg, diags);
}

/*
 * Could someone other than root or us have written `path` (a regular file, st its
 * stat), as sshd's StrictModes asks: the file writable by all, or a directory on the
 * way to it writable by all without the sticky bit, or with the sticky bit but the
 * entry in it owned by someone else. Returns NULL if safe, else why not.
 */
static const char *insecure(const char *path, const struct stat *st, char *why, size_t len)
{
	char real[PATH_MAX + 1], *slash;
	struct stat ds;
	uid_t owner = st->st_uid;

	if (st->st_mode & S_IWOTH) {
		snprintf(why, len, "the file is writable by every user (chmod o-w)");
		return why;
	}
	if (!realpath(path, real))
		return NULL; /* it was just opened: a race we cannot judge; the fd is safe */
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real ? 1 : 0] = '\0';
		if (stat(real, &ds) < 0)
			break;
		if ((ds.st_mode & S_IWOTH) &&
		    (!(ds.st_mode & S_ISVTX) || (owner != 0 && owner != (uid_t)geteuid()))) {
			int n = snprintf(why, len, "directory %s is writable by every user", real);

			if (ds.st_mode & S_ISVTX && n > 0 && (size_t)n < len)
				snprintf(why + n, len - (size_t)n, " and the entry in it is not ours");
			return why;
		}
		owner = ds.st_uid;
		if (slash == real)
			break;
	}
	return NULL;
}

int dt_config_load(const char *path, const char *const *extra, size_t nextra,
		   struct dt_config **ret_cfg, struct dt_config_diags *diags)
{
	const char *labels[DT_CONFIG_MAX_EXTRA];
	char lbuf[DT_CONFIG_MAX_EXTRA][16], why[PATH_MAX + 64];
	char *text = NULL, *dir = NULL, *tmp = NULL;
	size_t len = 0, i, nf = 0, ns = 0;
	const char *err = NULL;
	struct stat st;
	ssize_t got;
	int fd = -1, r;

	if (nextra > DT_CONFIG_MAX_EXTRA)
		return -E2BIG;
	for (i = 0; i < nextra; i++) {
		bool filter = !strncmp(extra[i], "Filter", 6);

		snprintf(lbuf[i], sizeof(lbuf[i]), "-%c #%zu", filter ? 'f' : 's',
			 filter ? ++nf : ++ns);
		labels[i] = lbuf[i];
	}
	if (!path)
		return parse("<command line>", NULL, "", 0, extra, labels, nextra, ret_cfg, diags);
	/* O_NONBLOCK: a FIFO put in its place must not hang the daemon in open(2) */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		err = "not a regular file: refused (a FIFO or device could block domtrace)";
		goto fail;
	}
	if (insecure(path, &st, why, sizeof(why))) {
		r = -EINVAL;
		err = why;
		goto fail;
	}
	/* one byte more than the limit: parse() reports a file too large */
	len = st.st_size > DT_CONFIG_MAX_BYTES ? DT_CONFIG_MAX_BYTES + 1 : (size_t)st.st_size;
	text = malloc(len + 1);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < len; i += (size_t)got) {
		got = read(fd, text + i, len - i);
		if (got < 0 && errno == EINTR) {
			got = 0;
			continue;
		}
		if (got < 0) {
			r = -errno;
			goto fail;
		}
		if (got == 0)
			break;
	}
	len = i; /* shrunk meanwhile: what was there */
	tmp = strdup(path);
	dir = tmp ? strdup(dirname(tmp)) : NULL;
	if (!dir) {
		r = -ENOMEM;
		goto out;
	}
	r = parse(path, dir, text, len, extra, labels, nextra, ret_cfg, diags);
	goto out;
fail:
	if (diags) {
		struct cfg_parser p = { .name = path, .diags = diags };

		if (err)
			cfg_error(&p, 0, NULL, "%s", err);
		else
			cfg_error(&p, 0, NULL, "cannot read: %s", strerror(-r));
	}
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(tmp);
	free(dir);
	return r;
}

int dt_config_parse_file(const char *path, struct dt_config **ret_cfg,
			 struct dt_config_diags *diags)
{
	return dt_config_load(path, NULL, 0, ret_cfg, diags);
}
