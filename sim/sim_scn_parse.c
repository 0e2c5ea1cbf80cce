// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_scn_parse.c - the scenario language's parser (grammar: docs/SIM.md). All-or-nothing:
 * the first error stops it with "<file>:<line>: message".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_scn.h"

#define perr dt_sim_scn_perr

void dt_sim_scn_perr(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->err || !ps->errlen)
		return;
	n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->fname, ps->line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void sarg_free(struct sarg *a)
{
	size_t i;

	free(a->s);
	for (i = 0; a->kind == AK_STRV && i < a->nstrv; i++)
		free(a->strv[i]);
}

static void script_free(struct sim_script *s)
{
	size_t i;
	int k;

	for (i = 0; i < s->n; i++) {
		for (k = 0; k < s->steps[i].na; k++)
			sarg_free(&s->steps[i].a[k]);
		free(s->steps[i].race);
	}
	free(s->steps);
	free(s);
}

void dt_sim_scripts_free(struct sim_script *list)
{
	while (list) {
		struct sim_script *next = list->next;

		script_free(list);
		list = next;
	}
}

/* ---- lexing ---- */

/* Next raw token of line at *p (quotes and [...] kept whole); NULL at end. */
static char *token(struct parse *ps, char **p)
{
	char *s = *p, *start;
	int depth = 0;
	bool q = false;

	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s || *s == '#')
		return NULL;
	start = s;
	for (; *s; s++) {
		if (q) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				q = false;
			continue;
		}
		if (*s == '"')
			q = true;
		else if (*s == '[')
			depth++;
		else if (*s == ']')
			depth--;
		else if (isspace((unsigned char)*s) && depth <= 0)
			break;
	}
	if (q || depth) {
		perr(ps, "unterminated %s", q ? "string" : "list");
		return NULL;
	}
	if (*s)
		*s++ = 0;
	*p = s;
	return start;
}

/* Unquote "..." with C escapes into a malloc()ed buffer; *ret_len counts the NUL. */
static char *unquote(struct parse *ps, const char *raw, size_t *ret_len)
{
	size_t n = strlen(raw), o = 0, i;
	char *out;

	if (n < 2 || raw[0] != '"' || raw[n - 1] != '"') {
		perr(ps, "expected a quoted string, got '%s'", raw);
		return NULL;
	}
	out = malloc(n);
	if (!out) {
		perr(ps, "out of memory");
		return NULL;
	}
	for (i = 1; i + 1 < n; i++) {
		char c = raw[i];

		if (c == '\\' && i + 2 < n) {
			c = raw[++i];
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '0':
				c = 0;
				break;
			case 'x':
				if (i + 2 < n - 1 && isxdigit((unsigned char)raw[i + 1]) &&
				    isxdigit((unsigned char)raw[i + 2])) {
					char hex[3] = { raw[i + 1], raw[i + 2], 0 };

					c = (char)strtol(hex, NULL, 16);
					i += 2;
				}
				break;
			default:
				break;
			}
		}
		out[o++] = c;
	}
	out[o++] = 0;
	*ret_len = o;
	return out;
}

static const struct {
	const char *name;
	int64_t v;
} consts[] = {
	{ "AT_FDCWD", -100 },	  { "O_RDONLY", 0 },	   { "O_WRONLY", 1 },
	{ "O_RDWR", 2 },	  { "O_CREAT", 0100 },	   { "O_EXCL", 0200 },
	{ "O_TRUNC", 01000 },	  { "O_APPEND", 02000 },   { "O_NONBLOCK", 04000 },
	{ "O_DIRECTORY", 0200000 }, { "O_CLOEXEC", 02000000 }, { "AF_UNIX", 1 },
	{ "AF_INET", 2 },	  { "AF_INET6", 10 },	   { "SOCK_STREAM", 1 },
	{ "SOCK_DGRAM", 2 },	  { "SOCK_CLOEXEC", 02000000 }, { "SIGHUP", 1 },
	{ "SIGINT", 2 },	  { "SIGQUIT", 3 },	   { "SIGKILL", 9 },
	{ "SIGUSR1", 10 },	  { "SIGSEGV", 11 },	   { "SIGTERM", 15 },
	{ "SIGCHLD", 17 },	  { "WNOHANG", 1 },	   { "CLOCK_REALTIME", 0 },
	{ "CLOCK_MONOTONIC", 1 }, { "SYS_SOCKET", 1 },	   { "SYS_BIND", 2 },
	{ "SYS_CONNECT", 3 },	  { "SYS_LISTEN", 4 },	   { "SYS_ACCEPT", 5 },
	{ "NULL", 0 },
};

