// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct offsets from BTF blobs built here with libbpf (normal, randstruct-style
 * anonymous members, hostile: bitfields, wrong sizes, missing members, bad type ids,
 * random corruption) and from offsets profile files.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "domtrace/guest.h"
#include "check_guest_btf.h"

static void check_layout(const struct dt_offsets *o, const struct layout *l)
{
	ck_assert_uint_eq(o->off[DT_OFF_TASK_PID], l->pid);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_TGID], l->tgid);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_REAL_PARENT], l->real_parent);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_PARENT], l->parent);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_TASKS], l->tasks);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_COMM], l->comm);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_CRED], l->cred);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_REAL_CRED], l->real_cred);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_MM], l->mm);
	ck_assert_uint_eq(o->off[DT_OFF_TASK_FLAGS], l->flags);
	ck_assert_uint_eq(o->off[DT_SIZE_TASK_STRUCT], l->task_size);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_UID], 4 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_GID], 8 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_SUID], 12 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_SGID], 16 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_EUID], 20 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_CRED_EGID], 24 + l->cred_shift);
	ck_assert_uint_eq(o->off[DT_OFF_LIST_NEXT], 0);
	ck_assert_uint_eq(o->off[DT_OFF_LIST_PREV], 8);
}

START_TEST(btf_plain)
{
	struct dt_offsets o;
	char err[256] = "";
	size_t len, i;
	void *blob = build_btf(&l61, &len, NULL);

	ck_assert_msg(!dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), "%s", err);
	check_layout(&o, &l61);
	ck_assert_int_eq(o.src[DT_OFF_TASK_PID], DT_OFFSRC_BTF);
	ck_assert_uint_eq(o.off[DT_OFF_PCPU_HOT_CURRENT_TASK], 0);
	ck_assert_int_eq(o.src[DT_OFF_PCPU_HOT_CURRENT_TASK], DT_OFFSRC_BTF);
	ck_assert_uint_eq(o.off[DT_OFF_BINPRM_FILENAME], 0x60);
	ck_assert_uint_eq(o.off[DT_OFF_FILENAME_NAME], 0);
	/* pt_regs from BTF, in the ABI order */
	for (i = DT_OFF_REGS_R15; i <= DT_OFF_REGS_SS; i++) {
		ck_assert_uint_eq(o.off[i], (i - DT_OFF_REGS_R15) * 8);
		ck_assert_int_eq(o.src[i], DT_OFFSRC_BTF);
	}
	ck_assert_uint_eq(o.off[DT_OFF_REGS_ORIG_AX], 120);
	ck_assert_uint_eq(o.off[DT_SIZE_PT_REGS], 168);
	/* syscall_metadata not described: the ABI default */
	ck_assert_int_eq(o.src[DT_OFF_META_NB_ARGS], DT_OFFSRC_DEFAULT);
	ck_assert_uint_eq(o.off[DT_OFF_META_NB_ARGS], 12);
	ck_assert_str_eq(dt_off_name(DT_OFF_TASK_REAL_CRED), "task_struct.real_cred");
	ck_assert_str_eq(dt_off_name(DT_OFF_PCPU_HOT_CURRENT_TASK), "pcpu_hot.current_task");
	ck_assert_str_eq(dt_off_name(DT_SIZE_TASK_STRUCT), "task_struct.size");
	ck_assert_ptr_null(dt_off_name(_DT_OFF_MAX));
	free(blob);
}
END_TEST

/* 6.9+ (FRED): pt_regs.cs and .ss are u16s in anonymous unions with u64s (Debian 13's 6.12
 * was refused: "pt_regs.cs has offset 136, size 2 (expected 8)") */
START_TEST(btf_regs_fred_unions)
{
	struct dt_offsets o;
	char err[256] = "";
	size_t len;
	struct layout l = l61;
	void *blob;

	l.fred_regs = true;
	blob = build_btf(&l, &len, NULL);
	ck_assert_msg(!dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), "%s", err);
	check_layout(&o, &l61);
	ck_assert_uint_eq(o.off[DT_OFF_REGS_CS], 136);
	ck_assert_uint_eq(o.off[DT_OFF_REGS_SS], 160);
	ck_assert_uint_eq(o.off[DT_OFF_REGS_ORIG_AX], 120);
	ck_assert_uint_eq(o.off[DT_OFF_REGS_IP], 128);
	free(blob);
}
END_TEST

