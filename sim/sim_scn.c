// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_scn.c - scenario files: a line language that creates VMs and processes and scripts
 * exact system calls (docs/SIM.md has the grammar). Parsing is all-or-nothing with
 * "<file>:<line>: message" errors; running creates the VMs and processes, whose scripts
 * the vCPUs then execute like any user program (real kernel entries).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_vm.h"

#define SCN_MAX_ARGS 6
#define SCN_MAX_STRV 16

enum ak { AK_INT, AK_STR, AK_BUF, AK_STRV, AK_SIN, AK_SIN6, AK_SUN, AK_INTP, AK_REF };

struct sarg {
	enum ak kind;
	bool np;
	int64_t v;
	char *s;	     /* AK_STR, AK_SUN */
	size_t len;	     /* AK_STR byte count incl. NUL, AK_BUF size */
	char *strv[SCN_MAX_STRV]; /* AK_STRV */
	size_t nstrv;
	uint8_t addr[16];
	uint16_t port;
	char ref[32];
};

enum sk { SK_CALL, SK_SLEEP, SK_SEGV, SK_AWAIT };

struct sstep {
	enum sk kind;
	int line;
	int nr;
	char label[32];
	int child;
	struct sarg a[SCN_MAX_ARGS];
	int na;
	int64_t ms;
};

struct sim_script {
	struct sim_script *next;
	char vm[DT_VM_NAME_MAX];
	uint32_t domid;
	int pid, ppid, line;
	char comm[16];
	uint32_t ids[8];
	bool compat, forked, finished;
	struct sstep *steps;
	size_t n, cap;
};

struct vmdecl {
	struct vmdecl *next;
	struct dt_sim_vm_params p;
	int line;
};

struct parse {
	const char *fname;
	int line;
	char *err;
	size_t errlen;
	bool failed;
	struct vmdecl *vms;
	struct sim_script *scripts;
	char cur_vm[DT_VM_NAME_MAX];
};

static void perr(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct parse *ps, const char *fmt, ...)
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
	for (i = 0; i < a->nstrv; i++)
		free(a->strv[i]);
}

static void script_free(struct sim_script *s)
{
	size_t i;
	int k;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->steps[i].na; k++)
			sarg_free(&s->steps[i].a[k]);
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

static void parse_line(struct dt_sim_host *h, struct parse *ps, char *line)
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

/* ---- running ---- */
static int run_fail(struct parse *ps, int line, int err, const char *what)
{
	ps->line = line;
	perr(ps, "%s: %s", what, strerror(-err));
	return err;
}

static int start_proc(struct dt_sim_host *h, struct parse *ps, struct sim_script *s)
{
	struct sim_task *parent, *t;
	struct sim_vm *vm;
	uint32_t domid;
	int err;

	err = dt_sim_vm_find(h, s->vm, &domid);
	if (err)
		return run_fail(ps, s->line, err, "proc: VM not found");
	s->domid = domid;
	if (s->forked)
		return 0;
	vm = dt_sim_vm_get(h, domid);
	if (!vm)
		return run_fail(ps, s->line, -ENODEV, "proc");
	pthread_mutex_lock(&vm->lock);
	err = -ESRCH;
	parent = dt_sim_task_find(vm, s->ppid);
	if (!parent || parent->state == TS_ZOMBIE || parent->kthread)
		goto out;
	err = -EEXIST;
	if (dt_sim_task_find(vm, s->pid))
		goto out;
	err = -ENOMEM;
	t = dt_sim_task_new(vm, parent, s->pid, s->comm, s->compat, SIM_TF_NEW_MM);
	if (!t)
		goto out;
	dt_sim_task_set_ids(t, s->ids);
	memset(t->fd, 0, sizeof(t->fd));
	t->fd[0].kind = t->fd[1].kind = t->fd[2].kind = FD_TTY;
	memset(&t->prog, 0, sizeof(t->prog));
	t->prog.kind = P_SCRIPT;
	t->prog.script = s;
	dt_sim_rq_push(vm, t);
	dt_sim_vm_wake(vm);
	err = 0;
out:
	pthread_mutex_unlock(&vm->lock);
	dt_sim_vm_put(vm);
	return err ? run_fail(ps, s->line, err, "proc: cannot create the process") : 0;
}

