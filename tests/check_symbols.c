// SPDX-License-Identifier: GPL-2.0-only
/* Symbol maps: System.map and kallsyms formats, hostile lines, lookups, size. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domtrace/guest.h"

static char *data_path(const char *name)
{
	const char *src = getenv("DT_SOURCE_DIR");
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/tests/data/%s", src ? src : ".", name), 0);
	return p;
}

static struct dt_symtab *parse_ok(const char *text)
{
	struct dt_symtab *tab = NULL;
	char err[256] = "";

	ck_assert_msg(!dt_symtab_parse(text, strlen(text), "t", &tab, err, sizeof(err)), "%s", err);
	return tab;
}

START_TEST(system_map_file)
{
	struct dt_symtab *tab = NULL;
	const struct dt_sym *s, *all[4];
	char err[256] = "", *path = data_path("System.map-small");
	uint64_t off;

	ck_assert_int_eq(dt_symtab_load(path, &tab, err, sizeof(err)), 0);
	ck_assert_str_eq(dt_symtab_label(tab), path);
	ck_assert_uint_eq(dt_symtab_count(tab), 23);
	ck_assert_uint_eq(dt_symtab_skipped(tab), 0);

	s = dt_symtab_find(tab, "entry_SYSCALL_64");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->addr, 0xffffffff81c00000ull);
	ck_assert_int_eq(s->type, 'T');
	ck_assert_ptr_null(s->module);
	ck_assert_ptr_null(dt_symtab_find(tab, "entry_SYSCALL"));
	ck_assert_ptr_null(dt_symtab_find(tab, "zzz"));
	ck_assert_ptr_null(dt_symtab_find(tab, ""));

	/* three local init_one: the lowest address first */
	ck_assert_uint_eq(dt_symtab_find_all(tab, "init_one", all, 4), 3);
	ck_assert_uint_eq(all[0]->addr, 0xffffffff81000010ull);
	ck_assert_uint_eq(all[1]->addr, 0xffffffff81000020ull);
	ck_assert_uint_eq(all[2]->addr, 0xffffffff82600000ull);
	ck_assert_uint_eq(dt_symtab_find_all(tab, "init_one", all, 1), 3);

	/* by address */
	s = dt_symtab_at(tab, 0xffffffff810001a5ull, &off);
	ck_assert_str_eq(s->name, "__x64_sys_read");
	ck_assert_uint_eq(off, 5);
	s = dt_symtab_at(tab, 0xffffffff81000000ull, &off);
	ck_assert_uint_eq(off, 0);
	ck_assert(!strcmp(s->name, "_stext") || !strcmp(s->name, "_text"));
	s = dt_symtab_at(tab, 0xffffffffffffffffull, &off);
	ck_assert_str_eq(s->name, "__bss_stop");
	s = dt_symtab_at(tab, 0x1fbc8, &off);
	ck_assert_str_eq(s->name, "current_task");
	ck_assert_uint_eq(off, 8);
	ck_assert_str_eq(dt_symtab_index(tab, 0)->name, "__per_cpu_start");
	ck_assert_ptr_null(dt_symtab_index(tab, 23));

	/* per-cpu: zero-based, between __per_cpu_start and __per_cpu_end */
	ck_assert(dt_symtab_is_percpu(tab, dt_symtab_find(tab, "current_task")));
	ck_assert(dt_symtab_is_percpu(tab, dt_symtab_find(tab, "__per_cpu_start")));
	ck_assert(!dt_symtab_is_percpu(tab, dt_symtab_find(tab, "__per_cpu_end")));
	ck_assert(!dt_symtab_is_percpu(tab, dt_symtab_find(tab, "phys_startup_64")));
	ck_assert(!dt_symtab_is_percpu(tab, dt_symtab_find(tab, "init_task")));
	ck_assert(!dt_symtab_is_percpu(tab, dt_symtab_find(tab, "__per_cpu_offset")));
	dt_symtab_free(tab);
	free(path);
}
END_TEST

