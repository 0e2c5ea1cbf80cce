// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_entry.c - what the markers in the simulated kernel's text do outside the syscall
 * bodies: the entry code saving user registers into pt_regs on the kernel stack and
 * restoring them, exceptions from user mode, the execve chain (getname, copy_strings,
 * bprm_execve), do_exit and the exit-to-user signal check. Bodies: sim_sys.c.
 *
 * Runs on a vCPU thread with vm->lock held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

/* ---- pt_regs ---- */
static int regs_read(struct sim_vcpu *c, uint64_t va, uint64_t p[21])
{
	return dt_sim_read_va(&c->vm->mem, c->regs.cr3, va, p, SIM_PTREGS_SIZE) ==
			       SIM_PTREGS_SIZE
		       ? 0
		       : -EFAULT;
}

static int regs_write(struct sim_vcpu *c, uint64_t va, const uint64_t p[21])
{
	return dt_sim_write_va(&c->vm->mem, c->regs.cr3, va, p, SIM_PTREGS_SIZE);
}

static void call_start(struct sim_vcpu *c, int nr, bool compat, const uint64_t a[6])
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	char label[sizeof(t->call.label)];

	memcpy(label, t->call.label, sizeof(label));
	memset(&t->call, 0, sizeof(t->call));
	memcpy(t->call.label, label, sizeof(label));
	t->call.seq = ++vm->log_seq;
	t->call.domid = vm->domid;
	t->call.vcpu = c->id;
	t->call.pid = t->pid;
	t->call.tgid = t->tgid;
	t->call.compat = compat;
	t->call.nr = nr;
	memcpy(t->call.args, a, sizeof(t->call.args));
	memcpy(t->call.comm, t->comm, sizeof(t->call.comm));
	t->in_call = true;
	vm->ctr.calls++;
}

static enum sim_act_res crash_now(struct sim_vcpu *c, const char *why)
{
	c->vm->crashed = true;
	dt_sim_update_stop(c->vm);
	dt_sim_record_crash(c, "%s", why);
	dt_sim_vm_wake(c->vm);
	return ACT_CRASH;
}

static enum sim_act_res a_entry(struct sim_vcpu *c, bool compat)
{
	struct sim_task *t = c->task;
	struct dt_regs *r = &c->regs, *u = compat ? &t->ctx : r;
	uint64_t p[21], va = dt_sim_ptregs(t), a[6];

	memset(p, 0, sizeof(p));
	p[PT_R15 / 8] = u->r15, p[PT_R14 / 8] = u->r14, p[PT_R13 / 8] = u->r13;
	p[PT_R12 / 8] = u->r12, p[PT_BP / 8] = u->rbp, p[PT_BX / 8] = u->rbx;
	p[PT_R11 / 8] = u->r11, p[PT_R10 / 8] = u->r10, p[PT_R9 / 8] = u->r9;
	p[PT_R8 / 8] = u->r8, p[PT_AX / 8] = (uint64_t)-ENOSYS, p[PT_CX / 8] = u->rcx;
	p[PT_DX / 8] = u->rdx, p[PT_SI / 8] = u->rsi, p[PT_DI / 8] = u->rdi;
	p[PT_ORIG_AX / 8] = u->rax;
	p[PT_IP / 8] = compat ? u->rip : r->rcx;
	p[PT_CS / 8] = compat ? SIM_USER32_CS : SIM_USER_CS;
	p[PT_FLAGS / 8] = compat ? u->rflags : r->r11;
	p[PT_SP / 8] = u->rsp;
	p[PT_SS / 8] = SIM_USER_DS;
	if (regs_write(c, va, p))
		return crash_now(c, "BUG: unable to handle page fault (pt_regs)");
	if (compat) {
		uint64_t uv[6] = { u->rbx, u->rcx, u->rdx, u->rsi, u->rdi, u->rbp };

		memcpy(a, uv, sizeof(a));
	} else {
		uint64_t uv[6] = { u->rdi, u->rsi, u->rdx, u->r10, u->r8, u->r9 };

		memcpy(a, uv, sizeof(a));
	}
	call_start(c, (int)(compat ? (uint32_t)u->rax : u->rax), compat, a);
	r->rsi = compat ? (uint32_t)u->rax : u->rax;
	r->rsp = va;
	r->rdi = va;
	return ACT_NEXT;
}

