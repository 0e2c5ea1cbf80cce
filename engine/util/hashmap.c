// SPDX-License-Identifier: GPL-2.0-only
/* Open-addressing hash map with 128-bit keys (see hashmap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hashmap.h"

static size_t home_of(uint64_t k1, uint64_t k2, size_t cap)
{
	uint64_t h = (k1 ^ (k2 * 0xff51afd7ed558ccdull)) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

static int alloc_slots(struct dt_hashmap *m, size_t cap)
{
	m->cap = cap;
	m->keys = calloc(cap * 2, sizeof(*m->keys));
	m->used = calloc(cap, sizeof(*m->used));
	m->elems = calloc(cap, m->elem_size);
	if (!m->keys || !m->used || !m->elems) {
		dt_hashmap_fini(m);
		return -ENOMEM;
	}
	return 0;
}

int dt_hashmap_init(struct dt_hashmap *m, size_t elem_size, size_t max_count)
{
	memset(m, 0, sizeof(*m));
	m->elem_size = elem_size;
	m->max_count = max_count;
	return alloc_slots(m, 16);
}

void dt_hashmap_fini(struct dt_hashmap *m)
{
	free(m->keys);
	free(m->used);
	free(m->elems);
	m->keys = NULL;
	m->used = NULL;
	m->elems = NULL;
	m->count = m->cap = 0;
}

static void *elem(const struct dt_hashmap *m, size_t i)
{
	return m->elems + i * m->elem_size;
}

static bool find(const struct dt_hashmap *m, uint64_t k1, uint64_t k2, size_t *ret_i)
{
	size_t i;

	if (!m->cap)
		return false;
	for (i = home_of(k1, k2, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[2 * i] == k1 && m->keys[2 * i + 1] == k2) {
			*ret_i = i;
			return true;
		}
	}
	*ret_i = i; /* the free slot where the key would go */
	return false;
}

void *dt_hashmap_get(const struct dt_hashmap *m, uint64_t k1, uint64_t k2)
{
	size_t i;

	return find(m, k1, k2, &i) ? elem(m, i) : NULL;
}

static int grow(struct dt_hashmap *m)
{
	struct dt_hashmap n = { .elem_size = m->elem_size, .max_count = m->max_count };
	size_t i, j;

	if (alloc_slots(&n, m->cap * 2) < 0)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		(void)find(&n, m->keys[2 * i], m->keys[2 * i + 1], &j);
		n.used[j] = true;
		n.keys[2 * j] = m->keys[2 * i];
		n.keys[2 * j + 1] = m->keys[2 * i + 1];
		memcpy(elem(&n, j), elem(m, i), m->elem_size);
		n.count++;
	}
	dt_hashmap_fini(m);
	*m = n;
	return 0;
}

void *dt_hashmap_put(struct dt_hashmap *m, uint64_t k1, uint64_t k2, bool *ret_new)
{
	size_t i;

	if (find(m, k1, k2, &i)) {
		if (ret_new)
			*ret_new = false;
		return elem(m, i);
	}
	if (m->max_count && m->count >= m->max_count) {
		errno = ENOSPC;
		return NULL;
	}
	if ((m->count + 1) * 4 > m->cap * 3) {
		if (grow(m) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		(void)find(m, k1, k2, &i);
	}
	m->used[i] = true;
	m->keys[2 * i] = k1;
	m->keys[2 * i + 1] = k2;
	memset(elem(m, i), 0, m->elem_size);
	m->count++;
	if (ret_new)
		*ret_new = true;
	return elem(m, i);
}

int dt_hashmap_del(struct dt_hashmap *m, uint64_t k1, uint64_t k2)
{
	size_t i, j, mask = m->cap - 1;

	if (!find(m, k1, k2, &i))
		return -ENOENT;
	m->used[i] = false;
	m->count--;
	/* Backward shift: pull later members of the cluster into the hole when their home
	 * slot is not cyclically inside (hole, their slot]. */
	for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t h = home_of(m->keys[2 * j], m->keys[2 * j + 1], m->cap);
		bool stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);

		if (stays)
			continue;
		m->keys[2 * i] = m->keys[2 * j];
		m->keys[2 * i + 1] = m->keys[2 * j + 1];
		memcpy(elem(m, i), elem(m, j), m->elem_size);
		m->used[i] = true;
		m->used[j] = false;
		i = j;
	}
	return 0;
}

void *dt_hashmap_slot(const struct dt_hashmap *m, size_t i, uint64_t *ret_k1, uint64_t *ret_k2)
{
	if (i >= m->cap || !m->used[i])
		return NULL;
	if (ret_k1)
		*ret_k1 = m->keys[2 * i];
	if (ret_k2)
		*ret_k2 = m->keys[2 * i + 1];
	return elem(m, i);
}