START_TEST(btf_randstruct_shuffled)
{
	struct layout l = {
		.pid = 0x900, .tgid = 0x80, .real_parent = 0x1200, .parent = 0x48, .tasks = 0x300,
		.comm = 0x2000, .cred = 0x1100, .real_cred = 0x40, .mm = 0x58, .flags = 0x60,
		.task_size = 0x2400, .cred_shift = 16, .randstruct = true,
	};
	struct dt_offsets o;
	char err[256] = "";
	size_t len;
	void *blob = build_btf(&l, &len, NULL);

	ck_assert_msg(!dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), "%s", err);
	check_layout(&o, &l);
	free(blob);
}
END_TEST

START_TEST(btf_refused)
{
	struct dt_offsets o, untouched;
	struct layout l;
	char err[256] = "";
	size_t len;
	void *blob;

	memset(&untouched, 0xab, sizeof(untouched));
	o = untouched;

	l = l61;
	l.pid_bitfield = true;
	blob = build_btf(&l, &len, NULL);
	ck_assert_int_eq(dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "task_struct.pid"));
	ck_assert_ptr_nonnull(strstr(err, "bitfield"));
	ck_assert_mem_eq(&o, &untouched, sizeof(o));
	free(blob);

	l = l61;
	l.pid_long = true;
	blob = build_btf(&l, &len, NULL);
	ck_assert_int_eq(dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "task_struct.pid"));
	free(blob);

	l = l61;
	l.no_real_parent = true;
	blob = build_btf(&l, &len, NULL);
	ck_assert_int_eq(dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "task_struct.real_parent"));
	free(blob);

	/* a member outside its struct */
	l = l61;
	l.task_size = 0x700;
	blob = build_btf(&l, &len, NULL);
	ck_assert_int_eq(dt_offsets_from_btf(blob, len, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "outside"));
	free(blob);

	ck_assert_int_eq(dt_offsets_from_btf("nonsense", 8, &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(dt_offsets_from_btf("x", 0, &o, err, sizeof(err)), -EINVAL);
	ck_assert_mem_eq(&o, &untouched, sizeof(o));
}
END_TEST

/* Member type ids beyond the table (libbpf 1.1 does not check them at btf__new). */
START_TEST(btf_bad_type_ids)
{
	const struct btf_type *t, *first;
	struct btf *parsed;
	struct dt_offsets o;
	char err[256] = "";
	size_t len;
	int task_id, r;
	uint32_t hdr_len, type_off, i;
	uint8_t *blob = build_btf(&l61, &len, &task_id);

	parsed = btf__new(blob, (uint32_t)len);
	ck_assert_ptr_nonnull(parsed);
	first = btf__type_by_id(parsed, 1);
	t = btf__type_by_id(parsed, (uint32_t)task_id);
	memcpy(&hdr_len, blob + 4, 4);
	memcpy(&type_off, blob + 8, 4);
	for (i = 0; i < btf_vlen(t); i++) {
		size_t at = hdr_len + type_off + (size_t)((const char *)&btf_members(t)[i].type -
							  (const char *)first);
		uint32_t bad = 0x7ffffff0 + i;

		memcpy(blob + at, &bad, 4);
	}
	btf__free(parsed);
	r = dt_offsets_from_btf(blob, len, &o, err, sizeof(err));
	ck_assert_int_lt(r, 0);
	free(blob);
}
END_TEST

/* Random corruption: every result is an error or a full set; never a crash. */
START_TEST(btf_fuzzed)
{
	size_t len, i, k, ok = 0;
	uint8_t *blob = build_btf(&l61, &len, NULL), *m = malloc(len);
	unsigned seed = 12345;
	struct dt_offsets o;
	char err[256];

	for (i = 0; i < 3000; i++) {
		memcpy(m, blob, len);
		for (k = 0; k < 1 + i % 8; k++)
			m[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		if (!dt_offsets_from_btf(m, i % 50 ? len : rand_r(&seed) % len + 1, &o, err,
					 sizeof(err)))
			ok++;
	}
	/* most single-byte hits land in names or padding that do not matter */
	ck_assert_uint_gt(ok, 0);
	free(m);
	free(blob);
}
END_TEST

START_TEST(profile_good)
{
	const char *src = getenv("DT_SOURCE_DIR");
	struct dt_offsets o;
	char err[256] = "", *path;

	ck_assert_int_ge(asprintf(&path, "%s/tests/data/offsets-6.1.profile", src ? src : "."), 0);
	ck_assert_msg(!dt_offsets_load_profile(path, &o, err, sizeof(err)), "%s", err);
	check_layout(&o, &l61);
	ck_assert_int_eq(o.src[DT_OFF_TASK_PID], DT_OFFSRC_PROFILE);
	ck_assert_int_eq(o.src[DT_OFF_REGS_DI], DT_OFFSRC_DEFAULT);
	ck_assert_uint_eq(o.off[DT_OFF_REGS_DI], 112);
	ck_assert_int_eq(o.src[DT_OFF_BINPRM_FILENAME], DT_OFFSRC_NONE);
	free(path);
}
END_TEST

START_TEST(profile_refused)
{
	static const char base[] = "task_struct.pid 1\ntask_struct.tgid 2\n"
				   "task_struct.real_parent 8\ntask_struct.parent 16\n"
				   "task_struct.tasks 24\ntask_struct.comm 40\n"
				   "task_struct.cred 56\ncred.uid 4\ncred.gid 8\n"
				   "cred.euid 20\ncred.egid 24\nlist_head.next 0\n";
	struct dt_offsets o;
	char err[256] = "", text[1024];

	ck_assert_msg(!dt_offsets_parse_profile(base, strlen(base), "p", &o, err, sizeof(err)),
		      "%s", err);
	ck_assert_int_eq(o.src[DT_OFF_TASK_REAL_CRED], DT_OFFSRC_NONE);

	snprintf(text, sizeof(text), "%stask_struct.pid 3\n", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert_ptr_nonnull(strstr(err, "line 13"));

	snprintf(text, sizeof(text), "%stask_struct.mm 0xzz\n", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)),
			 -EINVAL);
	snprintf(text, sizeof(text), "%stask_struct.mm 99999999999\n", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)),
			 -EINVAL);
	snprintf(text, sizeof(text), "%stask_struct.mm\n", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)),
			 -EINVAL);
	snprintf(text, sizeof(text), "%stask_struct.mm 1 2\n", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)),
			 -EINVAL);
	/* CRLF, comments, indentation */
	snprintf(text, sizeof(text), "# c\r\n\r\n  task_struct.mm\t0x10 \r\n%s", base);
	ck_assert_int_eq(dt_offsets_parse_profile(text, strlen(text), "p", &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.off[DT_OFF_TASK_MM], 16);

	ck_assert_int_eq(dt_offsets_parse_profile(base, strlen(base) - 17 - 13, "prof.txt", &o,
						  err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "cred.egid"));
	ck_assert_ptr_nonnull(strstr(err, "prof.txt"));
	ck_assert_int_eq(dt_offsets_load_profile("/nonexistent.profile", &o, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.profile"));
}
END_TEST

static Suite *offsets_suite(void)
{
	Suite *s = suite_create("guest_offsets");
	TCase *tc = tcase_create("btf");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, btf_plain);
	tcase_add_test(tc, btf_regs_fred_unions);
	tcase_add_test(tc, btf_randstruct_shuffled);
	tcase_add_test(tc, btf_refused);
	tcase_add_test(tc, btf_bad_type_ids);
	tcase_add_test(tc, btf_fuzzed);
	suite_add_tcase(s, tc);
	tc = tcase_create("profile");
	tcase_add_test(tc, profile_good);
	tcase_add_test(tc, profile_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(offsets_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
