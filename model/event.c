// SPDX-License-Identifier: GPL-2.0-only
/* Events: one allocation each, strings in a bounded arena at the end. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/event.h"

/* The header of a zeroed event: what "unknown" is for each field that 0 would misstate. */
static void init_header(struct dt_event *ev, enum dt_event_type type, size_t size, size_t arena)
{
	cds_wfcq_node_init(&ev->qnode);
	ev->type = type;
	ev->func_id = -1;
	ev->nr = -1;
	ev->proc.ppid = ev->proc.rppid = -1;
	ev->size = size;
	ev->arena_cap = arena;
}

/*
 * The header is zeroed, the arena is not: every byte of it is written before it is read
 * (dt_event_strdup, _printf, _alloc hand out space at arena_used and their callers fill
 * what they use). A calloc of the 16 KiB call event cleared it all on every trap: 17,000
 * of the worker's 22,000 instructions per trap (callgrind, the sim, one probe), the
 * largest part of domtrace's user time per hit on the Xen tier. Valgrind's memcheck finds
 * one reader of unwritten arena bytes: PCRE2's JIT, whose aligned SIMD loads look past a
 * subject's end (never across a page); the subject's length is passed (filters/chain.c), so
 * no result depends on those bytes, and memcheck reports nothing else (the sim demo and the
 * one-probe JSON run, 2026-12-07).
 */
int dt_event_new(enum dt_event_type type, size_t arena, struct dt_event **ret_ev)
{
	struct dt_event *ev;
	size_t size = sizeof(*ev) + arena;

	*ret_ev = NULL;
	ev = malloc(size);
	if (!ev)
		return -ENOMEM;
	memset(ev, 0, sizeof(*ev));
	init_header(ev, type, size, arena);
	*ret_ev = ev;
	return 0;
}

void dt_event_free(struct dt_event *ev)
{
	free(ev);
}

void dt_event_reset(struct dt_event *ev, enum dt_event_type type)
{
	size_t size = ev->size, cap = ev->arena_cap;

	/* what dt_event_new gives: a zeroed header (the arena is written before it is read) */
	memset(ev, 0, sizeof(*ev));
	init_header(ev, type, size, cap);
}

static const void *rebase(const struct dt_event *from, struct dt_event *to, const void *p)
{
	const char *c = p;

	if (c >= from->arena && c < from->arena + from->arena_cap)
		return to->arena + (c - from->arena);
	return p;
}

int dt_event_clone(const struct dt_event *ev, size_t extra, struct dt_event **ret_ev)
{
	size_t cap = ev->arena_used + extra;
	struct dt_event *c;
	unsigned i;

	*ret_ev = NULL;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return -ENOMEM;
	memcpy(c, ev, sizeof(*c) + ev->arena_used);
	cds_wfcq_node_init(&c->qnode);
	c->arena_cap = cap;
	c->size = sizeof(*c) + cap;
	for (i = 0; i < c->nargs; i++) {
		c->args[i].name = rebase(ev, c, ev->args[i].name);
		c->args[i].value = rebase(ev, c, ev->args[i].value);
	}
	for (i = 0; i < c->ndec; i++) {
		c->dec[i].name = rebase(ev, c, ev->dec[i].name);
		c->dec[i].value = rebase(ev, c, ev->dec[i].value);
	}
	c->anc = (struct dt_proc_info *)rebase(ev, c, ev->anc);
	c->ps = (struct dt_pslist_entry *)rebase(ev, c, ev->ps);
	c->func = rebase(ev, c, ev->func);
	c->msg = rebase(ev, c, ev->msg);
	*ret_ev = c;
	return 0;
}

void *dt_event_alloc(struct dt_event *ev, size_t n)
{
	size_t off = (ev->arena_used + 7u) & ~(size_t)7u;

	if (off > ev->arena_cap || n > ev->arena_cap - off)
		return NULL;
	ev->arena_used = off + n;
	return ev->arena + off;
}

const char *dt_event_strdup(struct dt_event *ev, const char *s, size_t len)
{
	size_t room;
	char *p;

	if (ev->arena_used >= ev->arena_cap)
		return "";
	room = ev->arena_cap - ev->arena_used;
	if (len >= room)
		len = room - 1;
	p = ev->arena + ev->arena_used;
	memcpy(p, s, len);
	p[len] = '\0';
	ev->arena_used += len + 1;
	return p;
}

const char *dt_event_printf(struct dt_event *ev, const char *fmt, ...)
{
	size_t room;
	char *p;
	va_list ap;
	int n;

	if (ev->arena_used >= ev->arena_cap)
		return "";
	room = ev->arena_cap - ev->arena_used;
	p = ev->arena + ev->arena_used;
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		p[0] = '\0';
		n = 0;
	}
	if ((size_t)n >= room)
		n = (int)room - 1;
	ev->arena_used += (size_t)n + 1;
	return p;
}

bool dt_event_add_dec(struct dt_event *ev, const char *name, const char *value)
{
	if (ev->ndec >= DT_MAX_DECS)
		return false;
	ev->dec[ev->ndec].name = name;
	ev->dec[ev->ndec].value = value;
	ev->dec[ev->ndec].alias = false;
	ev->ndec++;
	return true;
}

const char *dt_event_value_of(const struct dt_event *ev, const char *argname)
{
	unsigned i;

	if (strchr(argname, ':')) {
		for (i = 0; i < ev->ndec; i++)
			if (strcmp(ev->dec[i].name, argname) == 0)
				return ev->dec[i].value;
		return NULL;
	}
	for (i = 0; i < ev->nargs; i++)
		if (ev->args[i].name && strcmp(ev->args[i].name, argname) == 0)
			return ev->args[i].value;
	return NULL;
}

const char *dt_event_type_name(enum dt_event_type type)
{
	static const char *const names[_DT_EV_MAX] = {
		[DT_EV_CALL] = "call",	 [DT_EV_MATCH] = "match",
		[DT_EV_ABORT] = "abort", [DT_EV_WOULD_ABORT] = "would-abort",
		[DT_EV_PSLIST] = "pslist", [DT_EV_LOST] = "lost",
		[DT_EV_NOTICE] = "notice",
	};

	if ((int)type <= 0 || type >= _DT_EV_MAX)
		return "unknown";
	return names[type];
}