static enum sim_act_res a_exc_entry(struct sim_vcpu *c, unsigned vector)
{
	struct sim_task *t = c->task;
	struct dt_regs *r = &c->regs, *u = &t->ctx;
	uint64_t p[21], va = dt_sim_ptregs(t), g;

	memset(p, 0, sizeof(p));
	p[PT_R15 / 8] = u->r15, p[PT_R14 / 8] = u->r14, p[PT_R13 / 8] = u->r13;
	p[PT_R12 / 8] = u->r12, p[PT_BP / 8] = u->rbp, p[PT_BX / 8] = u->rbx;
	p[PT_R11 / 8] = u->r11, p[PT_R10 / 8] = u->r10, p[PT_R9 / 8] = u->r9;
	p[PT_R8 / 8] = u->r8, p[PT_AX / 8] = u->rax, p[PT_CX / 8] = u->rcx;
	p[PT_DX / 8] = u->rdx, p[PT_SI / 8] = u->rsi, p[PT_DI / 8] = u->rdi;
	p[PT_ORIG_AX / 8] = vector == 14 ? 6 : (uint64_t)-1;
	p[PT_IP / 8] = u->rip;
	p[PT_CS / 8] = t->compat ? SIM_USER32_CS : SIM_USER_CS;
	p[PT_FLAGS / 8] = u->rflags;
	p[PT_SP / 8] = u->rsp;
	p[PT_SS / 8] = SIM_USER_DS;
	if (regs_write(c, va, p))
		return crash_now(c, "BUG: unable to handle page fault (pt_regs)");
	g = r->gs_base; /* from user mode: swapgs */
	r->gs_base = r->kernel_gs_base;
	r->kernel_gs_base = g;
	r->rsp = va;
	r->rdi = va;
	r->rsi = p[PT_ORIG_AX / 8];
	return ACT_NEXT;
}

static bool never_returns(int nr, bool compat)
{
	return compat ? nr == 1 || nr == 252 : nr == 60 || nr == 231;
}

static enum sim_act_res a_exit(struct sim_vcpu *c, bool iret, uint64_t *ret_rip)
{
	struct sim_task *t = c->task;
	struct dt_regs *r = &c->regs;
	uint64_t p[21], va = dt_sim_ptregs(t);

	if (r->rsp != va)
		return crash_now(c, "BUG: kernel stack imbalance on return to user mode");
	if (regs_read(c, va, p))
		return crash_now(c, "BUG: unable to handle page fault (pt_regs)");
	if (t->in_call && never_returns(t->call.nr, t->call.compat))
		/* exit/exit_group came back (an abort at its entry): the program's _exit has
		 * nothing after it; a real guest would run off into whatever follows */
		return crash_now(c, "exit/exit_group returned to user mode (it never returns)");
	if (!iret && p[PT_CS / 8] != SIM_USER_CS) {
		*ret_rip = dt_sim_kva(c->vm, c->vm->b->off_iret_path);
		return ACT_JUMP;
	}
	r->r15 = p[PT_R15 / 8], r->r14 = p[PT_R14 / 8], r->r13 = p[PT_R13 / 8];
	r->r12 = p[PT_R12 / 8], r->rbp = p[PT_BP / 8], r->rbx = p[PT_BX / 8];
	r->r10 = p[PT_R10 / 8], r->r9 = p[PT_R9 / 8], r->r8 = p[PT_R8 / 8];
	r->rax = p[PT_AX / 8], r->rdx = p[PT_DX / 8], r->rsi = p[PT_SI / 8];
	r->rdi = p[PT_DI / 8];
	if (iret) {
		r->rcx = p[PT_CX / 8];
		r->r11 = p[PT_R11 / 8];
		r->rsp = va + PT_IP;
	} else {
		r->rcx = p[PT_IP / 8];
		r->r11 = p[PT_FLAGS / 8];
		r->rsp = p[PT_SP / 8];
	}
	return ACT_NEXT;
}

static enum sim_act_res a_body(struct sim_vcpu *c, unsigned nr, bool compat)
{
	struct sim_task *t = c->task;
	uint64_t p[21], args[6];
	bool block;
	int64_t ret;

