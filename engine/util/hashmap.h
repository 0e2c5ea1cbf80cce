/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hashmap.h - an open-addressing hash map from a 128-bit key (two u64) to a fixed-size
 * element stored inline. Linear probing with backward-shift deletion (no tombstones),
 * grows at 3/4 load, never shrinks. Single-threaded: owned by one worker.
 */
#ifndef DT_UTIL_HASHMAP_H
#define DT_UTIL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dt_hashmap {
	size_t count, cap; /* cap: power of two */
	size_t elem_size;
	size_t max_count; /* put fails with ENOSPC beyond this (0 = unbounded) */
	uint64_t *keys;	  /* 2 per slot */
	bool *used;
	unsigned char *elems;
};

int dt_hashmap_init(struct dt_hashmap *m, size_t elem_size, size_t max_count);
void dt_hashmap_fini(struct dt_hashmap *m); /* zeroed or initialised */

void *dt_hashmap_get(const struct dt_hashmap *m, uint64_t k1, uint64_t k2);
/* Insert or find: returns the element (zero-filled when new; *ret_new says which), or
 * NULL with errno ENOMEM/ENOSPC. Pointers stay valid until the next put or del. */
void *dt_hashmap_put(struct dt_hashmap *m, uint64_t k1, uint64_t k2, bool *ret_new);
int dt_hashmap_del(struct dt_hashmap *m, uint64_t k1, uint64_t k2);

/* Iterate slots 0..cap-1; NULL for empty ones. No put/del while iterating. */
void *dt_hashmap_slot(const struct dt_hashmap *m, size_t i, uint64_t *ret_k1, uint64_t *ret_k2);

#endif /* DT_UTIL_HASHMAP_H */
