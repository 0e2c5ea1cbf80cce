// SPDX-License-Identifier: GPL-2.0-only
/*
 * journal.c - the armed-site journal (journal.h). Records live in a shared anonymous
 * mapping (MAP_NORESERVE: only the pages records touch are ever backed); the free list is
 * process-private. A record is live while its `live` word is 1: published with a release
 * store after its fields, read with an acquire load.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "domtrace/journal.h"

struct journal_rec {
	atomic_uint live;
	uint32_t domid;
	struct dt_guard_site site;
};

/* Whole-domain pauses held on one domain (dt_journal_pause_note). */
struct journal_pause {
	atomic_uint domid_plus1; /* 0: a free slot */
	atomic_uint held;
};

/* The shared mapping: what the guardian sees after the writer died. */
struct journal_shared {
	atomic_size_t used; /* records ever handed out: ids 1..used */
	atomic_size_t live; /* live records */
	struct journal_pause pauses[DT_JOURNAL_PAUSE_SLOTS];
	struct journal_rec recs[];
};

struct dt_journal {
	struct journal_shared *sh;
	struct journal_rec *recs; /* sh->recs */
	size_t capacity;
	size_t map_bytes;

	pthread_mutex_t lock; /* free list, sh->used, the pause slots' owners */
	uint32_t *free_ids;   /* stack of ids (index + 1) dropped */
	size_t n_free;
};