static int register_labels(struct dt_sim_host *h, struct sim_script *s)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < s->n; i++) {
		struct sim_label *l;

		if (!s->steps[i].label[0] || s->steps[i].kind == SK_AWAIT)
			continue;
		if (h->nlabels == h->caplabels) {
			size_t cap = h->caplabels ? h->caplabels * 2 : 32;
			struct sim_label *n = realloc(h->labels, cap * sizeof(*n));

			if (!n) {
				pthread_mutex_unlock(&h->lock);
				return -ENOMEM;
			}
			h->labels = n;
			h->caplabels = cap;
		}
		l = &h->labels[h->nlabels++];
		memset(l, 0, sizeof(*l));
		snprintf(l->label, sizeof(l->label), "%s", s->steps[i].label);
	}
	h->scripts_running++;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int dt_sim_scn_run(struct dt_sim_host *h, const char *text, const char *fname, char *err,
		   size_t errlen)
{
	struct parse ps = { .fname = fname ? fname : "<scenario>", .err = err, .errlen = errlen };
	char *copy = strdup(text), *line, *next;
	struct vmdecl *d;
	struct sim_script *s;
	int rc = -EINVAL;

	if (err && errlen)
		err[0] = 0;
	if (!copy)
		return -ENOMEM;
	/* the current VM starts as the first traceable one */
	{
		struct sim_vm *vm;
		uint32_t best = UINT32_MAX;

		pthread_mutex_lock(&h->lock);
		for (vm = h->vms; vm; vm = vm->next) {
			if (!vm->p.pv && vm->domid < best) {
				best = vm->domid;
				snprintf(ps.cur_vm, sizeof(ps.cur_vm), "%s", vm->name);
			}
		}
		pthread_mutex_unlock(&h->lock);
	}
	for (line = copy; line && !ps.failed; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		ps.line++;
		parse_line(h, &ps, line);
	}
	if (ps.failed)
		goto out;
	/* VMs first (in file order), then processes */
	{
		struct vmdecl *rev = NULL;

		while ((d = ps.vms)) {
			ps.vms = d->next;
			d->next = rev;
			rev = d;
		}
		ps.vms = rev;
	}
	for (d = ps.vms; d; d = d->next) {
		uint32_t domid;

		if (!dt_sim_vm_find(h, d->p.name, &domid))
			continue;
		rc = dt_sim_vm_create(h, &d->p, &domid);
		if (rc) {
			run_fail(&ps, d->line, rc, "vm: cannot create");
			goto out;
		}
	}
	/* processes in file order, so that a ppid may name an earlier proc */
	{
		struct sim_script *rev = NULL;

		while ((s = ps.scripts)) {
			ps.scripts = s->next;
			s->next = rev;
			rev = s;
		}
		ps.scripts = rev;
	}
	rc = 0;
	while ((s = ps.scripts)) {
		bool counted = false;

		ps.scripts = s->next;
		if (!rc) {
			rc = register_labels(h, s);
			counted = !rc;
		}
		/* hand the script to the host before its process can run */
		pthread_mutex_lock(&h->lock);
		s->finished = rc != 0;
		s->next = h->scripts;
		h->scripts = s;
		pthread_mutex_unlock(&h->lock);
		if (!rc)
			rc = start_proc(h, &ps, s);
		if (rc && counted) {
			pthread_mutex_lock(&h->lock);
			s->finished = true;
			h->scripts_running--;
			pthread_cond_broadcast(&h->cond);
			pthread_mutex_unlock(&h->lock);
		}
	}
out:
	while ((d = ps.vms)) {
		ps.vms = d->next;
		free(d);
	}
	dt_sim_scripts_free(ps.scripts);
	free(copy);
	return rc;
}

