/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest_internal.h - private to engine/guest/: the struct dt_guest and helpers shared
 * by its files. Same threading rule as guest.h: a dt_guest is its worker's alone.
 */
#ifndef DOMTRACE_GUEST_INTERNAL_H
#define DOMTRACE_GUEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/types.h>

#include "domtrace/guest.h"

/* snprintf into a caller's error buffer (NULL/0 ok). */
void dt_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define DT_TASK_SPAN_MAX 16384 /* bytes of task_struct read in one go */
#define DT_CRED_SPAN_MAX 512

/* One ancestry-cache entry: a task's data and the pointers to its parents. */
struct dt_task_entry {
	uint64_t task;
	uint64_t parent, real_parent;
	struct dt_proc_info info;
	uint32_t hnext;		/* hash chain (index + 1, 0 = end) */
	uint32_t lru_prev, lru_next; /* LRU list (index + 1, 0 = end) */
	bool used;
};

struct dt_task_cache {
	struct dt_task_entry *e;
	uint32_t *bucket; /* index + 1, 0 = empty */
	uint32_t cap, nbuckets, n;
	uint32_t lru_head, lru_tail; /* most / least recently used */
	uint32_t free_head;	      /* unused entries, linked by hnext */
	struct dt_guest_cache_stats st;
};

struct dt_guest {
	const struct dt_hv_ops *ops;
	struct dt_hv_dom *dom;
	const struct dt_symtab *symtab;
	char *vm_name;
	uint64_t kaslr;
	uint64_t kcr3; /* kernel page-table root */
	char release[DT_RELEASE_MAX];
	struct dt_offsets off;
	enum dt_off_source off_src;

	/* resolved at open */
	uint64_t init_task;	  /* runtime address */
	uint64_t current_off;	  /* per-cpu offset of the current-task pointer */
	bool current_percpu;	  /* current_off is zero-based (add a per-cpu base) */
	uint64_t per_cpu_offset;  /* runtime address of __per_cpu_offset[], 0 if none */

	/* the span of task_struct read in one go for process data */
	uint32_t task_lo, task_hi;
	uint32_t cred_lo, cred_hi;

	struct dt_task_cache cache;

	/* the direct-map shortcut (dmap.c): page_offset_base, 0 while off; its extent */
	uint64_t dm_base, dm_size;
	struct dt_guest_dmap_stats dm_stats;

	/* scratch for one task_struct span (the guest is one thread's: no locking) */
	uint8_t span[DT_TASK_SPAN_MAX];
};

/* guest.c: read len bytes of kernel memory, all of them: 0, -EFAULT (short or not a
 * kernel address) or the backend's -errno (-ENODEV: the domain is gone). */
int dt_guest_read_full(struct dt_guest *g, uint64_t va, void *buf, size_t len);

/* dmap.c: the direct-map shortcut. init at attach, once kcr3 is final; read: the
 * read_pa'ed bytes (len, all of them), -ENODEV, or DT_DMAP_NOT_TAKEN (read through
 * the walk instead). */
#define DT_DMAP_NOT_TAKEN ((ssize_t)-EAGAIN)
void dt_guest_dmap_init(struct dt_guest *g, const struct dt_regs *regs);
ssize_t dt_guest_dmap_read(struct dt_guest *g, uint64_t va, void *buf, size_t len);

/* tasks.c */
int dt_task_cache_init(struct dt_task_cache *c, uint32_t entries);
void dt_task_cache_free(struct dt_task_cache *c);
void dt_guest_task_span(struct dt_guest *g);

#endif /* DOMTRACE_GUEST_INTERNAL_H */