static bool parse_int(struct parse *ps, const char *raw, int64_t *ret)
{
	char buf[128], *save = NULL, *term;
	int64_t v = 0;

	if (strlen(raw) >= sizeof(buf)) {
		perr(ps, "argument too long: '%.40s...'", raw);
		return false;
	}
	strcpy(buf, raw);
	for (term = strtok_r(buf, "|", &save); term; term = strtok_r(NULL, "|", &save)) {
		char *end;
		long long x;
		size_t i;

		errno = 0;
		x = strtoll(term, &end, 0);
		if (end != term && !*end && !errno) {
			v |= x;
			continue;
		}
		for (i = 0; i < sizeof(consts) / sizeof(consts[0]); i++)
			if (!strcmp(consts[i].name, term))
				break;
		if (i == sizeof(consts) / sizeof(consts[0])) {
			perr(ps, "bad number or unknown constant '%s'", term);
			return false;
		}
		v |= consts[i].v;
	}
	*ret = v;
	return true;
}

static bool parse_strv(struct parse *ps, const char *raw, struct sarg *a)
{
	size_t n = strlen(raw);
	char *buf, *p;

	if (n < 2 || raw[n - 1] != ']') {
		perr(ps, "bad list '%s'", raw);
		return false;
	}
	buf = strndup(raw + 1, n - 2);
	if (!buf) {
		perr(ps, "out of memory");
		return false;
	}
	for (p = buf;;) {
		char *tok;
		size_t len;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p != '"') {
			perr(ps, "list items must be quoted strings");
			break;
		}
		/* find the closing quote */
		tok = p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (!*p) {
			perr(ps, "unterminated string in list");
			break;
		}
		p++;
		{
			char save = *p;

			*p = 0;
			if (a->nstrv >= SCN_MAX_STRV - 1) {
				perr(ps, "list longer than %d items", SCN_MAX_STRV - 1);
				break;
			}
			a->strv[a->nstrv] = unquote(ps, tok, &len);
			if (!a->strv[a->nstrv])
				break;
			a->nstrv++;
			*p = save;
		}
	}
	free(buf);
	return !ps->failed;
}