	if (regs_read(c, c->regs.rdi, p))
		return crash_now(c, "BUG: unable to handle page fault (syscall reading pt_regs)");
	if (compat) {
		uint64_t a[6] = { (uint32_t)p[PT_BX / 8], (uint32_t)p[PT_CX / 8],
				  (uint32_t)p[PT_DX / 8], (uint32_t)p[PT_SI / 8],
				  (uint32_t)p[PT_DI / 8], (uint32_t)p[PT_BP / 8] };

		memcpy(args, a, sizeof(a));
	} else {
		uint64_t a[6] = { p[PT_DI / 8], p[PT_SI / 8], p[PT_DX / 8],
				  p[PT_R10 / 8], p[PT_R8 / 8], p[PT_R9 / 8] };

		memcpy(args, a, sizeof(a));
	}
	t->call.body_ran = true;
	ret = dt_sim_syscall(c, nr, compat, args, &block);
	if (block)
		return ACT_BLOCK;
	c->regs.rax = (uint64_t)ret;
	return ACT_NEXT;
}

/* getname(): a struct filename in the kernel heap holding the copied path (iname). */
#define FNAME_SIZE 256

static uint64_t new_filename(struct sim_vm *vm, const char *name, int n, uint64_t uptr,
			     uint64_t *ret_pa)
{
	uint64_t pa, kva = dt_sim_kmalloc(vm, FNAME_SIZE, &pa);

	if (!kva)
		return 0;
	dt_sim_gwrite64(&vm->mem, pa + 0, kva + 32); /* name -> iname */
	dt_sim_gwrite64(&vm->mem, pa + 8, uptr);     /* uptr */
	dt_sim_gwrite64(&vm->mem, pa + 16, 1);	     /* refcnt */
	dt_sim_gcopy_in(&vm->mem, pa + 32, name, (size_t)n + 1);
	*ret_pa = pa;
	return kva;
}

static enum sim_act_res a_getname(struct sim_vcpu *c, unsigned arg, uint64_t end,
				  uint64_t *ret_rip)
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	bool compat = arg & 1, at = arg & 2;
	uint64_t p[21], ufile, kva, pa;
	char name[224];
	int n;

	if (regs_read(c, c->regs.rdi, p))
		return crash_now(c, "BUG: unable to handle page fault (execve pt_regs)");
	t->call.body_ran = true;
	if (compat) {
		ufile = (uint32_t)(at ? p[PT_CX / 8] : p[PT_BX / 8]);
		t->exec_uargv = (uint32_t)(at ? p[PT_DX / 8] : p[PT_CX / 8]);
		t->exec_uenvp = (uint32_t)(at ? p[PT_SI / 8] : p[PT_DX / 8]);
	} else {
		ufile = at ? p[PT_SI / 8] : p[PT_DI / 8];
		t->exec_uargv = at ? p[PT_DX / 8] : p[PT_SI / 8];
		t->exec_uenvp = at ? p[PT_R10 / 8] : p[PT_DX / 8];
	}
	if (t->race) { /* another thread rewrites the path before getname copies it */
		(void)dt_sim_uput_k(t, ufile, t->race, t->race_len + 1);
		t->race = NULL;
	}
	n = dt_sim_ustr_k(t, ufile, name, sizeof(name));
	if (n <= 0) {
		c->regs.rax = (uint64_t)(int64_t)(n == 0 ? -ENOENT : n);
		*ret_rip = end + 5;
		return ACT_JUMP;
	}
	kva = new_filename(vm, name, n, ufile, &pa);
	if (!kva) {
		c->regs.rax = (uint64_t)-ENOMEM;
		*ret_rip = end + 5;
		return ACT_JUMP;
	}
	t->fname_kva = kva;
	t->fname_pa = pa;
	snprintf(t->exec_path, sizeof(t->exec_path), "%s", name);
	c->regs.rdi = (uint64_t)-100; /* AT_FDCWD */
	c->regs.rsi = kva;
	c->regs.rdx = t->exec_uargv;
	c->regs.rcx = t->exec_uenvp;
	c->regs.r8 = 0;
	return ACT_NEXT;
}

/*
 * open/openat as Linux runs them: getname() copies the path into a kernel struct
 * filename (faulting absent pages in), then do_filp_open() works on that copy only, then
 * putname(). A scenario's `race=` rewrites the user's path first, as another thread
 * could between the call's entry and the copy.
 */
