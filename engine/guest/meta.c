// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's own ftrace syscall metadata (CONFIG_FTRACE_SYSCALLS): an array of
 * pointers between __start_syscalls_metadata and __stop_syscalls_metadata to
 *   struct syscall_metadata { const char *name; int syscall_nr; int nb_args;
 *                             const char **types; const char **args; ... };
 * Read bounded: entry count, argument count and every string are capped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

static void read_strs(struct dt_guest *g, uint64_t array, unsigned n, size_t width, char *out)
{
	uint64_t ptr[6];
	unsigned i;

	if (!n || !dt_kernel_addr(array) || dt_guest_read_full(g, array, ptr, n * sizeof(ptr[0])))
		return;
	for (i = 0; i < n; i++)
		if (dt_guest_read_kstr(g, ptr[i], out + i * width, width) < 0)
			out[i * width] = '\0';
}

int dt_guest_syscall_meta(struct dt_guest *g, struct dt_guest_syscall_meta **ret_meta,
			  size_t *ret_n)
{
	const uint32_t *o = g->off.off;
	struct dt_guest_syscall_meta *meta = NULL;
	uint64_t start, stop, *ptrs = NULL;
	uint8_t raw[256];
	uint32_t size = 0;
	size_t count, i, n = 0;
	int r;

	if (dt_guest_sym_va(g, "__start_syscalls_metadata", &start) ||
	    dt_guest_sym_va(g, "__stop_syscalls_metadata", &stop) || stop < start)
		return -ENOENT;
	count = (size_t)((stop - start) / 8);
	if (count > DT_META_MAX)
		count = DT_META_MAX;
	if (!count) {
		*ret_meta = NULL;
		*ret_n = 0;
		return 0;
	}
	for (i = DT_OFF_META_NAME; i <= DT_OFF_META_ARGS; i++) {
		uint32_t end = o[i] + (i == DT_OFF_META_SYSCALL_NR || i == DT_OFF_META_NB_ARGS ? 4 : 8);

		if (end > size)
			size = end;
	}
	if (size > sizeof(raw))
		return -EINVAL;
	ptrs = malloc(count * sizeof(*ptrs));
	meta = calloc(count, sizeof(*meta));
	if (!ptrs || !meta) {
		r = -ENOMEM;
		goto fail;
	}
	r = dt_guest_read_full(g, start, ptrs, count * sizeof(*ptrs));
	if (r)
		goto fail;
	for (i = 0; i < count; i++) {
		struct dt_guest_syscall_meta *m = &meta[n];
		uint64_t name, types, args;
		int32_t nr, nargs;

		if (!dt_kernel_addr(ptrs[i]) || dt_guest_read_full(g, ptrs[i], raw, size))
			continue;
		memcpy(&name, raw + o[DT_OFF_META_NAME], 8);
		memcpy(&nr, raw + o[DT_OFF_META_SYSCALL_NR], 4);
		memcpy(&nargs, raw + o[DT_OFF_META_NB_ARGS], 4);
		memcpy(&types, raw + o[DT_OFF_META_TYPES], 8);
		memcpy(&args, raw + o[DT_OFF_META_ARGS], 8);
		if (nargs < 0 || nargs > 6 || dt_guest_read_kstr(g, name, m->name, sizeof(m->name)) <= 0)
			continue;
		m->nr = nr;
		m->nargs = (uint8_t)nargs;
		read_strs(g, args, (unsigned)nargs, DT_META_ARG_MAX, &m->arg_names[0][0]);
		read_strs(g, types, (unsigned)nargs, DT_META_TYPE_MAX, &m->arg_types[0][0]);
		n++;
	}
	free(ptrs);
	*ret_meta = meta;
	*ret_n = n;
	return 0;
fail:
	free(ptrs);
	free(meta);
	return r;
}