START_TEST(kallsyms_modules)
{
	struct dt_symtab *tab = NULL;
	const struct dt_sym *s, *all[4];
	char err[256] = "", *path = data_path("kallsyms-small");

	ck_assert_int_eq(dt_symtab_load(path, &tab, err, sizeof(err)), 0);
	ck_assert_uint_eq(dt_symtab_count(tab), 6);
	/* the kernel's local init_one over ext4's global one */
	ck_assert_uint_eq(dt_symtab_find_all(tab, "init_one", all, 4), 2);
	ck_assert_ptr_null(all[0]->module);
	ck_assert_str_eq(all[1]->module, "ext4");
	ck_assert_int_eq(all[1]->type, 'T');
	s = dt_symtab_find(tab, "helper");
	ck_assert_str_eq(s->module, "ext4");
	ck_assert_uint_eq(dt_symtab_find_all(tab, "helper", all, 4), 2);
	ck_assert_str_eq(all[1]->module, "xfs");
	/* no __per_cpu_end: nothing is per-cpu */
	ck_assert(!dt_symtab_is_percpu(tab, dt_symtab_find(tab, "__per_cpu_start")));
	dt_symtab_free(tab);
	free(path);
}
END_TEST

START_TEST(preference_global_over_local)
{
	struct dt_symtab *tab = parse_ok("ffffffff81000100 t foo\n"
					 "ffffffff81000200 T foo\n"
					 "ffffffff81000050 t foo [mod]\n"
					 "ffffffff81000300 T bar\n"
					 "ffffffff81000300 t bar_alias\n");
	const struct dt_sym *s = dt_symtab_find(tab, "foo");
	uint64_t off;

	ck_assert_uint_eq(s->addr, 0xffffffff81000200ull);
	/* same address: the global one is "the" symbol there */
	s = dt_symtab_at(tab, 0xffffffff81000301ull, &off);
	ck_assert_str_eq(s->name, "bar");
	ck_assert_uint_eq(off, 1);
	ck_assert_ptr_null(dt_symtab_at(tab, 0xffffffff81000000ull, &off));
	dt_symtab_free(tab);
}
END_TEST

START_TEST(hostile_lines)
{
	static const char text[] =
		"ffffffff81000000 T good_one\n"
		"\n"
		"   \t  \n"
		"ffffffff81000010 T\n"		      /* no name */
		"ffffffff81000020 Tx bad_type\n"      /* type of two chars */
		"1ffffffff81000000 T too_many_digits\n"
		"xyz T not_hex\n"
		"ffffffff81000030\n"
		"ffffffff81000040 T name with spaces\n"
		"ffffffff81000050 T mod [unterminated\n"
		"ffffffff81000060 T mod2 []\n"
		"ffffffff81000070 T mod3 [m] trailing\n"
		"ffffffff81000080 T ctl\001char\n"
		"ffffffff81000090 T crlf_one\r\n"
		"  ffffffff810000a0   t   spaced_one  \n"
		"ffffffff810000b0 T last_no_newline";
	struct dt_symtab *tab = NULL;
	char err[256] = "";
	char *big;
	size_t n;

	ck_assert_int_eq(dt_symtab_parse(text, sizeof(text) - 1, "h", &tab, err, sizeof(err)), 0);
	ck_assert_uint_eq(dt_symtab_count(tab), 4);
	ck_assert_uint_eq(dt_symtab_skipped(tab), 10);
	ck_assert_ptr_nonnull(dt_symtab_find(tab, "crlf_one"));
	ck_assert_ptr_nonnull(dt_symtab_find(tab, "spaced_one"));
	ck_assert_ptr_nonnull(dt_symtab_find(tab, "last_no_newline"));
	ck_assert_ptr_null(dt_symtab_find(tab, "ctl"));
	dt_symtab_free(tab);

	/* embedded NULs are control bytes: those lines go, others stay */
	{
		static const char nul[] = "ffffffff81000000 T a\0b\nffffffff81000010 T ok\n";

		ck_assert_int_eq(dt_symtab_parse(nul, sizeof(nul) - 1, "n", &tab, err,
						 sizeof(err)), 0);
		ck_assert_uint_eq(dt_symtab_count(tab), 1);
		dt_symtab_free(tab);
	}

	/* a name of DT_SYM_NAME_MAX bytes is refused, one less is fine */
	n = DT_SYM_NAME_MAX + 64;
	big = malloc(n * 2);
	memset(big, 'a', n * 2);
	memcpy(big, "ffffffff81000000 T ", 19);
	big[19 + DT_SYM_NAME_MAX] = '\n';
	memcpy(big + 20 + DT_SYM_NAME_MAX, "ffffffff81000000 T ", 19);
	big[20 + DT_SYM_NAME_MAX + 19 + DT_SYM_NAME_MAX - 1] = '\n';
	ck_assert_int_eq(dt_symtab_parse(big, 20 + DT_SYM_NAME_MAX + 19 + DT_SYM_NAME_MAX, "b",
					 &tab, err, sizeof(err)), 0);
	ck_assert_uint_eq(dt_symtab_count(tab), 1);
	ck_assert_uint_eq(strlen(dt_symtab_index(tab, 0)->name), DT_SYM_NAME_MAX - 1);
	dt_symtab_free(tab);
	free(big);
}
END_TEST

