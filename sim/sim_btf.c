// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_btf.c - the structure layout of a simulated kernel build and its BTF description.
 *
 * task_struct is laid out like a CONFIG_RANDSTRUCT kernel: thread_info and __state first,
 * every other member in a seeded order with seeded gaps, so offsets differ between builds
 * and an engine that hardcodes them fails. The BTF blob is real (libbpf-built) and is what
 * the guest publishes between __start_BTF and __stop_BTF.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "sim_priv.h"

struct fdesc {
	const char *name;
	uint32_t size, align;
	uint32_t *out;
};

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void dt_sim_layout_make(struct sim_layout *l, enum dt_sim_flavour f, uint64_t seed)
{
	struct dt_sim_offsets *o = &l->o;
	uint32_t state_dummy;
	struct fdesc t[] = {
		{ "stack", 8, 8, &o->task_stack },
		{ "flags", 4, 4, &o->task_flags },
		{ "tasks", 16, 8, &o->task_tasks },
		{ "mm", 8, 8, &o->task_mm },
		{ "active_mm", 8, 8, &l->task_active_mm },
		{ "exit_state", 4, 4, &o->task_exit_state },
		{ "exit_code", 4, 4, &o->task_exit_code },
		{ "exit_signal", 4, 4, &l->task_exit_signal },
		{ "pid", 4, 4, &o->task_pid },
		{ "tgid", 4, 4, &o->task_tgid },
		{ "real_parent", 8, 8, &o->task_real_parent },
		{ "parent", 8, 8, &o->task_parent },
		{ "children", 16, 8, &o->task_children },
		{ "sibling", 16, 8, &o->task_sibling },
		{ "group_leader", 8, 8, &o->task_group_leader },
		{ "real_cred", 8, 8, &o->task_real_cred },
		{ "cred", 8, 8, &o->task_cred },
		{ "comm", 16, 8, &o->task_comm },
		{ "start_time", 8, 8, &o->task_start_time },
	};
	size_t n = sizeof(t) / sizeof(t[0]), i;
	uint32_t off;

	(void)state_dummy;
	memset(l, 0, sizeof(*l));
	/* thread_info { flags, syscall_work, status, cpu } then __state, as in 6.x */
	l->task_ti_cpu = 20;
	o->task_state = 24;
	for (i = n - 1; i > 0; i--) {
		size_t j = sim_rand_below(&seed, i + 1);
		struct fdesc tmp = t[i];

		t[i] = t[j];
		t[j] = tmp;
	}
	off = 32;
	for (i = 0; i < n; i++) {
		off += (uint32_t)sim_rand_below(&seed, 48) * 8;
		off = align_up(off, t[i].align);
		*t[i].out = off;
		off += t[i].size;
	}
	o->task_size = align_up(off + 64 + (uint32_t)sim_rand_below(&seed, 1024), 64);

	l->cred_usage = f == DT_SIM_FLAVOUR_66 ? 8 : 4; /* atomic_long_t since 6.6 */
	o->cred_uid = l->cred_usage;
	o->cred_gid = o->cred_uid + 4;
	o->cred_suid = o->cred_uid + 8;
	o->cred_sgid = o->cred_uid + 12;
	o->cred_euid = o->cred_uid + 16;
	o->cred_egid = o->cred_uid + 20;
	o->cred_fsuid = o->cred_uid + 24;
	o->cred_fsgid = o->cred_uid + 28;
	l->cred_size = 176;

	o->mm_pgd = 0x40 + (uint32_t)sim_rand_below(&seed, 8) * 8;
	o->mm_arg_start = 0x100 + (uint32_t)sim_rand_below(&seed, 64) * 8;
	o->mm_arg_end = o->mm_arg_start + 8;
	l->mm_env_start = o->mm_arg_start + 16;
	l->mm_env_end = o->mm_arg_start + 24;
	l->mm_size = 1024;

	o->binprm_filename = 0x40 + (uint32_t)sim_rand_below(&seed, 16) * 8;
	l->binprm_interp = o->binprm_filename + 8;
	l->binprm_p = o->binprm_filename + 24;
	l->binprm_argc = o->binprm_filename + 32;
	l->binprm_envc = o->binprm_filename + 36;
	l->binprm_size = 0x200;
	o->filename_name = 0;
	l->filename_size = 32;

	l->percpu_var = 0x10000 + sim_rand_below(&seed, 0xe00) * 16;
	l->percpu_cpu_number = 0x1f000 + sim_rand_below(&seed, 64) * 8;
	l->percpu_top_of_stack = 0x1f400 + sim_rand_below(&seed, 64) * 8;
	o->percpu_current = l->percpu_var;
}

