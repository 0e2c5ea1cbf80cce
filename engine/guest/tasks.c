// SPDX-License-Identifier: GPL-2.0-only
/*
 * Processes: a task's data read in one span, the ancestry cache (hash + LRU, fixed
 * size), the ancestor walk and the process-list walk. Every walk is bounded and
 * cycle-safe; every pointer is checked to be a kernel address before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

/* The task_struct fields we use. */
struct task_fields {
	int32_t pid, tgid;
	uint64_t real_parent, parent, cred, tasks_next;
	char comm[DT_COMM_LEN];
};

static enum dt_off cred_key(const struct dt_guest *g)
{
	/* the objective credentials, as ps shows them */
	return dt_off_have(&g->off, DT_OFF_TASK_REAL_CRED) ? DT_OFF_TASK_REAL_CRED
							   : DT_OFF_TASK_CRED;
}

static void span_add(uint32_t *lo, uint32_t *hi, uint32_t off, uint32_t size)
{
	if (off < *lo)
		*lo = off;
	if (off + size > *hi)
		*hi = off + size;
}

void dt_guest_task_span(struct dt_guest *g)
{
	const uint32_t *o = g->off.off;

	g->task_lo = UINT32_MAX;
	g->task_hi = 0;
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_PID], 4);
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_TGID], 4);
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_REAL_PARENT], 8);
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_PARENT], 8);
	span_add(&g->task_lo, &g->task_hi, o[cred_key(g)], 8);
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_TASKS] + o[DT_OFF_LIST_NEXT], 8);
	span_add(&g->task_lo, &g->task_hi, o[DT_OFF_TASK_COMM], 16);
	g->cred_lo = UINT32_MAX;
	g->cred_hi = 0;
	span_add(&g->cred_lo, &g->cred_hi, o[DT_OFF_CRED_UID], 4);
	span_add(&g->cred_lo, &g->cred_hi, o[DT_OFF_CRED_GID], 4);
	span_add(&g->cred_lo, &g->cred_hi, o[DT_OFF_CRED_EUID], 4);
	span_add(&g->cred_lo, &g->cred_hi, o[DT_OFF_CRED_EGID], 4);
}

/* Read a field either from the span buffer or, when the span is too big, alone. */
static int field(struct dt_guest *g, uint64_t base, const uint8_t *span, uint32_t lo,
		 uint32_t off, void *out, size_t size)
{
	if (span) {
		memcpy(out, span + (off - lo), size);
		return 0;
	}
	return dt_guest_read_full(g, base + off, out, size);
}

static int read_task(struct dt_guest *g, uint64_t task, struct task_fields *f)
{
	const uint32_t *o = g->off.off;
	const uint8_t *span = NULL;
	uint32_t lo = g->task_lo;
	char comm[16];
	int r;

	if (!dt_kernel_addr(task))
		return -EFAULT;
	if (g->task_hi - lo <= sizeof(g->span)) {
		r = dt_guest_read_full(g, task + lo, g->span, g->task_hi - lo);
		if (r)
			return r;
		span = g->span;
	}
	if ((r = field(g, task, span, lo, o[DT_OFF_TASK_PID], &f->pid, 4)) ||
	    (r = field(g, task, span, lo, o[DT_OFF_TASK_TGID], &f->tgid, 4)) ||
	    (r = field(g, task, span, lo, o[DT_OFF_TASK_REAL_PARENT], &f->real_parent, 8)) ||
	    (r = field(g, task, span, lo, o[DT_OFF_TASK_PARENT], &f->parent, 8)) ||
	    (r = field(g, task, span, lo, o[cred_key(g)], &f->cred, 8)) ||
	    (r = field(g, task, span, lo, o[DT_OFF_TASK_TASKS] + o[DT_OFF_LIST_NEXT],
		       &f->tasks_next, 8)) ||
	    (r = field(g, task, span, lo, o[DT_OFF_TASK_COMM], comm, 16)))
		return r;
	/* raw bytes up to the first NUL, capped */
	memcpy(f->comm, comm, 16);
	f->comm[16] = '\0';
	return 0;
}

static int32_t read_pid(struct dt_guest *g, uint64_t task)
{
	int32_t pid;

	if (!dt_kernel_addr(task) ||
	    dt_guest_read_full(g, task + g->off.off[DT_OFF_TASK_PID], &pid, sizeof(pid)))
		return -1;
	return pid;
}

