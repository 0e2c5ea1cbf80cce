// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_mapcache.c - a cache of foreign-mapped guest frames.
 *
 * Mapping a guest frame is a hypercall plus an mmap; introspection reads the same few pages
 * (page tables, task structs, the stack) over and over, so each domain keeps up to
 * `capacity` frames mapped. Lookup is a chained hash on the gfn; replacement is the clock
 * algorithm (a referenced bit per slot, one hand). A frame first mapped read-only is
 * remapped writable in place when a write needs it, and stays writable.
 *
 * Invalidation: only flush (hv.h flush_cache) and free drop mappings. A mapping pins the
 * frame the gfn had when it was mapped; if the guest gives the frame back to Xen (ballooning)
 * a cached mapping keeps showing the old contents until the next flush. Translations are
 * never cached (every access walks, cheaply, through cached page-table frames).
 *
 * Owned by one domain's worker thread; not thread-safe.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xen_internal.h"

#define NO_SLOT (-1)
#define GFN_LIMIT (1ull << (52 - DT_XEN_PAGE_SHIFT))

struct map_slot {
	uint64_t gfn;
	uint8_t *page;
	int32_t next; /* hash chain */
	bool writable;
	bool referenced;
};

struct dt_xen_mapcache {
	struct dt_xen_mapper mapper;
	unsigned capacity;
	unsigned used; /* slots [0, used) hold mappings */
	unsigned hand; /* clock hand */
	unsigned bucket_mask;
	int32_t *buckets;
	struct map_slot *slots;
	struct dt_xen_mapcache_stats stats;
};

static unsigned bucket_of(const struct dt_xen_mapcache *c, uint64_t gfn)
{
	return (unsigned)((gfn * 0x9E3779B97F4A7C15ull) >> 32) & c->bucket_mask;
}

int dt_xen_mapcache_new(const struct dt_xen_mapper *mapper, unsigned entries,
			struct dt_xen_mapcache **ret_cache)
{
	struct dt_xen_mapcache *c;
	unsigned nbuckets = 1, i;

	if (entries == 0)
		entries = DT_XEN_MAP_CACHE_DEFAULT;
	if (entries < DT_XEN_MAP_CACHE_MIN)
		entries = DT_XEN_MAP_CACHE_MIN;
	if (entries > DT_XEN_MAP_CACHE_MAX)
		entries = DT_XEN_MAP_CACHE_MAX;
	while (nbuckets < entries * 2)
		nbuckets <<= 1;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->mapper = *mapper;
	c->capacity = entries;
	c->bucket_mask = nbuckets - 1;
	c->buckets = malloc(nbuckets * sizeof(*c->buckets));
	c->slots = calloc(entries, sizeof(*c->slots));
	if (!c->buckets || !c->slots) {
		free(c->buckets);
		free(c->slots);
		free(c);
		return -ENOMEM;
	}
	for (i = 0; i < nbuckets; i++)
		c->buckets[i] = NO_SLOT;
	*ret_cache = c;
	return 0;
}

void dt_xen_mapcache_flush(struct dt_xen_mapcache *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < c->used; i++)
		c->mapper.unmap(c->mapper.ctx, c->slots[i].page);
	for (i = 0; i <= c->bucket_mask; i++)
		c->buckets[i] = NO_SLOT;
	c->used = 0;
	c->hand = 0;
}

void dt_xen_mapcache_free(struct dt_xen_mapcache *c)
{
	if (!c)
		return;
	dt_xen_mapcache_flush(c);
	free(c->buckets);
	free(c->slots);
	free(c);
}

static void unlink_slot(struct dt_xen_mapcache *c, int32_t victim)
{
	int32_t *link = &c->buckets[bucket_of(c, c->slots[victim].gfn)];

	while (*link != NO_SLOT) {
		if (*link == victim) {
			*link = c->slots[victim].next;
			return;
		}
		link = &c->slots[*link].next;
	}
}

/* A slot for a new mapping: a never-used one, else the clock's victim (unmapped). */
static int32_t take_slot(struct dt_xen_mapcache *c)
{
	int32_t victim;

	if (c->used < c->capacity)
		return (int32_t)c->used++;
	while (c->slots[c->hand].referenced) {
		c->slots[c->hand].referenced = false;
		c->hand = (c->hand + 1) % c->capacity;
	}
	victim = (int32_t)c->hand;
	c->hand = (c->hand + 1) % c->capacity;
	unlink_slot(c, victim);
	c->mapper.unmap(c->mapper.ctx, c->slots[victim].page);
	c->slots[victim].page = NULL;
	c->stats.evictions++;
	return victim;
}