static bool parse_arg(struct parse *ps, const char *raw, struct sarg *a)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(raw, "np:", 3)) {
		raw += 3;
		a->np = true;
	}
	if (raw[0] == '"') {
		a->kind = AK_STR;
		a->s = unquote(ps, raw, &a->len);
		return a->s != NULL;
	}
	if (raw[0] == '[') {
		a->kind = AK_STRV;
		return parse_strv(ps, raw, a);
	}
	if (!strncmp(raw, "buf:", 4)) {
		int64_t n;

		a->kind = AK_BUF;
		if (!parse_int(ps, raw + 4, &n))
			return false;
		if (n < 0 || n > 4096) {
			perr(ps, "buffer size must be 0..4096");
			return false;
		}
		a->len = (size_t)n;
		return true;
	}
	if (a->np) {
		perr(ps, "np: applies to strings, lists and buffers only");
		return false;
	}
	if (!strncmp(raw, "ints:[", 6)) {
		char buf[256], *save = NULL, *tok;
		size_t n = strlen(raw);

		a->kind = AK_INTV;
		if (raw[n - 1] != ']' || n - 7 >= sizeof(buf)) {
			perr(ps, "expected ints:[N,N,...]");
			return false;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int)(n - 7), raw + 6);
		for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			int64_t v;

			if (a->nstrv >= SCN_MAX_STRV) {
				perr(ps, "ints: at most %d values", SCN_MAX_STRV);
				return false;
			}
			if (!parse_int(ps, tok, &v))
				return false;
			a->iv[a->nstrv++] = (int32_t)v;
		}
		return true;
	}
	if (!strncmp(raw, "int:", 4)) {
		a->kind = AK_INTP;
		return parse_int(ps, raw + 4, &a->v);
	}
	if (!strncmp(raw, "inet:", 5)) {
		char host[64];
		const char *colon = strrchr(raw + 5, ':');
		long port;

		a->kind = AK_SIN;
		if (!colon || (size_t)(colon - (raw + 5)) >= sizeof(host)) {
			perr(ps, "expected inet:A.B.C.D:PORT");
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - (raw + 5)), raw + 5);
		port = strtol(colon + 1, NULL, 10);
		if (inet_pton(AF_INET, host, a->addr) != 1 || port < 0 || port > 65535) {
			perr(ps, "bad IPv4 socket address '%s'", raw + 5);
			return false;
		}
		a->port = (uint16_t)port;
		return true;
	}
	if (!strncmp(raw, "inet6:[", 7)) {
		char host[64];
		const char *close = strchr(raw, ']');
		long port;

		a->kind = AK_SIN6;
		if (!close || close[1] != ':' || (size_t)(close - (raw + 7)) >= sizeof(host)) {
			perr(ps, "expected inet6:[ADDR]:PORT");
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - (raw + 7)), raw + 7);
		port = strtol(close + 2, NULL, 10);
		if (inet_pton(AF_INET6, host, a->addr) != 1 || port < 0 || port > 65535) {
			perr(ps, "bad IPv6 socket address");
			return false;
		}
		a->port = (uint16_t)port;
		return true;
	}
	if (!strncmp(raw, "unix:", 5)) {
		a->kind = AK_SUN;
		if (strlen(raw + 5) >= 108) {
			perr(ps, "unix socket path too long");
			return false;
		}
		a->s = strdup(raw + 5);
		return a->s != NULL;
	}
	if (raw[0] == '$') {
		a->kind = AK_REF;
		if (strlen(raw + 1) >= sizeof(a->ref) || !raw[1]) {
			perr(ps, "bad label reference '%s'", raw);
			return false;
		}
		strcpy(a->ref, raw + 1);
		return true;
	}
	a->kind = AK_INT;
	return parse_int(ps, raw, &a->v);
}

/* ---- statements ---- */
static struct sim_script *find_script(struct parse *ps, const char *vm, int pid)
{
	struct sim_script *s;

	for (s = ps->scripts; s; s = s->next)
		if (s->pid == pid && !strcmp(s->vm, vm))
			return s;
	return NULL;
}

static bool label_taken(struct dt_sim_host *h, struct parse *ps, const char *label)
{
	struct sim_script *s;
	size_t i;

	for (s = ps->scripts; s; s = s->next)
		for (i = 0; i < s->n; i++)
			if (!strcmp(s->steps[i].label, label))
				return true;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlabels; i++)
		if (!strcmp(h->labels[i].label, label))
			break;
	pthread_mutex_unlock(&h->lock);
	return i < h->nlabels;
}

static int sysnr(bool compat, const char *name)
{
	const struct dt_sim_sysnr *t = compat ? dt_sim_sysnr_32 : dt_sim_sysnr_64;
	size_t n = compat ? dt_sim_sysnr_32_len : dt_sim_sysnr_64_len, i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return (int)t[i].nr;
	return -1;
}