int dt_journal_new(size_t capacity, struct dt_journal **ret_journal)
{
	struct dt_journal *j;
	void *m;

	if (capacity == 0)
		capacity = DT_JOURNAL_DEFAULT_RECORDS;
	if (capacity > UINT32_MAX - 1)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->capacity = capacity;
	j->map_bytes = sizeof(struct journal_shared) + capacity * sizeof(struct journal_rec);
	m = mmap(NULL, j->map_bytes, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	j->free_ids = calloc(capacity, sizeof(*j->free_ids));
	if (m == MAP_FAILED || !j->free_ids) {
		if (m != MAP_FAILED)
			munmap(m, j->map_bytes);
		free(j->free_ids);
		free(j);
		return -ENOMEM;
	}
	j->sh = m;
	j->recs = j->sh->recs;
	pthread_mutex_init(&j->lock, NULL);
	*ret_journal = j;
	return 0;
}

void dt_journal_free(struct dt_journal *j)
{
	if (!j)
		return;
	munmap(j->sh, j->map_bytes);
	pthread_mutex_destroy(&j->lock);
	free(j->free_ids);
	free(j);
}

int dt_journal_add(struct dt_journal *j, uint32_t domid, const struct dt_guard_site *site,
		   uint32_t *ret_id)
{
	struct journal_rec *rec;
	uint32_t id = 0;

	if (site->len == 0 || site->len > DT_GUARD_SITE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&j->lock);
	if (j->n_free > 0)
		id = j->free_ids[--j->n_free];
	else if (atomic_load_explicit(&j->sh->used, memory_order_relaxed) < j->capacity)
		id = (uint32_t)(atomic_fetch_add_explicit(&j->sh->used, 1, memory_order_release) + 1);
	pthread_mutex_unlock(&j->lock);
	if (id == 0)
		return -ENOSPC;
	rec = &j->recs[id - 1];
	rec->domid = domid;
	rec->site = *site;
	atomic_store_explicit(&rec->live, 1, memory_order_release);
	atomic_fetch_add_explicit(&j->sh->live, 1, memory_order_relaxed);
	*ret_id = id;
	return 0;
}

void dt_journal_drop(struct dt_journal *j, uint32_t id)
{
	if (!j || id == 0 || id > j->capacity)
		return;
	if (atomic_exchange_explicit(&j->recs[id - 1].live, 0, memory_order_release) != 1)
		return; /* not live: never free an id twice */
	atomic_fetch_sub_explicit(&j->sh->live, 1, memory_order_relaxed);
	pthread_mutex_lock(&j->lock);
	j->free_ids[j->n_free++] = id;
	pthread_mutex_unlock(&j->lock);
}

size_t dt_journal_count(const struct dt_journal *j)
{
	return atomic_load_explicit(&j->sh->live, memory_order_relaxed);
}

/* Records ever handed out, as the shared header says (the guardian's private copy of the
 * free list is the one forked at start: stale by design, never used there). */
static size_t scan_limit(const struct dt_journal *j)
{
	size_t used = atomic_load_explicit(&j->sh->used, memory_order_acquire);

	return used < j->capacity ? used : j->capacity;
}

int dt_journal_pause_note(struct dt_journal *j, uint32_t domid, int delta)
{
	struct journal_pause *slot = NULL, *free_slot = NULL;
	int err = 0;
	size_t i;

	if (!j)
		return 0;
	pthread_mutex_lock(&j->lock);
	for (i = 0; i < DT_JOURNAL_PAUSE_SLOTS && !slot; i++) {
		struct journal_pause *p = &j->sh->pauses[i];
		unsigned owner = atomic_load_explicit(&p->domid_plus1, memory_order_relaxed);

		if (owner == domid + 1)
			slot = p;
		else if (owner == 0 && !free_slot)
			free_slot = p;
	}
	if (!slot && delta > 0 && free_slot) {
		slot = free_slot;
		atomic_store_explicit(&slot->held, 0, memory_order_relaxed);
		atomic_store_explicit(&slot->domid_plus1, domid + 1, memory_order_release);
	}
	if (!slot) {
		err = delta > 0 ? -ENOSPC : 0; /* nothing held: nothing to drop */
	} else if (delta > 0) {
		atomic_fetch_add_explicit(&slot->held, (unsigned)delta, memory_order_release);
	} else {
		unsigned held = atomic_load_explicit(&slot->held, memory_order_relaxed);
		unsigned drop = (unsigned)-delta < held ? (unsigned)-delta : held;

		if (atomic_fetch_sub_explicit(&slot->held, drop, memory_order_release) == drop)
			atomic_store_explicit(&slot->domid_plus1, 0, memory_order_release);
	}
	pthread_mutex_unlock(&j->lock);
	return err;
}

void dt_journal_pause_forget(struct dt_journal *j, uint32_t domid)
{
	unsigned held;

	if (j && (held = dt_journal_pauses(j, domid)) > 0)
		(void)dt_journal_pause_note(j, domid, -(int)held);
}

unsigned dt_journal_pauses(const struct dt_journal *j, uint32_t domid)
{
	size_t i;

	for (i = 0; i < DT_JOURNAL_PAUSE_SLOTS; i++) {
		const struct journal_pause *p = &j->sh->pauses[i];

		if (atomic_load_explicit(&p->domid_plus1, memory_order_acquire) == domid + 1)
			return atomic_load_explicit(&p->held, memory_order_acquire);
	}
	return 0;
}

bool dt_journal_empty(const struct dt_journal *j)
{
	size_t i;

	if (dt_journal_count(j) > 0)
		return false;
	for (i = 0; i < DT_JOURNAL_PAUSE_SLOTS; i++)
		if (atomic_load_explicit(&j->sh->pauses[i].domid_plus1, memory_order_acquire) &&
		    atomic_load_explicit(&j->sh->pauses[i].held, memory_order_acquire))
			return false;
	return true;
}

static size_t add_domain(uint32_t *ret, size_t n, size_t max, uint32_t domid)
{
	size_t k;

	for (k = 0; k < n && ret[k] != domid; k++)
		;
	if (k == n && n < max)
		ret[n++] = domid;
	return n;
}

size_t dt_journal_domains(const struct dt_journal *j, uint32_t *ret, size_t max)
{
	size_t i, n = 0, lim = scan_limit(j);

	for (i = 0; i < lim; i++) {
		const struct journal_rec *rec = &j->recs[i];

		if (atomic_load_explicit(&rec->live, memory_order_acquire) == 1)
			n = add_domain(ret, n, max, rec->domid);
	}
	for (i = 0; i < DT_JOURNAL_PAUSE_SLOTS; i++) {
		const struct journal_pause *p = &j->sh->pauses[i];
		unsigned owner = atomic_load_explicit(&p->domid_plus1, memory_order_acquire);

		if (owner && atomic_load_explicit(&p->held, memory_order_acquire))
			n = add_domain(ret, n, max, owner - 1);
	}
	return n;
}

size_t dt_journal_sites(const struct dt_journal *j, uint32_t domid, struct dt_guard_site *ret,
			size_t max)
{
	size_t i, n = 0, lim = scan_limit(j);

	for (i = 0; i < lim; i++) {
		const struct journal_rec *rec = &j->recs[i];

		if (atomic_load_explicit(&rec->live, memory_order_acquire) != 1 ||
		    rec->domid != domid)
			continue;
		if (n < max)
			ret[n] = rec->site;
		n++;
	}
	return n;
}