START_TEST(refused_files)
{
	struct dt_symtab *tab = (struct dt_symtab *)0x1;
	char err[256] = "";

	ck_assert_int_eq(dt_symtab_parse("", 0, "empty.map", &tab, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_eq(tab, (struct dt_symtab *)0x1);
	ck_assert_ptr_nonnull(strstr(err, "empty.map"));
	ck_assert_int_eq(dt_symtab_parse("garbage\nmore garbage\n", 21, "g.map", &tab, err,
					 sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "2 malformed"));
	/* kallsyms read without privilege */
	ck_assert_int_eq(dt_symtab_parse("0000000000000000 T a\n0000000000000000 T b\n", 42,
					 "k", &tab, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "zero"));
	ck_assert_int_eq(dt_symtab_load("/nonexistent/System.map-x", &tab, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/System.map-x"));
	ck_assert_int_eq(dt_symtab_load("/", &tab, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_eq(tab, (struct dt_symtab *)0x1);
	dt_symtab_free(NULL);
}
END_TEST

/* A distro-sized map and more: parse, every lookup right. No timing asserted. */
START_TEST(huge_map)
{
	const size_t nsyms = 1000000;
	size_t cap = nsyms * 48, len = 0, i;
	struct dt_symtab *tab = NULL;
	char err[256] = "", *text = malloc(cap);
	const struct dt_sym *s;
	uint64_t off;

	/* written out of address order, with duplicate names every 1000 */
	for (i = 0; i < nsyms; i++) {
		size_t k = (i * 7919) % nsyms;

		len += (size_t)snprintf(text + len, cap - len, "%016llx %c sym_%zu\n",
					0xffffffff81000000ull + k * 16, k % 3 ? 't' : 'T',
					k % 1000 ? k : 0);
	}
	ck_assert_int_eq(dt_symtab_parse(text, len, "huge", &tab, err, sizeof(err)), 0);
	ck_assert_uint_eq(dt_symtab_count(tab), nsyms);
	for (i = 1; i < nsyms; i += 997) {
		char name[32];

		if (!(i % 1000))
			continue;
		snprintf(name, sizeof(name), "sym_%zu", i);
		s = dt_symtab_find(tab, name);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->addr, 0xffffffff81000000ull + i * 16);
		s = dt_symtab_at(tab, 0xffffffff81000000ull + i * 16 + 3, &off);
		ck_assert_str_eq(s->name, name);
		ck_assert_uint_eq(off, 3);
	}
	/* 1000 symbols named sym_0; globals (k % 3 == 0) first */
	ck_assert_uint_eq(dt_symtab_find_all(tab, "sym_0", NULL, 0), 1000);
	ck_assert_int_eq(dt_symtab_find(tab, "sym_0")->type, 'T');
	ck_assert_uint_eq(dt_symtab_find(tab, "sym_0")->addr, 0xffffffff81000000ull);
	dt_symtab_free(tab);
	free(text);
}
END_TEST

static Suite *symbols_suite(void)
{
	Suite *s = suite_create("symbols");
	TCase *tc = tcase_create("maps");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, system_map_file);
	tcase_add_test(tc, kallsyms_modules);
	tcase_add_test(tc, preference_global_over_local);
	tcase_add_test(tc, hostile_lines);
	tcase_add_test(tc, refused_files);
	tcase_add_test(tc, huge_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(symbols_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
