// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the decoders: a random guest memory image plus raw arguments,
 * fed through every catalogue function's decoders (pre, retry, post), and the name
 * functions fed random strings. Invariants that must hold on any input abort.
 *
 * Input: [0..1] function id, [2] flags (bit0 compat, bit1 call failed, bit7 names
 * mode), [3] pointer mask (argument k points into the image), [4] absent-page mask,
 * [5..52] six raw arguments, [53..60] return value, then the memory image. Every
 * address below 2^63 reads the image cyclically (so random pointers, argv elements
 * and socketcall words land on data); pages named in the absent mask are not present.
 */
#include <stdlib.h>
#include <string.h>

#include "domtrace/decode.h"

#define HDR 61
#define BASE64 0x7f0000000000ull
#define BASE32 0x10000000ull

struct image {
	const uint8_t *data;
	size_t len;
	uint8_t absent;
};

static ssize_t img_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	const struct image *im = ctx;
	size_t done = 0;

	if (va >> 63 || !im->len)
		return -14; /* -EFAULT */
	while (done < len) {
		uint64_t a = va + done;
		size_t off = (size_t)(a % im->len), chunk = 4096 - (size_t)(a & 0xfff);

		if (im->absent & (1u << ((a >> 12) & 7)))
			break;
		if (chunk > len - done)
			chunk = len - done;
		if (chunk > im->len - off)
			chunk = im->len - off;
		memcpy((uint8_t *)buf + done, im->data + off, chunk);
		done += chunk;
	}
	return (ssize_t)done;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void check_event(const struct dt_event *ev)
{
	unsigned k;

	if (ev->arena_used > ev->arena_cap || ev->ndec > DT_MAX_DECS)
		abort();
	for (k = 0; k < ev->nargs; k++) {
		if (!ev->args[k].value && !ev->args[k].pending)
			abort();
		if (ev->args[k].value && strlen(ev->args[k].value) >= DT_EVENT_ARENA)
			abort();
	}
	for (k = 0; k < ev->ndec; k++)
		if (!ev->dec[k].name || !ev->dec[k].value ||
		    !dt_catalog_has_argname(ev->func_id, ev->dec[k].name))
			abort();
}

static void fuzz_names(const uint8_t *data, size_t size)
{
	char s[128];
	int ids[8];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1, total;
	bool compat;

	memcpy(s, data, n);
	s[n] = '\0';
	dt_catalog_resolve(s, ids, 8);
	dt_catalog_suggest(s);
	dt_catalog_by_symbol(s, &compat);
	dt_catalog_funcs(&total);
	dt_catalog_has_argname((int)(n % total), s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dt_funcdesc *all, *fd;
	struct image im;
	struct dt_guest_mem mem = { .read = img_read, .ctx = &im };
	struct dt_event *ev;
	uint64_t raw[DT_MAX_ARGS], base;
	size_t n;
	unsigned k;
	unsigned mask;

	if (size < HDR)
		return 0;
	if (data[2] & 0x80) {
		fuzz_names(data + HDR, size - HDR);
		return 0;
	}
	all = dt_catalog_funcs(&n);
	fd = &all[(data[0] | data[1] << 8) % n];
	im.data = data + HDR;
	im.len = size - HDR;
	im.absent = data[4];
	base = (data[2] & 1) ? BASE32 : BASE64;
	for (k = 0; k < DT_MAX_ARGS; k++) {
		raw[k] = rd64(data + 5 + 8 * k);
		if ((data[3] & (1u << k)) && im.len)
			raw[k] = base + raw[k] % (im.len + 64);
	}
	if (dt_event_new(DT_EV_CALL, DT_EVENT_ARENA, &ev) < 0)
		return 0;
	ev->compat = data[2] & 1;
	ev->func_id = (int)(fd - all);
	dt_decode_pre(ev, fd, raw, &mem, &mask);
	check_event(ev);
	/* retry what was not present, with every page present now */
	im.absent = 0;
	for (k = 0; k < DT_MAX_ARGS; k++)
		if (mask & (1 << k))
			dt_decode_retry_arg(ev, fd, k, &mem);
	check_event(ev);
	im.absent = data[4] >> 4;
	ev->has_ret = true;
	ev->ret = (data[2] & 2) ? -(int64_t)(rd64(data + 53) % 4096) : (int64_t)(rd64(data + 53) >> 1);
	dt_decode_post(ev, fd, &mem, NULL);
	check_event(ev);
	dt_event_free(ev);
	return 0;
}