static enum sim_act_res a_open_name(struct sim_vcpu *c, unsigned arg, uint64_t end,
				    uint64_t *ret_rip)
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	bool compat = arg & 0x8000;
	unsigned nr = arg & 0x7fff;
	bool at = compat ? nr == 295 : nr == 257;
	uint64_t p[21], a[4], upath, kva, pa;
	char name[224];
	int n;

	if (regs_read(c, c->regs.rdi, p))
		return crash_now(c, "BUG: unable to handle page fault (open pt_regs)");
	if (compat) {
		a[0] = (uint32_t)p[PT_BX / 8], a[1] = (uint32_t)p[PT_CX / 8];
		a[2] = (uint32_t)p[PT_DX / 8], a[3] = (uint32_t)p[PT_SI / 8];
	} else {
		a[0] = p[PT_DI / 8], a[1] = p[PT_SI / 8], a[2] = p[PT_DX / 8], a[3] = p[PT_R10 / 8];
	}
	upath = at ? a[1] : a[0];
	t->open_flags = at ? a[2] : a[1];
	if (t->race) {
		(void)dt_sim_uput_k(t, upath, t->race, t->race_len + 1);
		t->race = NULL;
	}
	n = dt_sim_ustr_k(t, upath, name, sizeof(name));
	if (n <= 0 || !(kva = new_filename(vm, name, n, upath, &pa))) {
		c->regs.rax = (uint64_t)(int64_t)(n == 0 ? -ENOENT : n < 0 ? n : -ENOMEM);
		*ret_rip = end + 5; /* past the call: putname has nothing to put */
		return ACT_JUMP;
	}
	t->open_fname_pa = pa;
	c->regs.rdi = at ? a[0] : (uint64_t)-100; /* dfd (AT_FDCWD for open) */
	c->regs.rsi = kva;
	c->regs.rdx = t->open_flags;
	return ACT_NEXT;
}

static enum sim_act_res a_filp_open(struct sim_vcpu *c, uint64_t end, uint64_t *ret_rip)
{
	struct sim_task *t = c->task;
	uint64_t name_va, file;
	char name[224], canon[256];
	ssize_t n;
	int r;

	/* the kernel's copy, through kernel addresses: what the user does now is moot */
	if (dt_sim_read_va(&c->vm->mem, c->regs.cr3, c->regs.rsi, &name_va, 8) != 8)
		return crash_now(c, "BUG: unable to handle page fault (struct filename)");
	n = dt_sim_read_va(&c->vm->mem, c->regs.cr3, name_va, name, sizeof(name) - 1);
	if (n <= 0)
		return crash_now(c, "BUG: unable to handle page fault (filename->name)");
	name[n] = 0;
	t->open_file_pa = 0;
	r = dt_sim_vfs_resolve(t, (int64_t)c->regs.rdi, name, canon, sizeof(canon));
	if (r == 0)
		r = dt_sim_open_check(t, canon, c->regs.rdx);
	if (r >= -1) {
		t->open_idx = r;
		file = dt_sim_vfs_file(c->vm, canon, (uint32_t)c->regs.rdx, &t->open_file_pa);
		r = file ? 0 : -ENOMEM;
		c->regs.rdi = file;
	}
	if (r < 0) { /* the lookup failed: no struct file, no security hook */
		t->call.body_ran = true;
		c->regs.rax = (uint64_t)(int64_t)r;
		*ret_rip = end + 5;
		return ACT_JUMP;
	}
	return ACT_NEXT;
}

/* After security_file_open: 0 lets the open happen, an error (an LSM, an abort) not. */
static enum sim_act_res a_filp_done(struct sim_vcpu *c)
{
	struct sim_task *t = c->task;

	if (!t->open_file_pa)
		return ACT_NEXT; /* the lookup failed; rax holds its error */
	dt_sim_kfree(c->vm, t->open_file_pa, SIM_FILE_SIZE);
	t->open_file_pa = 0;
	if (c->regs.rax)
		return ACT_NEXT;
	t->call.body_ran = true;
	c->regs.rax = (uint64_t)dt_sim_open_install(t, t->open_idx);
	return ACT_NEXT;
}

static enum sim_act_res a_open_done(struct sim_vcpu *c)
{
	struct sim_task *t = c->task;

	if (t->open_fname_pa)
		dt_sim_kfree(c->vm, t->open_fname_pa, FNAME_SIZE);
	t->open_fname_pa = 0;
	return ACT_NEXT;
}