/* The ids, ~0 each if unreadable: true if read. */
static bool read_ids(struct dt_guest *g, uint64_t cred, struct dt_proc_info *info)
{
	static const enum dt_off keys[4] = { DT_OFF_CRED_UID, DT_OFF_CRED_GID, DT_OFF_CRED_EUID,
					     DT_OFF_CRED_EGID };
	uint32_t *out[4] = { &info->uid, &info->gid, &info->euid, &info->egid };
	const uint32_t *o = g->off.off;
	uint8_t buf[DT_CRED_SPAN_MAX];
	uint32_t lo = g->cred_lo, ids[4];
	bool one_read = g->cred_hi - lo <= sizeof(buf);
	int i;

	info->uid = info->gid = info->euid = info->egid = ~0u;
	if (!dt_kernel_addr(cred) ||
	    (one_read && dt_guest_read_full(g, cred + lo, buf, g->cred_hi - lo)))
		return false;
	for (i = 0; i < 4; i++) {
		if (one_read)
			memcpy(&ids[i], buf + o[keys[i]] - lo, 4);
		else if (dt_guest_read_full(g, cred + o[keys[i]], &ids[i], 4))
			return false;
	}
	for (i = 0; i < 4; i++)
		*out[i] = ids[i];
	return true;
}

/* reuse: a stamp whose ids stand if the cred pointer is unchanged (dt_proc_stamp);
 * ret_stamp: the stamp of this read. Either may be NULL. */
static int load_info_stamp(struct dt_guest *g, uint64_t task, struct dt_proc_info *info,
			   uint64_t *ret_parent, uint64_t *ret_real_parent,
			   const struct dt_proc_stamp *reuse, struct dt_proc_stamp *ret_stamp)
{
	struct task_fields f;
	int r;

	r = read_task(g, task, &f);
	if (r)
		return r;
	memset(info, 0, sizeof(*info));
	info->task = task;
	info->pid = f.pid;
	info->tgid = f.tgid;
	memcpy(info->comm, f.comm, sizeof(info->comm));
	info->ppid = f.parent == task ? f.pid : read_pid(g, f.parent);
	if (f.real_parent == f.parent)
		info->rppid = info->ppid;
	else
		info->rppid = f.real_parent == task ? f.pid : read_pid(g, f.real_parent);
	if (reuse && reuse->valid && reuse->task == task && reuse->cred == f.cred) {
		info->uid = reuse->uid, info->gid = reuse->gid;
		info->euid = reuse->euid, info->egid = reuse->egid;
		if (ret_stamp)
			*ret_stamp = *reuse;
	} else {
		bool ok = read_ids(g, f.cred, info);

		if (ret_stamp)
			*ret_stamp = (struct dt_proc_stamp){
				.task = task, .cred = f.cred, .uid = info->uid, .gid = info->gid,
				.euid = info->euid, .egid = info->egid, .valid = ok,
			};
	}
	if (ret_parent)
		*ret_parent = f.parent;
	if (ret_real_parent)
		*ret_real_parent = f.real_parent;
	return 0;
}

static int load_info(struct dt_guest *g, uint64_t task, struct dt_proc_info *info,
		     uint64_t *ret_parent, uint64_t *ret_real_parent)
{
	return load_info_stamp(g, task, info, ret_parent, ret_real_parent, NULL, NULL);
}

int dt_guest_proc_info(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info)
{
	return dt_guest_proc_info_stamp(g, task, ret_info, NULL);
}

int dt_guest_proc_info_stamp(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info,
			     struct dt_proc_stamp *ret_stamp)
{
	struct dt_proc_info info;
	struct dt_proc_stamp st;
	int r = load_info_stamp(g, task, &info, NULL, NULL, NULL, &st);

	if (!r) {
		*ret_info = info;
		if (ret_stamp)
			*ret_stamp = st;
	}
	return r;
}

int dt_guest_proc_info_after(struct dt_guest *g, uint64_t task, const struct dt_proc_stamp *stamp,
			     struct dt_proc_info *ret_info)
{
	struct dt_proc_info info;
	int r = load_info_stamp(g, task, &info, NULL, NULL, stamp, NULL);

	if (!r)
		*ret_info = info;
	return r;
}

/* ---- the cache ---- */

int dt_task_cache_init(struct dt_task_cache *c, uint32_t entries)
{
	uint32_t i;

	if (entries < 2)
		entries = 2;
	if (entries > (1u << 20))
		entries = 1u << 20;
	memset(c, 0, sizeof(*c));
	c->nbuckets = 1;
	while (c->nbuckets < entries * 2)
		c->nbuckets <<= 1;
	c->e = calloc(entries, sizeof(*c->e));
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	if (!c->e || !c->bucket) {
		dt_task_cache_free(c);
		return -ENOMEM;
	}
	c->cap = entries;
	for (i = 0; i < entries; i++)
		c->e[i].hnext = i + 2 <= entries ? i + 2 : 0;
	c->free_head = 1;
	c->st.capacity = entries;
	return 0;
}