int dt_xen_mapcache_page(struct dt_xen_mapcache *c, uint64_t gfn, bool writable,
			 uint8_t **ret_page)
{
	unsigned b;
	int32_t i;
	void *page;
	int err = 0;

	if (gfn >= GFN_LIMIT)
		return -EFAULT;
	b = bucket_of(c, gfn);
	for (i = c->buckets[b]; i != NO_SLOT; i = c->slots[i].next) {
		struct map_slot *s = &c->slots[i];

		if (s->gfn != gfn)
			continue;
		if (writable && !s->writable) {
			/* Map writable first so that a failure leaves the read mapping. */
			page = c->mapper.map(c->mapper.ctx, gfn, true, &err);
			if (!page)
				return err < 0 ? err : -EIO;
			c->mapper.unmap(c->mapper.ctx, s->page);
			s->page = page;
			s->writable = true;
			c->stats.remaps_rw++;
		} else {
			c->stats.hits++;
		}
		s->referenced = true;
		*ret_page = s->page;
		return 0;
	}

	page = c->mapper.map(c->mapper.ctx, gfn, writable, &err);
	if (!page)
		return err < 0 ? err : -EIO;
	c->stats.maps++;
	i = take_slot(c);
	c->slots[i] = (struct map_slot){
		.gfn = gfn,
		.page = page,
		.next = c->buckets[b],
		.writable = writable,
		.referenced = true,
	};
	c->buckets[b] = i;
	*ret_page = page;
	return 0;
}

void dt_xen_mapcache_get_stats(const struct dt_xen_mapcache *c,
			       struct dt_xen_mapcache_stats *ret_stats)
{
	*ret_stats = c->stats;
}

unsigned dt_xen_mapcache_capacity(const struct dt_xen_mapcache *c)
{
	return c->capacity;
}

/* ------------------------------------------------------------------ guest-physical access */

ssize_t dt_xen_read_pa(struct dt_xen_mapcache *c, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (done < len) {
		uint64_t addr = gpa + done;
		size_t off = (size_t)(addr & (DT_XEN_PAGE_SIZE - 1));
		size_t n = DT_XEN_PAGE_SIZE - off;
		uint8_t *page;
		int r;

		if (addr < gpa)
			break;
		if (n > len - done)
			n = len - done;
		r = dt_xen_mapcache_page(c, addr >> DT_XEN_PAGE_SHIFT, false, &page);
		if (r == -EFAULT)
			break;
		if (r < 0)
			return r;
		memcpy(out + done, page + off, n);
		done += n;
	}
	return (ssize_t)done;
}

int dt_xen_write_pa(struct dt_xen_mapcache *c, uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	uint64_t first, last, gfn;
	size_t done = 0;
	uint8_t *page;
	int r;

	if (len == 0)
		return 0;
	if (gpa + len - 1 < gpa)
		return -EFAULT;
	first = gpa >> DT_XEN_PAGE_SHIFT;
	last = (gpa + len - 1) >> DT_XEN_PAGE_SHIFT;
	/* Every frame must be there and writable before the first byte is written. */
	for (gfn = first; gfn <= last; gfn++) {
		r = dt_xen_mapcache_page(c, gfn, true, &page);
		if (r < 0)
			return r;
	}
	for (gfn = first; gfn <= last; gfn++) {
		uint64_t addr = gpa + done;
		size_t off = (size_t)(addr & (DT_XEN_PAGE_SIZE - 1));
		size_t n = DT_XEN_PAGE_SIZE - off;

		if (n > len - done)
			n = len - done;
		r = dt_xen_mapcache_page(c, gfn, true, &page);
		if (r < 0)
			return r;
		memcpy(page + off, in + done, n);
		done += n;
	}
	return 0;
}

static int phys_read_exact(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	ssize_t got = dt_xen_read_pa(ctx, gpa, buf, len);

	if (got < 0)
		return (int)got;
	return (size_t)got == len ? 0 : -EFAULT;
}

void dt_xen_mapcache_phys(struct dt_xen_mapcache *c, struct dt_xen_phys *ret_phys)
{
	ret_phys->read = phys_read_exact;
	ret_phys->ctx = c;
}