static void exec_cleanup(struct sim_task *t)
{
	struct sim_vm *vm = t->vm;

	if (t->bprm_pa)
		dt_sim_kfree(vm, t->bprm_pa, vm->b->l.binprm_size);
	if (t->fname_pa)
		dt_sim_kfree(vm, t->fname_pa, FNAME_SIZE);
	t->bprm_pa = t->fname_pa = 0;
	t->bprm_kva = t->fname_kva = 0;
}

static enum sim_act_res a_copy_strings(struct sim_vcpu *c, uint64_t end, uint64_t *ret_rip)
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	const struct sim_layout *l = &vm->b->l;
	size_t ptr = t->compat ? 4 : 8, len = 0;
	int argc = 0, envc = 0, idx;
	int64_t err = 0;
	uint64_t pa, kva;

	/* copy_strings: argv then envp, faulting their pages in */
	for (; t->exec_uargv && argc < 32; argc++) {
		uint64_t up = 0;
		char s[128];
		int n;

		if (dt_sim_uget_k(t, t->exec_uargv + (uint64_t)argc * ptr, &up, ptr)) {
			err = -EFAULT;
			break;
		}
		if (!up)
			break;
		n = dt_sim_ustr_k(t, up, s, sizeof(s));
		if (n == -EFAULT) {
			err = -EFAULT;
			break;
		}
		if (n < 0)
			n = (int)strlen(s);
		if (len + (size_t)n + 1 <= sizeof(t->exec_argv)) {
			memcpy(t->exec_argv + len, s, (size_t)n + 1);
			len += (size_t)n + 1;
		}
	}
	for (; !err && t->exec_uenvp && envc < 32; envc++) {
		uint64_t up = 0;
		char s[128];

		if (dt_sim_uget_k(t, t->exec_uenvp + (uint64_t)envc * ptr, &up, ptr)) {
			err = -EFAULT;
			break;
		}
		if (!up)
			break;
		if (dt_sim_ustr_k(t, up, s, sizeof(s)) == -EFAULT)
			err = -EFAULT;
	}
	idx = dt_sim_vfs_lookup(t->exec_path);
	if (!err && idx < 0)
		err = -ENOENT;
	if (!err && !(dt_sim_vfs_get(idx)->flags & (VF_EXEC | VF_EXEC32)))
		err = -EACCES;
	if (!err) {
		kva = dt_sim_kmalloc(vm, l->binprm_size, &pa);
		if (!kva)
			err = -ENOMEM;
	}
	if (err) {
		exec_cleanup(t);
		c->regs.rax = (uint64_t)err;
		*ret_rip = end + 5;
		return ACT_JUMP;
	}
	t->exec_argc = argc;
	t->exec_argv[sizeof(t->exec_argv) - 1] = 0;
	dt_sim_gwrite64(&vm->mem, pa + l->o.binprm_filename, t->fname_kva + 32);
	dt_sim_gwrite64(&vm->mem, pa + l->binprm_interp, t->fname_kva + 32);
	dt_sim_gwrite64(&vm->mem, pa + l->binprm_p, 0x7ffffffff000ULL - 0x1000);
	dt_sim_gcopy_in(&vm->mem, pa + l->binprm_argc, &argc, 4);
	dt_sim_gcopy_in(&vm->mem, pa + l->binprm_envc, &envc, 4);
	t->bprm_kva = kva;
	t->bprm_pa = pa;
	c->regs.rdi = kva;
	return ACT_NEXT;
}