static void st_vm(struct parse *ps, char *p)
{
	struct vmdecl *d;
	char *tok = token(ps, &p);

	if (!tok) {
		perr(ps, "vm: name expected");
		return;
	}
	if (strlen(tok) >= DT_VM_NAME_MAX) {
		perr(ps, "vm: name too long");
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		perr(ps, "out of memory");
		return;
	}
	d->line = ps->line;
	d->p.build = -1;
	snprintf(d->p.name, sizeof(d->p.name), "%s", tok);
	snprintf(ps->cur_vm, sizeof(ps->cur_vm), "%s", tok);
	d->next = ps->vms;
	ps->vms = d;
	d->p.no_workload = true;
	while ((tok = token(ps, &p))) {
		char *eq = strchr(tok, '=');
		int64_t v = 0;

		if (!eq) {
			perr(ps, "vm: expected key=value, got '%s'", tok);
			return;
		}
		*eq++ = 0;
		if (!strcmp(tok, "flavour") || !strcmp(tok, "flavor")) {
			if (!strcmp(eq, "6.1"))
				d->p.flavour = DT_SIM_FLAVOUR_61;
			else if (!strcmp(eq, "6.6"))
				d->p.flavour = DT_SIM_FLAVOUR_66;
			else
				perr(ps, "vm: flavour must be 6.1 or 6.6");
			continue;
		}
		if (!strcmp(tok, "workload")) {
			if (strcmp(eq, "on") && strcmp(eq, "off"))
				perr(ps, "vm: workload must be on or off");
			d->p.no_workload = strcmp(eq, "on") != 0;
			continue;
		}
		if (!parse_int(ps, eq, &v))
			return;
		if (!strcmp(tok, "vcpus") && v >= 1 && v <= SIM_MAX_VCPUS)
			d->p.vcpus = (uint32_t)v;
		else if (!strcmp(tok, "mem") && v >= 32 && v <= 4096)
			d->p.mem_mib = (uint32_t)v;
		else if (!strcmp(tok, "build") && v >= 0 && v < 1000)
			d->p.build = (int)v;
		else if (!strcmp(tok, "seed"))
			d->p.seed = (uint64_t)v;
		else
			perr(ps, "vm: bad option or value '%s'", tok);
	}
}

static void st_proc(struct parse *ps, char *p)
{
	struct sim_script *s;
	char *tok = token(ps, &p), *end;
	long pid;

	if (!ps->cur_vm[0]) {
		perr(ps, "proc: no VM yet (use 'vm NAME' or 'use NAME' first)");
		return;
	}
	pid = tok ? strtol(tok, &end, 10) : 0;
	if (!tok || *end || pid < 10 || pid > 32767) {
		perr(ps, "proc: pid 10..32767 expected");
		return;
	}
	if (find_script(ps, ps->cur_vm, (int)pid)) {
		perr(ps, "proc: pid %ld declared twice", pid);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		perr(ps, "out of memory");
		return;
	}
	s->pid = (int)pid;
	s->ppid = 1;
	s->line = ps->line;
	snprintf(s->vm, sizeof(s->vm), "%s", ps->cur_vm);
	snprintf(s->comm, sizeof(s->comm), "proc%ld", pid);
	s->next = ps->scripts;
	ps->scripts = s;
	while ((tok = token(ps, &p))) {
		char *eq = strchr(tok, '=');
		int64_t v;
		int i;

		if (!strcmp(tok, "compat")) {
			s->compat = true;
			continue;
		}
		if (!strcmp(tok, "forked")) {
			s->forked = true;
			continue;
		}
		if (!eq) {
			perr(ps, "proc: unknown option '%s'", tok);
			return;
		}
		*eq++ = 0;
		if (!strcmp(tok, "comm")) {
			size_t len;
			char *c = eq[0] == '"' ? unquote(ps, eq, &len) : strdup(eq);

			if (!c)
				return;
			snprintf(s->comm, sizeof(s->comm), "%s", c);
			free(c);
			continue;
		}
		if (!parse_int(ps, eq, &v))
			return;
		if (!strcmp(tok, "ppid")) {
			s->ppid = (int)v;
			continue;
		}
		if (v < 0 || v > 0xfffffffeLL) {
			perr(ps, "proc: id out of range");
			return;
		}
		if (!strcmp(tok, "uid")) {
			for (i = 0; i < 8; i += 2)
				s->ids[i] = (uint32_t)v;
		} else if (!strcmp(tok, "gid")) {
			for (i = 1; i < 8; i += 2)
				s->ids[i] = (uint32_t)v;
		} else if (!strcmp(tok, "euid")) {
			s->ids[4] = s->ids[6] = (uint32_t)v;
		} else if (!strcmp(tok, "egid")) {
			s->ids[5] = s->ids[7] = (uint32_t)v;
		} else {
			perr(ps, "proc: unknown option '%s'", tok);
			return;
		}
	}
}

static struct sstep *add_step(struct parse *ps, struct sim_script *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct sstep *n = realloc(s->steps, cap * sizeof(*n));

		if (!n) {
			perr(ps, "out of memory");
			return NULL;
		}
		s->steps = n;
		s->cap = cap;
	}
	memset(&s->steps[s->n], 0, sizeof(s->steps[0]));
	s->steps[s->n].line = ps->line;
	return &s->steps[s->n++];
}

