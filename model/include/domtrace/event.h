/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * event.h - the record a worker makes of one traced call (or pslist, loss, notice),
 * which the filter chain matches and the reporters print and send.
 *
 * Ownership: a worker allocates an event with dt_event_new(), fills it (all strings
 * live in the event's own arena, or are static catalogue strings), runs the filter
 * chain on it, then hands it to the report queue, which owns it from then on; the
 * reporter thread frees it with dt_event_free() once every sink has seen it. An
 * event is immutable once queued. One allocation per event, capped in size.
 *
 * Strings are raw guest bytes as decoded (NUL-terminated, never containing NUL):
 * a guest may put anything in them, so every sink escapes them for its format.
 */
#ifndef DOMTRACE_EVENT_H
#define DOMTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/wfcqueue.h>

#include "domtrace/catalog.h"
#include "domtrace/hv.h"

#define DT_COMM_LEN 17	      /* TASK_COMM_LEN + NUL */
#define DT_MAX_DECS 16	      /* decodings carried by one event */
#define DT_EVENT_ARENA 16384  /* bytes of decoded text one call event may carry */
#define DT_ANCESTRY_MAX 64    /* ancestors kept (bounded walk) */
#define DT_UNKNOWN_OBJECT 0x80 /* struct dt_event.unknown: see there */

enum dt_event_type {
	DT_EV_CALL = 1,	   /* a traced call that matched no filter: logged only */
	DT_EV_MATCH,	   /* matched an apply=0 filter */
	DT_EV_ABORT,	   /* matched an apply=1 filter; the call was aborted */
	DT_EV_WOULD_ABORT, /* matched an apply=1 filter with the global action bit off */
	DT_EV_PSLIST,	   /* process list */
	DT_EV_LOST,	   /* `lost` events of this VM were dropped before this one */
	DT_EV_NOTICE,	   /* VM attached / detached / refused, config reloaded: see msg */
	_DT_EV_MAX,
};

enum dt_when {
	DT_WHEN_PRE = 1,
	DT_WHEN_POST = 2,
	DT_WHEN_BOTH = 3, /* filters only; an event is PRE or POST */
};

struct dt_proc_info {
	int32_t pid, tgid;
	int32_t ppid;  /* pid of task->parent, -1 if unknown */
	int32_t rppid; /* pid of task->real_parent, -1 if unknown */
	uint32_t uid, gid, euid, egid;
	char comm[DT_COMM_LEN];
	uint64_t task; /* guest address of the task_struct */
};

struct dt_arg {
	const char *name;  /* catalogue string */
	uint64_t raw;	   /* the register value */
	const char *value; /* text a filter's argval matches (unescaped); NULL: not rendered */
	bool pending;	   /* OUT argument, value filled after the call */
	bool truncated;	   /* value was cut (DT_STR_MAX, DT_ARGV_*, DT_BUF_SHOW, arena full) */
};

struct dt_decoding {
	const char *name;  /* "code:signal", "call:call" (arena or static) */
	const char *value; /* "SIGSEGV", "connect" */
	/* A second name for what the event says already (regs:filename, status:cause,
	 * flags:flags repeating flags=): filters match it, A3 strings leave it out. */
	bool alias;
};

struct dt_pslist_entry {
	int32_t pid, ppid;
	char comm[DT_COMM_LEN];
};

struct dt_event {
	struct cds_wfcq_node qnode; /* report queue linkage; owned by the queue */
	enum dt_event_type type;
	enum dt_when when; /* call events: PRE or POST */
	uint64_t seq;	   /* per VM, from 1, gapless unless events were lost */
	uint64_t ts_ns;	   /* CLOCK_REALTIME at the trap */
	uint32_t domid;
	uint32_t vcpu;
	char vm[DT_VM_NAME_MAX];

	/* call, match, abort, would-abort, pslist: the calling process */
	struct dt_proc_info proc;
	uint16_t nanc; /* ancestors loaded (parent first); 0 if never needed */
	struct dt_proc_info *anc;

	/* call, match, abort, would-abort */
	int func_id;	  /* catalogue id */
	const char *func; /* display name, e.g. "sys_execve" */
	int32_t nr;	  /* syscall number, -1 for kernel functions */
	bool compat;	  /* i386 syscall from a 32-bit process */
	uint64_t site;	  /* guest address of the probe */
	uint8_t nargs;
	uint8_t unknown; /* bit i: args[i]'s value is not known yet (not present, or to be
			  * read from the kernel's own copy); DT_UNKNOWN_OBJECT: the file an
			  * open reached ("<arg>:path") is not known yet. Filters cannot
			  * decide on what is unknown. */
	struct dt_arg args[DT_MAX_ARGS];
	uint8_t ndec;
	struct dt_decoding dec[DT_MAX_DECS];
	bool has_ret;
	int64_t ret;
	uint64_t latency_ns; /* POST: time since the PRE hit */
	bool unfinished;     /* PRE sent at detach: the call had not returned */
	bool post_follows;   /* PRE whose return will be reported in a POST event */

	uint32_t filter;   /* 1-based index of the first matching filter, 0 = none */
	int64_t abort_ret; /* ABORT / WOULD_ABORT: the value returned (or not) */

	/* pslist */
	uint32_t nps;
	struct dt_pslist_entry *ps;

	/* lost */
	uint64_t lost;
	/* NULL: lost before the queue (this VM's events did not fit). Else the sink that
	 * could not deliver them ("log", "report", "a3") and why; such records come from
	 * the reporter (vm "domtrace") or, per VM, from the A3 sink's own bound. */
	const char *lost_sink;
	const char *lost_reason;

	/* notice */
	const char *msg;

	/* arena bookkeeping (model/event.c) */
	size_t size;	   /* bytes allocated for this event in total (memory bound) */
	size_t arena_used;
	size_t arena_cap;
	char arena[];
};

/* Allocate an event with `arena` bytes of text space into *ret_ev (the caller owns it).
 * 0, or -ENOMEM with *ret_ev = NULL. Any thread. */
int dt_event_new(enum dt_event_type type, size_t arena, struct dt_event **ret_ev);
void dt_event_free(struct dt_event *ev); /* NULL ok */
/* Make ev (not queued, owned by the caller) what dt_event_new(type, its arena size)
 * returns, without allocating: the header zeroed, the arena empty (its bytes are not
 * cleared: nothing reads arena space before writing it). */
void dt_event_reset(struct dt_event *ev, enum dt_event_type type);
/* A copy with its own arena (the used part plus `extra` bytes); pointers into the old
 * arena are rebased, static ones kept. Not queued (fresh qnode). 0, or -ENOMEM with
 * *ret_ev = NULL. */
int dt_event_clone(const struct dt_event *ev, size_t extra, struct dt_event **ret_ev);

/* Copy a string into the event's arena (truncated to what fits, NUL-terminated).
 * Returns the copy, or a static "" if the arena is full. */
const char *dt_event_strdup(struct dt_event *ev, const char *s, size_t len);
/* printf into the arena; same truncation rule. */
const char *dt_event_printf(struct dt_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Raw arena space (aligned to 8), NULL if it does not fit. */
void *dt_event_alloc(struct dt_event *ev, size_t n);
/* Add a decoding; false if DT_MAX_DECS are already there. */
bool dt_event_add_dec(struct dt_event *ev, const char *name, const char *value);

/* Lookups a filter uses: the argument or decoding named `argname` ("filename",
 * "code:signal"); NULL if this event has none. */
const char *dt_event_value_of(const struct dt_event *ev, const char *argname);

const char *dt_event_type_name(enum dt_event_type type); /* "match", "abort", ... */

#endif /* DOMTRACE_EVENT_H */