static enum sim_act_res a_exec(struct sim_vcpu *c)
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	const struct sim_file *f;
	uint64_t p[21], va = dt_sim_ptregs(t);
	size_t len = 0;
	const char *base;
	int idx, i;

	idx = dt_sim_vfs_lookup(t->exec_path);
	if (idx < 0 || !t->bprm_kva) {
		exec_cleanup(t);
		c->regs.rax = (uint64_t)-ENOENT;
		return ACT_NEXT;
	}
	f = dt_sim_vfs_get(idx);
	for (i = 0; i < t->exec_argc && len < sizeof(t->exec_argv); i++)
		len += strnlen(t->exec_argv + len, sizeof(t->exec_argv) - len) + 1;
	if (len > sizeof(t->exec_argv))
		len = sizeof(t->exec_argv);
	if (dt_sim_task_exec_mm(t, (f->flags & VF_EXEC32) != 0, t->exec_argv, len)) {
		exec_cleanup(t);
		c->regs.rax = (uint64_t)-ENOMEM;
		return ACT_NEXT;
	}
	base = strrchr(t->exec_path, '/');
	dt_sim_task_set_comm(t, base ? base + 1 : t->exec_path);
	c->regs.cr3 = dt_sim_task_cr3(t);
	/* start_thread(): the new image's entry and stack */
	memset(p, 0, sizeof(p));
	p[PT_AX / 8] = 0;
	p[PT_ORIG_AX / 8] = (uint64_t)-1;
	p[PT_IP / 8] = t->mm->text;
	p[PT_CS / 8] = t->compat ? SIM_USER32_CS : SIM_USER_CS;
	p[PT_FLAGS / 8] = 0x202;
	p[PT_SP / 8] = t->mm->stack_top - 0x100;
	p[PT_SS / 8] = SIM_USER_DS;
	regs_write(c, va, p);
	t->user_rip = t->mm->text;
	dt_sim_prog_exec(t, t->exec_path);
	exec_cleanup(t);
	vm->ctr.execs++;
	c->regs.rax = 0;
	return ACT_NEXT;
}

enum sim_act_res dt_sim_action(struct sim_vcpu *c, uint32_t imm, uint64_t insn_end,
			       uint64_t *ret_rip)
{
	unsigned act = imm >> 16, arg = imm & 0xffff;
	struct sim_task *t = c->task;
	uint64_t p[21];
	int sig;

	if (!t)
		return crash_now(c, "sim: kernel code ran with no task");
	switch (act) {
	case A_NOP:
	case A_RET_FROM_FORK:
		return ACT_NEXT;
	case A_ENTRY64:
		return a_entry(c, false);
	case A_ENTRY32:
		return a_entry(c, true);
	case A_EXIT64:
		return a_exit(c, false, ret_rip);
	case A_EXIT_IRET:
		return a_exit(c, true, ret_rip);
	case A_EXC_ENTRY:
		return a_exc_entry(c, arg);
	case A_PF:
		t->sigpend |= 1ULL << (11 - 1);
		return ACT_NEXT;
	case A_SYS64:
		return a_body(c, arg, false);
	case A_SYS32:
		return a_body(c, arg, true);
	case A_NI:
		t->call.body_ran = true;
		c->regs.rax = (uint64_t)-ENOSYS;
		return ACT_NEXT;
	case A_EXIT_PREP:
		if (regs_read(c, c->regs.rdi, p))
			return crash_now(c, "BUG: unable to handle page fault (exit pt_regs)");
		t->call.body_ran = true;
		c->regs.rdi = ((arg & 0x8000 ? p[PT_BX / 8] : p[PT_DI / 8]) & 0xff) << 8;
		return ACT_NEXT;
	case A_GETNAME:
		return a_getname(c, arg, insn_end, ret_rip);
	case A_COPY_STRINGS:
		return a_copy_strings(c, insn_end, ret_rip);
	case A_EXEC:
		return a_exec(c);
	case A_DO_EXIT:
		if (!regs_read(c, dt_sim_ptregs(t), p))
			dt_sim_call_noreturn(t, (int64_t)p[PT_AX / 8]);
		if (t->prog.kind == P_SCRIPT)
			dt_sim_script_result(t, INT64_MIN); /* the script is over */
		dt_sim_task_exit(t, (int)(uint32_t)c->regs.rdi);
		return ACT_GONE;
	case A_OPEN_NAME:
		return a_open_name(c, arg, insn_end, ret_rip);
	case A_FILP_OPEN:
		return a_filp_open(c, insn_end, ret_rip);
	case A_FILP_DONE:
		return a_filp_done(c);
	case A_RET0:
		c->regs.rax = 0;
		return ACT_NEXT;
	case A_OPEN_DONE:
		return a_open_done(c);
	case A_EXIT_WORK:
		if (dt_sim_fatal_pending(t, &sig)) {
			c->regs.rdi = (uint64_t)sig;
			return ACT_NEXT;
		}
		*ret_rip = insn_end + 5 + 2; /* past call do_exit; ud2 */
		return ACT_JUMP;
	default:
		break;
	}
	return crash_now(c, "invalid opcode: unknown marker");
}
