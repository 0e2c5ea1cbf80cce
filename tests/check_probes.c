// SPDX-License-Identifier: GPL-2.0-only
/* Probe sites: entry nop5, exits found by decoding, emulation of what a probe replaced. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probes/site.h"
#include "probes/table.h"

#define FUNC 0xffffffff81234500ull
#define THUNK 0xffffffff81e00000ull

/* Encode `jmp rel32`/`jcc rel32` at code[off] to target (func-relative addressing). */
static void put_rel32(uint8_t *code, size_t at, size_t insn_end, uint64_t target)
{
	int32_t rel = (int32_t)(target - (FUNC + insn_end));

	memcpy(code + at, &rel, 4);
}

START_TEST(entry_nop5_and_endbr)
{
	const uint8_t f61[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0xc3 };
	const uint8_t f66[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 };
	const uint8_t bad[] = { 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3 };
	struct dt_site s;
	const char *why = NULL;

	ck_assert_int_eq(dt_site_find_entry(f61, sizeof(f61), FUNC, &s, &why), 0);
	ck_assert_uint_eq(s.addr, FUNC);
	ck_assert_uint_eq(s.len, 5);
	ck_assert_int_eq(s.emul, DT_EMUL_NOP);
	ck_assert_int_eq(dt_site_find_entry(f66, sizeof(f66), FUNC, &s, &why), 0);
	ck_assert_uint_eq(s.addr, FUNC + 4);
	ck_assert_int_eq(dt_site_find_entry(bad, sizeof(bad), FUNC, &s, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	/* still `call __fentry__`: a booting kernel (or ftrace in use), try later */
	{
		const uint8_t fentry[] = { 0xe8, 0x10, 0x20, 0x30, 0x00, 0x55, 0xc3 };

		ck_assert_int_eq(dt_site_find_entry(fentry, sizeof(fentry), FUNC, &s, &why), -EAGAIN);
	}
	/* truncated read */
	ck_assert_int_eq(dt_site_find_entry(f61, 3, FUNC, &s, &why), -EINVAL);
	/* K8's atomic nop5: ftrace's nop on <= 5.12 kernels on AMD family 15 (Debian 11's 5.10
	 * under QEMU TCG); kept as the original bytes. K8's non-atomic nop5 (two
	 * instructions) is not an ftrace nop and is refused. */
	{
		const uint8_t k8[] = { 0x66, 0x66, 0x66, 0x66, 0x90, 0x55, 0xc3 };
		const uint8_t k8_two[] = { 0x66, 0x66, 0x90, 0x66, 0x90, 0x55, 0xc3 };

		ck_assert_int_eq(dt_site_find_entry(k8, sizeof(k8), FUNC, &s, &why), 0);
		ck_assert_uint_eq(s.addr, FUNC);
		ck_assert_uint_eq(s.len, 5);
		ck_assert_int_eq(s.emul, DT_EMUL_NOP);
		ck_assert_mem_eq(s.orig, k8, 5);
		ck_assert_int_eq(dt_site_find_entry(k8_two, sizeof(k8_two), FUNC, &s, &why), -EINVAL);
	}
	/* a sealed endbr64 (IBT kernels, functions never called indirectly: 6.12's do_exit),
	 * both poisons; any other 4 bytes before the nop5 are not an entry */
	{
		const uint8_t sealed62[] = { 0x66, 0x0f, 0x1f, 0x00, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 };
		const uint8_t sealed518[] = { 0x0f, 0x1f, 0x40, 0xd6, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 };
		const uint8_t other[] = { 0x0f, 0x1f, 0x40, 0x00, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 };

		ck_assert_int_eq(dt_site_find_entry(sealed62, sizeof(sealed62), FUNC, &s, &why), 0);
		ck_assert_uint_eq(s.addr, FUNC + 4);
		ck_assert_uint_eq(s.len, 5);
		ck_assert_int_eq(dt_site_find_entry(sealed518, sizeof(sealed518), FUNC, &s, &why), 0);
		ck_assert_uint_eq(s.addr, FUNC + 4);
		ck_assert_int_eq(dt_site_find_entry(other, sizeof(other), FUNC, &s, &why), -EINVAL);
	}
}
END_TEST

START_TEST(exits_ret_and_thunk)
{
	/* nop5; push rbp; mov rbp,rsp; test eax,eax; je +6; pop rbp; jmp thunk; pop rbp; ret; int3 */
	uint8_t c[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48, 0x89, 0xe5, 0x85, 0xc0, 0x74, 0x06,
			0x5d, 0xe9, 0, 0, 0, 0, 0x5d, 0xc3, 0xcc };
	struct dt_site sites[DT_EXITS_MAX];
	const char *why = NULL;
	size_t n = 0;

	put_rel32(c, 15, 19, THUNK);
	ck_assert_int_eq(dt_site_find_exits(c, sizeof(c), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(sites[0].addr, FUNC + 14);
	ck_assert_int_eq(sites[0].emul, DT_EMUL_JMP);
	ck_assert_uint_eq(sites[0].target, THUNK);
	ck_assert_uint_eq(sites[0].len, 5);
	ck_assert_uint_eq(sites[1].addr, FUNC + 20);
	ck_assert_int_eq(sites[1].emul, DT_EMUL_RET);
	ck_assert_uint_eq(sites[1].len, 1);
	ck_assert_mem_eq(sites[1].orig, "\xc3", 1);
	ck_assert(dt_site_fits(&sites[0], 5));
	ck_assert(!dt_site_fits(&sites[1], 5));
	ck_assert(dt_site_fits(&sites[1], 1));
}
END_TEST

/* `ret` with unreachable int3 padding after it can carry a 5-byte trap (sgdt) */
START_TEST(ret_with_int3_padding)
{
	const uint8_t padded[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x31, 0xc0, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };
	const uint8_t short_pad[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3, 0xcc, 0xcc };
	struct dt_site sites[DT_EXITS_MAX];
	struct dt_regs r = { .rsp = 0x1000 };
	const char *why = NULL;
	size_t n = 0;

	ck_assert_int_eq(dt_site_find_exits(padded, sizeof(padded), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(sites[0].addr, FUNC + 7);
	ck_assert_uint_eq(sites[0].len, 5);
	ck_assert_mem_eq(sites[0].orig, "\xc3\xcc\xcc\xcc\xcc", 5);
	ck_assert(dt_site_fits(&sites[0], 5));
	dt_site_emulate(&sites[0], &r, 0xffffffff81001234ull); /* still a ret */
	ck_assert_uint_eq(r.rip, 0xffffffff81001234ull);
	ck_assert_uint_eq(r.rsp, 0x1008);
	/* the padding ends with the function: not enough room */
	ck_assert_int_eq(dt_site_find_exits(short_pad, sizeof(short_pad), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why),
			 0);
	ck_assert_uint_eq(sites[0].len, 1);
	ck_assert(!dt_site_fits(&sites[0], 5));
}
END_TEST

START_TEST(exits_refused)
{
	uint8_t tail[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xe9, 0, 0, 0, 0 };
	uint8_t indirect[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xff, 0xe0, 0xc3 };
	uint8_t noret[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x90, 0x90 };
	uint8_t jcc_tail[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x0f, 0x84, 0, 0, 0, 0, 0xc3 };
	struct dt_site sites[DT_EXITS_MAX];
	const char *why = NULL;
	size_t n = 0;

	put_rel32(tail, 6, 10, 0xffffffff81000000ull);
	ck_assert_int_eq(dt_site_find_exits(tail, sizeof(tail), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "tail call"));
	ck_assert_int_eq(dt_site_find_exits(indirect, sizeof(indirect), FUNC, THUNK, sites, DT_EXITS_MAX,
					    &n, &why),
			 -EINVAL);
	ck_assert_int_eq(dt_site_find_exits(noret, sizeof(noret), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why),
			 -EINVAL);
	put_rel32(jcc_tail, 7, 11, 0xffffffff81000000ull);
	ck_assert_int_eq(dt_site_find_exits(jcc_tail, sizeof(jcc_tail), FUNC, THUNK, sites, DT_EXITS_MAX,
					    &n, &why),
			 -EINVAL);
}
END_TEST

START_TEST(jcc_to_thunk_is_conditional_exit)
{
	/* nop5; cmp; jne thunk (0f 85 rel32); xor eax,eax; jmp thunk */
	uint8_t c[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48, 0x39, 0xc7, 0x0f, 0x85, 0, 0, 0, 0,
			0x31, 0xc0, 0xe9, 0, 0, 0, 0 };
	struct dt_site sites[DT_EXITS_MAX];
	struct dt_regs r = { 0 };
	const char *why = NULL;
	size_t n = 0;

	put_rel32(c, 10, 14, THUNK);
	put_rel32(c, 17, 21, THUNK);
	ck_assert_int_eq(dt_site_find_exits(c, sizeof(c), FUNC, THUNK, sites, DT_EXITS_MAX, &n, &why), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(sites[0].emul, DT_EMUL_JCC);
	ck_assert_uint_eq(sites[0].cond, 5); /* NZ */
	r.rflags = 1u << 6;		     /* ZF: not taken */
	dt_site_emulate(&sites[0], &r, 0);
	ck_assert_uint_eq(r.rip, FUNC + 14);
	r.rflags = 0; /* taken */
	dt_site_emulate(&sites[0], &r, 0);
	ck_assert_uint_eq(r.rip, THUNK);
}
END_TEST

START_TEST(emulation)
{
	struct dt_site nop = { .addr = FUNC + 4, .len = 5, .emul = DT_EMUL_NOP };
	struct dt_site ret = { .addr = FUNC + 20, .len = 3, .emul = DT_EMUL_RET, .pop = 16 };
	struct dt_regs r = { .rsp = 0xffffc90000123f00ull, .rax = 7 };

	dt_site_emulate(&nop, &r, 0);
	ck_assert_uint_eq(r.rip, FUNC + 9);
	ck_assert_uint_eq(r.rsp, 0xffffc90000123f00ull);
	dt_site_emulate(&ret, &r, 0xffffffff81001234ull);
	ck_assert_uint_eq(r.rip, 0xffffffff81001234ull);
	ck_assert_uint_eq(r.rsp, 0xffffc90000123f00ull + 24);
	ck_assert_uint_eq(r.rax, 7);
	dt_site_abort(&r, 0xffffffff81005678ull, -1);
	ck_assert_uint_eq(r.rip, 0xffffffff81005678ull);
	ck_assert_uint_eq(r.rsp, 0xffffc90000123f00ull + 32);
	ck_assert_int_eq((int64_t)r.rax, -1);
}
END_TEST

/* Random puts and dels against a reference array: lookups always agree. */
START_TEST(table_matches_reference)
{
	enum { N = 2000 };
	static uint64_t addrs[N];
	static bool present[N];
	struct dt_probe_table *t = NULL;
	unsigned seed = 12345;
	size_t i, k, count = 0;

	ck_assert_int_eq(dt_probe_table_new(&t), 0);
	for (i = 0; i < N; i++)
		addrs[i] = 0xffffffff81000000ull + (uint64_t)i * 48 + (i % 7) * 16;
	for (k = 0; k < 40000; k++) {
		size_t j = (size_t)rand_r(&seed) % N;
		struct dt_probe p = { .site.addr = addrs[j], .func_id = (int)j };

		if (present[j]) {
			ck_assert_int_eq(dt_probe_table_del(t, addrs[j]), 0);
			present[j] = false;
			count--;
		} else {
			ck_assert_ptr_nonnull(dt_probe_table_put(t, &p));
			present[j] = true;
			count++;
		}
		if (k % 1999 == 0) {
			for (i = 0; i < N; i++) {
				struct dt_probe *q = dt_probe_table_get(t, addrs[i]);

				ck_assert(!!q == present[i]);
				if (q)
					ck_assert_int_eq(q->func_id, (int)i);
			}
			ck_assert_uint_eq(dt_probe_table_count(t), count);
		}
	}
	if (!present[0])
		ck_assert_ptr_nonnull(dt_probe_table_put(t, &(struct dt_probe){ .site.addr = addrs[0] }));
	ck_assert_ptr_null(dt_probe_table_put(t, &(struct dt_probe){ .site.addr = addrs[0] }));
	ck_assert_int_eq(errno, EEXIST);
	dt_probe_table_free(t);
	dt_probe_table_free(NULL);
}
END_TEST

static Suite *probes_suite(void)
{
	Suite *s = suite_create("probes");
	TCase *tc = tcase_create("site");

	tcase_add_test(tc, entry_nop5_and_endbr);
	tcase_add_test(tc, exits_ret_and_thunk);
	tcase_add_test(tc, ret_with_int3_padding);
	tcase_add_test(tc, exits_refused);
	tcase_add_test(tc, jcc_to_thunk_is_conditional_exit);
	tcase_add_test(tc, emulation);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_test(tc, table_matches_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(probes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