void dt_task_cache_free(struct dt_task_cache *c)
{
	free(c->e);
	free(c->bucket);
	c->e = NULL;
	c->bucket = NULL;
}

static uint32_t bucket_of(const struct dt_task_cache *c, uint64_t task)
{
	return (uint32_t)(((task >> 4) * 0x9e3779b97f4a7c15ull) >> 32) & (c->nbuckets - 1);
}

static void lru_unlink(struct dt_task_cache *c, uint32_t i)
{
	struct dt_task_entry *e = &c->e[i - 1];

	if (e->lru_prev)
		c->e[e->lru_prev - 1].lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		c->e[e->lru_next - 1].lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = 0;
}

static void lru_push(struct dt_task_cache *c, uint32_t i)
{
	struct dt_task_entry *e = &c->e[i - 1];

	e->lru_prev = 0;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->e[c->lru_head - 1].lru_prev = i;
	c->lru_head = i;
	if (!c->lru_tail)
		c->lru_tail = i;
}

static uint32_t cache_lookup(struct dt_task_cache *c, uint64_t task)
{
	uint32_t i;

	for (i = c->bucket[bucket_of(c, task)]; i; i = c->e[i - 1].hnext)
		if (c->e[i - 1].task == task)
			return i;
	return 0;
}

static void cache_remove(struct dt_task_cache *c, uint32_t i)
{
	struct dt_task_entry *e = &c->e[i - 1];
	uint32_t *pp = &c->bucket[bucket_of(c, e->task)];

	while (*pp && *pp != i)
		pp = &c->e[*pp - 1].hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(c, i);
	e->used = false;
	e->task = 0;
	e->hnext = c->free_head;
	c->free_head = i;
	c->n--;
}

static uint32_t cache_insert(struct dt_task_cache *c, uint64_t task)
{
	uint32_t i, b;

	if (!c->free_head) {
		cache_remove(c, c->lru_tail);
		c->st.evictions++;
	}
	i = c->free_head;
	c->free_head = c->e[i - 1].hnext;
	b = bucket_of(c, task);
	c->e[i - 1].task = task;
	c->e[i - 1].used = true;
	c->e[i - 1].hnext = c->bucket[b];
	c->bucket[b] = i;
	lru_push(c, i);
	c->n++;
	return i;
}

/* The cached entry for task (copied out: a later insert may evict it). */
static int cached(struct dt_guest *g, uint64_t task, struct dt_task_entry *ret)
{
	struct dt_task_cache *c = &g->cache;
	struct dt_task_entry tmp;
	uint32_t i = cache_lookup(c, task);
	int r;

	if (i) {
		c->st.hits++;
		lru_unlink(c, i);
		lru_push(c, i);
		*ret = c->e[i - 1];
		return 0;
	}
	c->st.misses++;
	r = load_info(g, task, &tmp.info, &tmp.parent, &tmp.real_parent);
	if (r)
		return r;
	i = cache_insert(c, task);
	c->e[i - 1].parent = tmp.parent;
	c->e[i - 1].real_parent = tmp.real_parent;
	c->e[i - 1].info = tmp.info;
	*ret = c->e[i - 1];
	return 0;
}

int dt_guest_proc_info_cached(struct dt_guest *g, uint64_t task, struct dt_proc_info *ret_info)
{
	struct dt_task_entry e;
	int r = cached(g, task, &e);

	if (!r)
		*ret_info = e.info;
	return r;
}

void dt_guest_invalidate(struct dt_guest *g, uint64_t task)
{
	struct dt_task_cache *c = &g->cache;
	uint32_t i;

	c->st.invalidations++;
	/* the task, and its children: they will be reparented */
	for (i = 1; i <= c->cap; i++) {
		struct dt_task_entry *e = &c->e[i - 1];

		if (e->used && (e->task == task || e->parent == task || e->real_parent == task))
			cache_remove(c, i);
	}
}

void dt_guest_invalidate_all(struct dt_guest *g)
{
	struct dt_task_cache *c = &g->cache;
	uint32_t i;

	c->st.invalidations++;
	for (i = 1; i <= c->cap; i++)
		if (c->e[i - 1].used)
			cache_remove(c, i);
}

void dt_guest_cache_stats(const struct dt_guest *g, struct dt_guest_cache_stats *ret_stats)
{
	*ret_stats = g->cache.st;
	ret_stats->entries = g->cache.n;
}

