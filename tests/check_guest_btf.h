/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * check_guest_btf.h - for the guest tests only: a small vmlinux-like BTF built with
 * libbpf, with a chosen task_struct layout (and hostile variants).
 */
#ifndef DT_CHECK_GUEST_BTF_H
#define DT_CHECK_GUEST_BTF_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

struct layout {
	uint32_t pid, tgid, real_parent, parent, tasks, comm, cred, real_cred, mm, flags;
	uint32_t task_size, cred_shift;
	bool randstruct;     /* task fields inside an anonymous struct at 0x40 */
	bool pid_bitfield;   /* hostile: pid is a 31-bit bitfield */
	bool pid_long;	     /* hostile: pid is 8 bytes */
	bool no_real_parent; /* hostile: member missing */
	bool fred_regs;	     /* 6.9+: pt_regs.cs and .ss are u16s in anonymous unions */
};

static const struct layout l61 __attribute__((unused)) = {
	.pid = 0x5a8, .tgid = 0x5ac, .real_parent = 0x5b8, .parent = 0x5c0, .tasks = 0x4f8,
	.comm = 0x758, .cred = 0x748, .real_cred = 0x740, .mm = 0x548, .flags = 0x2c,
	.task_size = 9792, .cred_shift = 0,
};

#define OK(x) ({ int __id = (x); ck_assert_int_gt(__id, 0); __id; })