/* ---- BTF ---- */

struct bt {
	struct btf *btf;
	int err;
	int t_int, t_uint, t_ulong, t_long, t_char, t_u16, t_u64, t_s64, t_bool, t_u8;
	int t_pid, t_kuid, t_kgid, t_atomic, t_atomic_long, t_comm, t_voidp, t_cchar, t_ccharp;
	int t_ccharpp;
};

static int chk(struct bt *b, int id)
{
	if (id < 0 && !b->err)
		b->err = id;
	return id;
}

struct field {
	const char *name;
	int type;
	uint32_t off;
};

static int cmp_field(const void *a, const void *b)
{
	const struct field *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int add_struct(struct bt *b, const char *name, uint32_t size, struct field *f, size_t n)
{
	int id = chk(b, btf__add_struct(b->btf, name, size));
	size_t i;

	qsort(f, n, sizeof(*f), cmp_field);
	for (i = 0; i < n; i++)
		chk(b, btf__add_field(b->btf, f[i].name, f[i].type, f[i].off * 8, 0));
	return id;
}

static int add_typedef_struct(struct bt *b, const char *tname, const char *member, int type,
			      uint32_t size)
{
	int s = chk(b, btf__add_struct(b->btf, NULL, size));

	chk(b, btf__add_field(b->btf, member, type, 0, 0));
	(void)s;
	return chk(b, btf__add_typedef(b->btf, tname, s));
}

static void base_types(struct bt *b)
{
	struct btf *t = b->btf;
	int idx, uid, gid, u32;

	b->t_int = chk(b, btf__add_int(t, "int", 4, BTF_INT_SIGNED));
	b->t_uint = chk(b, btf__add_int(t, "unsigned int", 4, 0));
	b->t_ulong = chk(b, btf__add_int(t, "long unsigned int", 8, 0));
	b->t_long = chk(b, btf__add_int(t, "long int", 8, BTF_INT_SIGNED));
	b->t_char = chk(b, btf__add_int(t, "char", 1, BTF_INT_SIGNED));
	b->t_u16 = chk(b, btf__add_int(t, "short unsigned int", 2, 0));
	b->t_u8 = chk(b, btf__add_int(t, "unsigned char", 1, 0));
	b->t_bool = chk(b, btf__add_int(t, "_Bool", 1, BTF_INT_BOOL));
	b->t_u64 = chk(b, btf__add_int(t, "long long unsigned int", 8, 0));
	b->t_s64 = chk(b, btf__add_int(t, "long long int", 8, BTF_INT_SIGNED));
	b->t_u64 = chk(b, btf__add_typedef(t, "u64", chk(b, btf__add_typedef(t, "__u64", b->t_u64))));
	u32 = chk(b, btf__add_typedef(t, "__kernel_uid32_t", b->t_uint));
	uid = chk(b, btf__add_typedef(t, "uid_t", u32));
	gid = chk(b, btf__add_typedef(t, "gid_t",
				      chk(b, btf__add_typedef(t, "__kernel_gid32_t", b->t_uint))));
	b->t_pid = chk(b, btf__add_typedef(t, "pid_t",
					   chk(b, btf__add_typedef(t, "__kernel_pid_t", b->t_int))));
	b->t_kuid = add_typedef_struct(b, "kuid_t", "val", uid, 4);
	b->t_kgid = add_typedef_struct(b, "kgid_t", "val", gid, 4);
	b->t_atomic = add_typedef_struct(b, "atomic_t", "counter", b->t_int, 4);
	b->t_atomic_long = add_typedef_struct(b, "atomic64_t", "counter", b->t_s64, 8);
	b->t_atomic_long = chk(b, btf__add_typedef(t, "atomic_long_t", b->t_atomic_long));
	idx = chk(b, btf__add_int(t, "__ARRAY_SIZE_TYPE__", 4, 0));
	b->t_comm = chk(b, btf__add_array(t, idx, b->t_char, 16));
	b->t_voidp = chk(b, btf__add_ptr(t, 0));
	b->t_cchar = chk(b, btf__add_const(t, b->t_char));
	b->t_ccharp = chk(b, btf__add_ptr(t, b->t_cchar));
	b->t_ccharpp = chk(b, btf__add_ptr(t, b->t_ccharp));
}

/* What tells which file an open reached: struct file -> f_path -> dentries and mounts. */
static void vfs_types(struct bt *b)
{
	struct btf *t = b->btf;
	int p_dentry = chk(b, btf__add_ptr(t, chk(b, btf__add_fwd(t, "dentry", BTF_FWD_STRUCT))));
	int p_mount = chk(b, btf__add_ptr(t, chk(b, btf__add_fwd(t, "mount", BTF_FWD_STRUCT))));
	int p_vfsmount, qstr, path, vfsmount, idx, iname;
	int p_cuchar = chk(b, btf__add_ptr(t, chk(b, btf__add_const(t, b->t_u8))));

	{
		struct field f[] = { { "hash_len", b->t_u64, 0 }, { "name", p_cuchar, SIM_QSTR_NAME } };

		qstr = add_struct(b, "qstr", 16, f, 2);
	}
	idx = chk(b, btf__add_int(t, "sizetype", 4, 0));
	iname = chk(b, btf__add_array(t, idx, b->t_u8, 128));
	{
		struct field f[] = { { "d_flags", b->t_uint, 0 },
				     { "d_parent", p_dentry, SIM_DENTRY_PARENT },
				     { "d_name", qstr, SIM_DENTRY_NAME },
				     { "d_inode", b->t_voidp, 48 },
				     { "d_iname", iname, SIM_DENTRY_INAME } };

		chk(b, add_struct(b, "dentry", SIM_DENTRY_SIZE, f, 5));
	}
	{
		struct field f[] = { { "mnt_root", p_dentry, 0 },
				     { "mnt_sb", b->t_voidp, 8 },
				     { "mnt_flags", b->t_int, 16 } };

		vfsmount = add_struct(b, "vfsmount", SIM_VFSMOUNT_SIZE, f, 3);
	}
	p_vfsmount = chk(b, btf__add_ptr(t, vfsmount));
	{
		struct field f[] = { { "mnt_parent", p_mount, SIM_MOUNT_PARENT },
				     { "mnt_mountpoint", p_dentry, SIM_MOUNT_MOUNTPOINT },
				     { "mnt", vfsmount, SIM_MOUNT_MNT } };

		chk(b, add_struct(b, "mount", SIM_MOUNT_SIZE, f, 3));
	}
	{
		struct field f[] = { { "mnt", p_vfsmount, 0 }, { "dentry", p_dentry, 8 } };

		path = add_struct(b, "path", SIM_PATH_SIZE, f, 2);
	}
	{
		struct field f[] = { { "f_path", path, SIM_FILE_PATH },
				     { "f_inode", b->t_voidp, 32 },
				     { "f_flags", b->t_uint, SIM_FILE_FLAGS } };

		chk(b, add_struct(b, "file", SIM_FILE_SIZE, f, 3));
	}
}

enum { S_LIST, S_TASK, S_CRED, S_MM, S_REGS, S_TI, S_BPRM, S_FILENAME, S_HOT, S_META, S_N };

int dt_sim_btf_make(const struct sim_layout *l, enum dt_sim_flavour f, void **ret_blob,
		    uint32_t *ret_size)
{
	const struct dt_sim_offsets *o = &l->o;
	struct bt b = { 0 };
	int sid[S_N], p_list, p_task, c_cred, p_ccred, p_mm, p_filename, n0, k, i;
	const void *raw;
	uint32_t size;
	void *blob;

	b.btf = btf__new_empty();
	if (!b.btf)
		return -ENOMEM;
	base_types(&b);

	/* Pointer types first, to struct ids assigned below in order (fields are not types). */
	k = 6;
	n0 = (int)btf__type_cnt(b.btf);
	for (i = 0; i < S_N; i++)
		sid[i] = n0 + k + i;
	p_list = chk(&b, btf__add_ptr(b.btf, sid[S_LIST]));
	p_task = chk(&b, btf__add_ptr(b.btf, sid[S_TASK]));
	c_cred = chk(&b, btf__add_const(b.btf, sid[S_CRED]));
	p_ccred = chk(&b, btf__add_ptr(b.btf, c_cred));
	p_mm = chk(&b, btf__add_ptr(b.btf, sid[S_MM]));
	p_filename = chk(&b, btf__add_ptr(b.btf, sid[S_FILENAME]));
	if ((int)btf__type_cnt(b.btf) != n0 + k)
		b.err = -EINVAL;

	{
		struct field fl[] = { { "next", p_list, 0 }, { "prev", p_list, 8 } };

		chk(&b, add_struct(&b, "list_head", 16, fl, 2));
	}
	{
		struct field ft[] = {
			{ "thread_info", sid[S_TI], 0 },
			{ "__state", b.t_uint, o->task_state },
			{ "stack", b.t_voidp, o->task_stack },
			{ "flags", b.t_uint, o->task_flags },
			{ "tasks", sid[S_LIST], o->task_tasks },
			{ "mm", p_mm, o->task_mm },
			{ "active_mm", p_mm, l->task_active_mm },
			{ "exit_state", b.t_int, o->task_exit_state },
			{ "exit_code", b.t_int, o->task_exit_code },
			{ "exit_signal", b.t_int, l->task_exit_signal },
			{ "pid", b.t_pid, o->task_pid },
			{ "tgid", b.t_pid, o->task_tgid },
			{ "real_parent", p_task, o->task_real_parent },
			{ "parent", p_task, o->task_parent },
			{ "children", sid[S_LIST], o->task_children },
			{ "sibling", sid[S_LIST], o->task_sibling },
			{ "group_leader", p_task, o->task_group_leader },
			{ "real_cred", p_ccred, o->task_real_cred },
			{ "cred", p_ccred, o->task_cred },
			{ "comm", b.t_comm, o->task_comm },
			{ "start_time", b.t_u64, o->task_start_time },
		};

		chk(&b, add_struct(&b, "task_struct", o->task_size, ft, sizeof(ft) / sizeof(ft[0])));
	}
	{
		struct field fc[] = {
			{ "usage", l->cred_usage == 8 ? b.t_atomic_long : b.t_atomic, 0 },
			{ "uid", b.t_kuid, o->cred_uid },     { "gid", b.t_kgid, o->cred_gid },
			{ "suid", b.t_kuid, o->cred_suid },   { "sgid", b.t_kgid, o->cred_sgid },
			{ "euid", b.t_kuid, o->cred_euid },   { "egid", b.t_kgid, o->cred_egid },
			{ "fsuid", b.t_kuid, o->cred_fsuid }, { "fsgid", b.t_kgid, o->cred_fsgid },
		};

		chk(&b, add_struct(&b, "cred", l->cred_size, fc, sizeof(fc) / sizeof(fc[0])));
	}
	{
		struct field fm[] = {
			{ "pgd", b.t_voidp, o->mm_pgd },
			{ "arg_start", b.t_ulong, o->mm_arg_start },
			{ "arg_end", b.t_ulong, o->mm_arg_end },
			{ "env_start", b.t_ulong, l->mm_env_start },
			{ "env_end", b.t_ulong, l->mm_env_end },
		};

		chk(&b, add_struct(&b, "mm_struct", l->mm_size, fm, sizeof(fm) / sizeof(fm[0])));
	}
	{
		static const char *const regs[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11",
						     "r10", "r9",  "r8",  "ax",	 "cx", "dx", "si",
						     "di",  "orig_ax", "ip", "cs", "flags", "sp",
						     "ss" };
		struct field fr[21];

		for (i = 0; i < 21; i++)
			fr[i] = (struct field){ regs[i], b.t_ulong, (uint32_t)i * 8 };
		chk(&b, add_struct(&b, "pt_regs", SIM_PTREGS_SIZE, fr, 21));
	}
	{
		struct field fi[] = { { "flags", b.t_ulong, 0 },
				      { "syscall_work", b.t_ulong, 8 },
				      { "status", b.t_uint, 16 },
				      { "cpu", b.t_uint, 20 } };

		chk(&b, add_struct(&b, "thread_info", 24, fi, 4));
	}
	{
		struct field fb[] = {
			{ "filename", b.t_ccharp, o->binprm_filename },
			{ "interp", b.t_ccharp, l->binprm_interp },
			{ "p", b.t_ulong, l->binprm_p },
			{ "argc", b.t_int, l->binprm_argc },
			{ "envc", b.t_int, l->binprm_envc },
		};

		chk(&b, add_struct(&b, "linux_binprm", l->binprm_size, fb, 5));
	}
	{
		struct field ff[] = { { "name", b.t_ccharp, 0 },
				      { "uptr", b.t_ccharp, 8 },
				      { "refcnt", b.t_int, 16 },
				      { "aname", b.t_voidp, 24 } };

		chk(&b, add_struct(&b, "filename", l->filename_size, ff, 4));
	}
	{
		struct field fh[] = { { "current_task", p_task, 0 },
				      { "preempt_count", b.t_int, 8 },
				      { "cpu_number", b.t_int, 12 },
				      { "call_depth", b.t_u64, 16 },
				      { "top_of_stack", b.t_ulong, 24 },
				      { "hardirq_stack_ptr", b.t_voidp, 32 },
				      { "softirq_pending", b.t_u16, 40 },
				      { "hardirq_stack_inuse", b.t_bool, 42 } };

		chk(&b, add_struct(&b, "pcpu_hot", 64, fh, 8));
	}
	{
		struct field fs[] = { { "name", b.t_ccharp, 0 },   { "syscall_nr", b.t_int, 8 },
				      { "nb_args", b.t_int, 12 },  { "types", b.t_ccharpp, 16 },
				      { "args", b.t_ccharpp, 24 }, { "enter_fields", sid[S_LIST], 32 },
				      { "enter_event", b.t_voidp, 48 },
				      { "exit_event", b.t_voidp, 56 } };

		chk(&b, add_struct(&b, "syscall_metadata", 64, fs, 8));
	}
	(void)p_filename;
	if (!b.err && (int)btf__type_cnt(b.btf) != sid[S_META] + 1)
		b.err = -EINVAL;
	vfs_types(&b);

	/* Per-CPU variables, as pahole emits them. */
	{
		int var, sec;

		if (f == DT_SIM_FLAVOUR_66)
			var = chk(&b, btf__add_var(b.btf, "pcpu_hot", BTF_VAR_GLOBAL_ALLOCATED,
						   sid[S_HOT]));
		else
			var = chk(&b, btf__add_var(b.btf, "current_task", BTF_VAR_GLOBAL_ALLOCATED,
						   p_task));
		sec = chk(&b, btf__add_datasec(b.btf, ".data..percpu", SIM_PERCPU_SIZE));
		(void)sec;
		chk(&b, btf__add_datasec_var_info(b.btf, var, (uint32_t)l->percpu_var,
						  f == DT_SIM_FLAVOUR_66 ? 64 : 8));
	}
	if (b.err) {
		int err = b.err;

		btf__free(b.btf);
		return err;
	}
	raw = btf__raw_data(b.btf, &size);
	blob = raw ? malloc(size) : NULL;
	if (!blob) {
		btf__free(b.btf);
		return -ENOMEM;
	}
	memcpy(blob, raw, size);
	btf__free(b.btf);
	*ret_blob = blob;
	*ret_size = size;
	return 0;
}