int dt_guest_ancestry(struct dt_guest *g, uint64_t task, bool real_parent,
		      struct dt_proc_info *anc, size_t max, size_t *ret_n)
{
	uint64_t seen[DT_ANCESTRY_MAX + 1];
	struct dt_task_entry e;
	size_t n = 0, nseen = 0, i;
	uint64_t cur;
	int r;

	if (max > DT_ANCESTRY_MAX)
		max = DT_ANCESTRY_MAX;
	r = cached(g, task, &e);
	if (r)
		return r;
	seen[nseen++] = task;
	/* swapper (pid 0) is its own parent: no ancestors */
	cur = e.info.pid == 0 ? 0 : real_parent ? e.real_parent : e.parent;
	while (n < max && dt_kernel_addr(cur)) {
		for (i = 0; i < nseen && seen[i] != cur; i++)
			;
		if (i < nseen)
			break; /* a loop */
		if (cached(g, cur, &e))
			break;
		anc[n++] = e.info;
		if (e.info.pid <= 1)
			break;
		seen[nseen++] = cur;
		cur = real_parent ? e.real_parent : e.parent;
	}
	*ret_n = n;
	return 0;
}

/* ---- the process list ---- */

/* task pointer -> pid of the tasks seen in one walk: loop detection and ppids. */
struct seen_set {
	uint64_t *key;
	int32_t *pid;
	size_t cap, n;
};

static size_t seen_slot(const struct seen_set *s, uint64_t task)
{
	size_t i = (size_t)(((task >> 4) * 0x9e3779b97f4a7c15ull) >> 20) & (s->cap - 1);

	while (s->key[i] && s->key[i] != task)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int seen_add(struct seen_set *s, uint64_t task, int32_t pid)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		struct seen_set big = { .cap = s->cap ? s->cap * 2 : 256 };

		big.key = calloc(big.cap, sizeof(*big.key));
		big.pid = calloc(big.cap, sizeof(*big.pid));
		if (!big.key || !big.pid) {
			free(big.key);
			free(big.pid);
			return -ENOMEM;
		}
		for (i = 0; i < s->cap; i++) {
			if (s->key[i]) {
				size_t j = seen_slot(&big, s->key[i]);

				big.key[j] = s->key[i];
				big.pid[j] = s->pid[i];
				big.n++;
			}
		}
		free(s->key);
		free(s->pid);
		*s = big;
	}
	i = seen_slot(s, task);
	if (!s->key[i])
		s->n++;
	s->key[i] = task;
	s->pid[i] = pid;
	return 0;
}

static bool seen_get(const struct seen_set *s, uint64_t task, int32_t *ret_pid)
{
	size_t i;

	if (!s->cap)
		return false;
	i = seen_slot(s, task);
	if (!s->key[i])
		return false;
	if (ret_pid)
		*ret_pid = s->pid[i];
	return true;
}

int dt_guest_pslist(struct dt_guest *g, struct dt_pslist_entry **ret_ps, size_t *ret_n,
		    int *ret_stop)
{
	const uint64_t tasks_off = g->off.off[DT_OFF_TASK_TASKS];
	const uint64_t head = g->init_task + tasks_off;
	struct seen_set seen = { 0 };
	struct dt_pslist_entry *ps = NULL, *np;
	size_t n = 0, cap = 0;
	uint64_t task = g->init_task, cur;
	int stop = 0, r;

	for (;;) {
		struct task_fields f;
		int32_t ppid;

		if (n == DT_PSLIST_MAX) {
			stop = -E2BIG;
			break;
		}
		r = read_task(g, task, &f);
		if (r) {
			if (!n || r == -ENODEV)
				goto fail;
			stop = -EFAULT;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			np = realloc(ps, cap * sizeof(*ps));
			if (!np) {
				r = -ENOMEM;
				goto fail;
			}
			ps = np;
		}
		if (f.parent == task)
			ppid = f.pid;
		else if (!seen_get(&seen, f.parent, &ppid))
			ppid = read_pid(g, f.parent);
		ps[n].pid = f.pid;
		ps[n].ppid = ppid;
		memcpy(ps[n].comm, f.comm, sizeof(ps[n].comm));
		n++;
		r = seen_add(&seen, task, f.pid);
		if (r)
			goto fail;
		cur = f.tasks_next;
		if (cur == head)
			break;
		if (!dt_kernel_addr(cur) || cur < tasks_off) {
			stop = -EFAULT;
			break;
		}
		task = cur - tasks_off;
		if (seen_get(&seen, task, NULL)) {
			stop = -ELOOP;
			break;
		}
	}
	free(seen.key);
	free(seen.pid);
	*ret_ps = ps;
	*ret_n = n;
	*ret_stop = stop;
	return 0;
fail:
	free(seen.key);
	free(seen.pid);
	free(ps);
	return r;
}