/* ---- execution (vm->lock held, on the vCPU running the task) ---- */
static void script_done(struct sim_task *t)
{
	struct sim_script *s = t->prog.script;
	struct dt_sim_host *h = t->vm->h;

	if (!s)
		return;
	pthread_mutex_lock(&h->lock);
	if (!s->finished) {
		s->finished = true;
		if (h->scripts_running)
			h->scripts_running--;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

static bool label_result(struct dt_sim_host *h, const char *label, int64_t *ret)
{
	size_t i;
	bool done = false;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlabels; i++) {
		if (!strcmp(h->labels[i].label, label)) {
			done = h->labels[i].call.done;
			*ret = h->labels[i].call.ret;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return done;
}

struct ubuf {
	struct sim_task *t;
	uint64_t off, npoff;
};

static uint64_t uplace(struct ubuf *u, const void *p, size_t n, bool np)
{
	struct sim_mm *mm = u->t->mm;
	uint64_t *off = np ? &u->npoff : &u->off, lim = np ? 2 * SIM_PAGE : mm->arena_len, va;

	*off = (*off + 7) & ~7ULL;
	if (*off + n > lim)
		*off = 0;
	va = (np ? mm->np : mm->arena) + *off;
	if (p)
		dt_sim_uput(u->t, va, p, n);
	*off += n;
	return va;
}

static uint64_t build_arg(struct ubuf *u, const struct sarg *a, bool *ok)
{
	struct sim_task *t = u->t;
	uint8_t sa[110] = { 0 };
	size_t i;

	switch (a->kind) {
	case AK_INT:
		return (uint64_t)a->v;
	case AK_STR:
		return uplace(u, a->s, a->len, a->np);
	case AK_BUF: {
		static const uint8_t zero[4096];

		return uplace(u, zero, a->len, a->np);
	}
	case AK_INTP: {
		int32_t v = (int32_t)a->v;

		return uplace(u, &v, 4, false);
	}
	case AK_STRV: {
		uint64_t p64[SCN_MAX_STRV] = { 0 };
		uint32_t p32[SCN_MAX_STRV] = { 0 };

		for (i = 0; i < a->nstrv; i++) {
			p64[i] = uplace(u, a->strv[i], strlen(a->strv[i]) + 1, a->np);
			p32[i] = (uint32_t)p64[i];
		}
		return t->compat ? uplace(u, p32, (a->nstrv + 1) * 4, a->np)
				 : uplace(u, p64, (a->nstrv + 1) * 8, a->np);
	}
	case AK_SIN:
		sa[0] = 2;
		sa[2] = (uint8_t)(a->port >> 8), sa[3] = (uint8_t)a->port;
		memcpy(sa + 4, a->addr, 4);
		return uplace(u, sa, 16, false);
	case AK_SIN6:
		sa[0] = 10;
		sa[2] = (uint8_t)(a->port >> 8), sa[3] = (uint8_t)a->port;
		memcpy(sa + 8, a->addr, 16);
		return uplace(u, sa, 28, false);
	case AK_SUN:
		sa[0] = 1;
		snprintf((char *)sa + 2, sizeof(sa) - 2, "%s", a->s);
		return uplace(u, sa, 110, false);
	case AK_REF: {
		int64_t v = 0;

		if (!label_result(t->vm->h, a->ref, &v))
			*ok = false;
		return (uint64_t)v;
	}
	}
	return 0;
}

void dt_sim_script_step(struct sim_task *t, struct sim_ucall *uc)
{
	struct sim_script *s = t->prog.script;
	struct ubuf u = { .t = t };
	const struct sstep *st;
	int64_t dummy;
	int i;

again:
	if (!s || t->prog.spc >= s->n) {
		script_done(t);
		uc->act = UA_SYSCALL;
		uc->nr = t->compat ? 252 : 231; /* exit_group(0) */
		return;
	}
	st = &s->steps[t->prog.spc];
	switch (st->kind) {
	case SK_AWAIT:
		if (!label_result(t->vm->h, st->label, &dummy)) {
			uc->act = UA_IDLE;
			return;
		}
		t->prog.spc++;
		goto again;
	case SK_SEGV:
		t->prog.spc++;
		uc->act = UA_SEGV;
		return;
	case SK_SLEEP: {
		int64_t ts[2] = { st->ms / 1000, (st->ms % 1000) * 1000000 };
		int32_t t32[2] = { (int32_t)ts[0], (int32_t)ts[1] };

		uc->act = UA_SYSCALL;
		uc->nr = t->compat ? 162 : 35; /* nanosleep */
		uc->a[0] = t->compat ? uplace(&u, t32, 8, false) : uplace(&u, ts, 16, false);
		t->prog.spc++;
		return;
	}
	case SK_CALL: {
		bool ok = true;
		uint64_t a[SCN_MAX_ARGS] = { 0 };

		for (i = 0; i < st->na; i++)
			a[i] = build_arg(&u, &st->a[i], &ok);
		if (!ok) { /* a referenced call is not done yet */
			uc->act = UA_IDLE;
			return;
		}
		uc->act = UA_SYSCALL;
		uc->nr = st->nr;
		memcpy(uc->a, a, sizeof(a));
		uc->label = st->label[0] ? st->label : NULL;
		if (st->child)
			t->fork_pid = st->child;
		t->prog.spc++;
		return;
	}
	}
}

void dt_sim_script_result(struct sim_task *t, int64_t ret)
{
	struct sim_script *s = t->prog.script, *c;
	struct dt_sim_host *h = t->vm->h;

	if (ret == INT64_MIN) { /* the process is exiting */
		script_done(t);
		return;
	}
	t->prog.last = ret;
	if (!s || s->pid == t->pid)
		return;
	/* a forked child: adopt the script declared for its pid, or end */
	t->prog.script = NULL;
	t->prog.spc = 0;
	pthread_mutex_lock(&h->lock);
	for (c = h->scripts; c; c = c->next)
		if (c->pid == t->pid && c->domid == t->vm->domid && c->forked && !c->finished)
			break;
	pthread_mutex_unlock(&h->lock);
	t->prog.script = c;
}
