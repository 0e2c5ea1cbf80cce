// SPDX-License-Identifier: GPL-2.0-only
/*
 * chain_rcu.c - publishing filter chains with liburcu (default flavour, <urcu.h>).
 *
 * One writer (serialised by the caller) swaps the pointer with rcu_xchg_pointer(),
 * waits for a grace period with synchronize_rcu() and frees the old chain: no reader
 * can still hold it. Readers only ever take the read lock and dereference. The
 * DT_TSAN_* annotations tell ThreadSanitizer about the ordering liburcu 0.13 makes
 * with barriers it cannot see (model/include/domtrace/tsan.h).
 */
#include <errno.h>

#include <urcu.h>

#include "domtrace/filter.h"
#include "domtrace/tsan.h"

/* Readers release it as they leave a read-side section; the writer acquires it after
 * a grace period, ordering every earlier reader before the free. */
static char grace_token __attribute__((unused));

void dt_chain_read_lock(void)
{
	rcu_read_lock();
}

void dt_chain_read_unlock(void)
{
	DT_TSAN_RELEASE(&grace_token);
	rcu_read_unlock();
}

struct dt_chain *dt_chain_current(struct dt_chain_slot *slot)
{
	struct dt_chain *c = rcu_dereference(slot->chain);

	if (c)
		DT_TSAN_ACQUIRE(c);
	return c;
}

void dt_chain_publish(struct dt_chain_slot *slot, struct dt_chain *chain)
{
	struct dt_chain *old;

	if (chain)
		DT_TSAN_RELEASE(chain);
	old = rcu_xchg_pointer(&slot->chain, chain);
	if (!old)
		return;
	synchronize_rcu();
	DT_TSAN_ACQUIRE(&grace_token);
	dt_chain_free(old);
}

int dt_chain_load_file(struct dt_chain_slot *slot, const char *path,
		       struct dt_config_diags *diags)
{
	struct dt_config *cfg = NULL;
	struct dt_chain *chain = NULL;
	int r;

	r = dt_config_parse_file(path, &cfg, diags);
	if (r < 0)
		return r;
	r = dt_chain_new(cfg, &chain);
	if (r < 0) {
		dt_config_free(cfg);
		return r;
	}
	dt_chain_publish(slot, chain);
	return 0;
}
