// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the guest's BTF (engine/guest/, dt_offsets_from_btf): the blob
 * comes from guest memory, so a hostile guest chooses every byte that libbpf parses and
 * our offset finder walks, inside dom0.
 *
 * Input: [0] mode, then data.
 *   mode bit 0 clear: data is the whole blob.
 *   mode bit 0 set:   a valid blob the simulated kernel publishes (6.1 or 6.6 layout by
 *                     mode bit 1) patched by records of 5 bytes [offset LE 4] [byte]
 *                     (offset modulo the blob size), so inputs reach past libbpf's checks.
 * Invariants: no crash; on success every required offset is set and lies below 1 MiB (the
 * documented bound); the error text is NUL-terminated.
 */
#include <stdlib.h>
#include <string.h>

#include "domtrace/guest.h"
#include "sim_priv.h"

static struct {
	void *blob[2];
	uint32_t size[2];
} seeds;

static void make_seeds(void)
{
	static const enum dt_sim_flavour f[2] = { DT_SIM_FLAVOUR_61, DT_SIM_FLAVOUR_66 };
	struct sim_layout l;
	int i;

	for (i = 0; i < 2; i++) {
		dt_sim_layout_make(&l, f[i], 42 + (uint64_t)i);
		if (dt_sim_btf_make(&l, f[i], &seeds.blob[i], &seeds.size[i]) < 0)
			abort();
	}
}

static void run(const void *blob, size_t len)
{
	static const enum dt_off required[] = { DT_OFF_TASK_PID,  DT_OFF_TASK_TGID,
						DT_OFF_TASK_COMM, DT_OFF_CRED_UID,
						DT_OFF_CRED_GID };
	struct dt_offsets o;
	char err[256];
	size_t i;

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	if (dt_offsets_from_btf(blob, len, &o, err, sizeof(err)) == 0) {
		for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
			if (!dt_off_have(&o, required[i]) || o.off[required[i]] >= (1u << 20))
				abort();
	}
	if (!memchr(err, 0, sizeof(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode, *blob;
	uint32_t n, off;
	size_t i;

	if (size < 1)
		return 0;
	mode = data[0];
	data++, size--;
	if (!(mode & 1)) {
		/* a copy of exactly size bytes, so that ASan sees any read past the end */
		blob = malloc(size ? size : 1);
		if (!blob)
			return 0;
		memcpy(blob, data, size);
		run(blob, size);
		free(blob);
		return 0;
	}
	if (!seeds.blob[0])
		make_seeds();
	n = seeds.size[(mode >> 1) & 1];
	blob = malloc(n);
	if (!blob)
		return 0;
	memcpy(blob, seeds.blob[(mode >> 1) & 1], n);
	for (i = 0; i + 5 <= size; i += 5) {
		memcpy(&off, data + i, 4);
		blob[off % n] = data[i + 4];
	}
	run(blob, n);
	free(blob);
	return 0;
}