static void st_step(struct dt_sim_host *h, struct parse *ps, const char *pidtok, char *p)
{
	struct sim_script *s;
	struct sstep *st;
	char *verb, *tok, *end;
	long pid = strtol(pidtok, &end, 10);

	if (*end || !ps->cur_vm[0] || !(s = find_script(ps, ps->cur_vm, (int)pid))) {
		perr(ps, "'%s': not a statement, nor a pid declared with 'proc' in this VM",
		     pidtok);
		return;
	}
	verb = token(ps, &p);
	if (!verb) {
		perr(ps, "action expected after pid");
		return;
	}
	st = add_step(ps, s);
	if (!st)
		return;
	if (!strcmp(verb, "segv")) {
		st->kind = SK_SEGV;
	} else if (!strcmp(verb, "sleep")) {
		st->kind = SK_SLEEP;
		tok = token(ps, &p);
		if (!tok || !parse_int(ps, tok, &st->ms) || st->ms < 0 || st->ms > 3600000)
			perr(ps, "sleep: milliseconds 0..3600000 expected");
	} else if (!strcmp(verb, "await")) {
		st->kind = SK_AWAIT;
		tok = token(ps, &p);
		if (!tok || strlen(tok) >= sizeof(st->label))
			perr(ps, "await: label expected");
		else
			strcpy(st->label, tok);
		/* the label is a reference, not a definition: keep it out of label checks */
		return;
	} else if (!strcmp(verb, "call") || !strcmp(verb, "exit")) {
		const char *name = verb[0] == 'c' ? token(ps, &p) : "exit_group";

		st->kind = SK_CALL;
		if (!name) {
			perr(ps, "call: system call name expected");
			return;
		}
		st->nr = sysnr(s->compat, name);
		if (st->nr < 0) {
			perr(ps, "unknown %s system call '%s'", s->compat ? "i386" : "x86-64",
			     name);
			return;
		}
	} else {
		perr(ps, "unknown action '%s' (call, exit, sleep, segv, await)", verb);
		return;
	}
	while (!ps->failed && (tok = token(ps, &p))) {
		if (!strncmp(tok, "label=", 6)) {
			if (!tok[6] || strlen(tok + 6) >= sizeof(st->label)) {
				perr(ps, "bad label");
				return;
			}
			if (label_taken(h, ps, tok + 6)) {
				perr(ps, "label '%s' used twice", tok + 6);
				return;
			}
			strcpy(st->label, tok + 6);
			continue;
		}
		if (!strncmp(tok, "race=", 5) && st->kind == SK_CALL) {
			free(st->race);
			st->race = unquote(ps, tok + 5, &st->race_len);
			if (!st->race)
				return;
			st->race_len--; /* without the NUL */
			continue;
		}
		if (!strncmp(tok, "child=", 6)) {
			st->child = (int)strtol(tok + 6, &end, 10);
			if (*end || st->child < 10 || st->child > 32767)
				perr(ps, "child: pid 10..32767 expected");
			continue;
		}
		if (st->kind != SK_CALL) {
			perr(ps, "unexpected '%s'", tok);
			return;
		}
		if (st->na == SCN_MAX_ARGS) {
			perr(ps, "more than %d arguments", SCN_MAX_ARGS);
			return;
		}
		if (!parse_arg(ps, tok, &st->a[st->na]))
			return;
		st->na++;
	}
}

void dt_sim_scn_parse_line(struct dt_sim_host *h, struct parse *ps, char *line)
{
	char *p = line, *tok = token(ps, &p);

	if (!tok)
		return;
	if (!strcmp(tok, "vm")) {
		st_vm(ps, p);
	} else if (!strcmp(tok, "use")) {
		tok = token(ps, &p);
		if (!tok || strlen(tok) >= sizeof(ps->cur_vm))
			perr(ps, "use: VM name expected");
		else
			strcpy(ps->cur_vm, tok);
	} else if (!strcmp(tok, "proc")) {
		st_proc(ps, p);
	} else if (isdigit((unsigned char)tok[0])) {
		st_step(h, ps, tok, p);
	} else {
		perr(ps, "unknown statement '%s'", tok);
	}
}