/* A small vmlinux-like BTF. Returns a malloc()ed raw blob. */
static void *build_btf(const struct layout *l, size_t *ret_len, int *ret_task_id)
{
	struct btf *btf = btf__new_empty();
	int t_int, t_uint, t_char, t_ulong, t_long, t_pid, t_uid, t_kuid, t_kgid, anon;
	int t_lh, t_lhp, t_cred, t_ccred, t_ccredp, t_comm, t_voidp, t_task, t_taskp;
	int t_u8, t_pad, t_cstr, t_cchar, inner, uni = 0, i;
	const uint32_t base = l->randstruct ? 0x40 : 0;
	static const char *const regs[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11",
					    "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
					    "orig_ax", "ip", "cs", "flags", "sp", "ss" };
	const void *raw;
	uint32_t sz;
	void *copy;

	ck_assert_ptr_nonnull(btf);
	t_int = OK(btf__add_int(btf, "int", 4, BTF_INT_SIGNED));
	t_uint = OK(btf__add_int(btf, "unsigned int", 4, 0));
	t_char = OK(btf__add_int(btf, "char", 1, BTF_INT_CHAR));
	t_ulong = OK(btf__add_int(btf, "long unsigned int", 8, 0));
	t_long = OK(btf__add_int(btf, "long int", 8, BTF_INT_SIGNED));
	t_u8 = OK(btf__add_int(btf, "unsigned char", 1, 0));
	t_pid = OK(btf__add_typedef(btf, "pid_t", l->pid_long ? t_long : t_int));
	t_uid = OK(btf__add_typedef(btf, "uid_t", t_uint));
	anon = OK(btf__add_struct(btf, NULL, 4));
	ck_assert_int_eq(btf__add_field(btf, "val", t_uid, 0, 0), 0);
	t_kuid = OK(btf__add_typedef(btf, "kuid_t", anon));
	t_kgid = OK(btf__add_typedef(btf, "kgid_t", anon));
	/* fields follow their struct: point at the id list_head is about to get */
	t_lhp = OK(btf__add_ptr(btf, (int)btf__type_cnt(btf) + 1));
	t_lh = OK(btf__add_struct(btf, "list_head", 16));
	ck_assert_int_eq(btf__add_field(btf, "next", t_lhp, 0, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "prev", t_lhp, 64, 0), 0);
	t_cred = OK(btf__add_struct(btf, "cred", 176 + l->cred_shift));
	ck_assert_int_eq(btf__add_field(btf, "usage", t_int, 0, 0), 0);
	{
		static const char *const ids[] = { "uid", "gid", "suid", "sgid", "euid", "egid",
						   "fsuid", "fsgid" };

		for (i = 0; i < 8; i++)
			ck_assert_int_eq(btf__add_field(btf, ids[i], i % 2 ? t_kgid : t_kuid,
							(4 + l->cred_shift + 4 * i) * 8, 0), 0);
	}
	t_ccred = OK(btf__add_const(btf, t_cred));
	t_ccredp = OK(btf__add_ptr(btf, t_ccred));
	t_comm = OK(btf__add_array(btf, t_int, t_char, 16));
	t_voidp = OK(btf__add_ptr(btf, 0));
	/* a forward pointer to task_struct: id of the struct is known only later; use
	 * void * for real_parent/parent's pointee (sizes are what matter) */
	t_taskp = t_voidp;

	if (l->randstruct)
		inner = OK(btf__add_struct(btf, NULL, l->task_size - base));
	else
		inner = OK(btf__add_struct(btf, "task_struct", l->task_size));
	ck_assert_int_eq(btf__add_field(btf, "flags", t_uint, (l->flags - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "tasks", t_lh, (l->tasks - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "mm", t_voidp, (l->mm - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "pid", t_pid, (l->pid - base) * 8,
					l->pid_bitfield ? 31 : 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "tgid", t_pid, (l->tgid - base) * 8, 0), 0);
	if (!l->no_real_parent)
		ck_assert_int_eq(btf__add_field(btf, "real_parent", t_taskp,
						(l->real_parent - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "parent", t_taskp, (l->parent - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "real_cred", t_ccredp, (l->real_cred - base) * 8, 0),
			 0);
	ck_assert_int_eq(btf__add_field(btf, "cred", t_ccredp, (l->cred - base) * 8, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "comm", t_comm, (l->comm - base) * 8, 0), 0);
	t_task = inner;
	if (l->randstruct) {
		t_task = OK(btf__add_struct(btf, "task_struct", l->task_size));
		ck_assert_int_eq(btf__add_field(btf, "state", t_uint, 0, 0), 0);
		ck_assert_int_eq(btf__add_field(btf, NULL, inner, base * 8, 0), 0);
	}

	t_ulong = OK(btf__add_int(btf, "long unsigned int", 8, 0));
	if (l->fred_regs) {
		/* union { u16 cs; u64 csx; ... }, the same for ss (FRED, 6.9+) */
		int t_u16 = OK(btf__add_int(btf, "short unsigned int", 2, 0));

		uni = OK(btf__add_union(btf, NULL, 8)); /* cs's */
		ck_assert_int_eq(btf__add_field(btf, "cs", t_u16, 0, 0), 0);
		ck_assert_int_eq(btf__add_field(btf, "csx", t_ulong, 0, 0), 0);
		anon = OK(btf__add_union(btf, NULL, 8)); /* ss's */
		ck_assert_int_eq(btf__add_field(btf, "ss", t_u16, 0, 0), 0);
		ck_assert_int_eq(btf__add_field(btf, "ssx", t_ulong, 0, 0), 0);
	}
	OK(btf__add_struct(btf, "pt_regs", 168));
	for (i = 0; i < 21; i++) {
		if (l->fred_regs && (!strcmp(regs[i], "cs") || !strcmp(regs[i], "ss")))
			ck_assert_int_eq(btf__add_field(btf, NULL, regs[i][0] == 'c' ? uni : anon,
							i * 64, 0), 0);
		else
			ck_assert_int_eq(btf__add_field(btf, regs[i], t_ulong, i * 64, 0), 0);
	}

	/* 6.6: struct pcpu_hot { union { struct { current_task; ... }; u8 pad[64]; }; } */
	t_taskp = OK(btf__add_ptr(btf, t_task));
	inner = OK(btf__add_struct(btf, NULL, 16));
	ck_assert_int_eq(btf__add_field(btf, "current_task", t_taskp, 0, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "preempt_count", t_int, 64, 0), 0);
	t_pad = OK(btf__add_array(btf, t_int, t_u8, 64));
	uni = OK(btf__add_union(btf, NULL, 64));
	ck_assert_int_eq(btf__add_field(btf, NULL, inner, 0, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "pad", t_pad, 0, 0), 0);
	OK(btf__add_struct(btf, "pcpu_hot", 64));
	ck_assert_int_eq(btf__add_field(btf, NULL, uni, 0, 0), 0);

	t_cchar = OK(btf__add_const(btf, t_char));
	t_cstr = OK(btf__add_ptr(btf, t_cchar));
	OK(btf__add_struct(btf, "linux_binprm", 0x100));
	ck_assert_int_eq(btf__add_field(btf, "p", t_ulong, 0, 0), 0);
	ck_assert_int_eq(btf__add_field(btf, "filename", t_cstr, 0x60 * 8, 0), 0);
	OK(btf__add_struct(btf, "filename", 32));
	ck_assert_int_eq(btf__add_field(btf, "name", t_cstr, 0, 0), 0);

	raw = btf__raw_data(btf, &sz);
	ck_assert_ptr_nonnull(raw);
	copy = malloc(sz);
	memcpy(copy, raw, sz);
	*ret_len = sz;
	if (ret_task_id)
		*ret_task_id = t_task;
	btf__free(btf);
	return copy;
}

#endif /* DT_CHECK_GUEST_BTF_H */
