// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_cpu.c - vCPU threads. Each one schedules the VM's tasks and, in kernel mode,
 * interprets the guest kernel's code fetched from guest memory through the page tables:
 *
 *   f3 0f 1e fa endbr64          0f 1f 44 00 00 nop5         0f 1f 80 imm32 marker (nopl)
 *   55/53 push rbp/rbx           5d/5b pop rbp/rbx           48 89 e5|fb|df|f0|c7|e7 mov
 *   48 3d imm32 cmp rax          73 rel8 jae, eb rel8 jmp    48 8b 04 c5 d32 mov tbl(,rax,8)
 *   ff d0 call *rax              48 89 43 50 mov rax,0x50(rbx) 48 c7 c0 imm32 mov imm,rax
 *   e8/e9 rel32 call/jmp         c3 ret, cc int3             0f 01 f8 swapgs
 *   48 0f 07 sysretq, 48 cf iretq                            0f 01 44 24 f0 sgdt -0x10(%rsp)
 *
 * Anything else, a RIP that is not the first byte of an instruction of the kernel text,
 * a stack access outside the task's kernel stack, a page fault in the kernel: the guest
 * crashes (recorded, VM halted), as a real one would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_vm.h"

enum run { R_CONT, R_TO_USER, R_BLOCK, R_GONE, R_CRASH, R_STOP, R_EMUL };

#define RFLAGS_CF 0x1ULL
#define RFLAGS_ZF 0x40ULL
#define RFLAGS_IF 0x200ULL
#define RFLAGS_FIXED 0x2ULL

static void update_stop(struct sim_vm *vm)
{
	bool paused = vm->pause_count > 0;

	/* a whole-domain pause begins: count the guest bytes read within it afresh */
	if (paused && !atomic_load(&vm->in_pause))
		atomic_store(&vm->pause_read_cur, 0);
	atomic_store(&vm->in_pause, paused);
	atomic_store(&vm->stop_req, paused || vm->dying || vm->crashed);
}

/* vm->lock held, as for everything below that touches vCPU states */
void dt_sim_vm_wake(struct sim_vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->nvcpus; i++)
		pthread_cond_signal(&vm->vcpu[i].cond);
	pthread_cond_broadcast(&vm->cond);
}

void dt_sim_vcpu_kick(struct sim_vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->nvcpus; i++) {
		struct sim_vcpu *c = &vm->vcpu[i];

		if (c->started && c->state == VS_IDLE && !c->kicked) {
			c->kicked = true;
			pthread_cond_signal(&c->cond);
			return;
		}
	}
}

/* An idle vCPU waiting past wake_ns wakes to wait for less (pick() sees the timer). */
void dt_sim_timer_armed(struct sim_vm *vm, uint64_t wake_ns)
{
	unsigned i;

	for (i = 0; i < vm->nvcpus; i++) {
		struct sim_vcpu *c = &vm->vcpu[i];

		if (c->started && c->state == VS_IDLE && !c->kicked && c->wait_until > wake_ns) {
			c->kicked = true;
			pthread_cond_signal(&c->cond);
			return;
		}
	}
}

/* A vCPU left VS_RUNNING: tell whoever waits for that (sim_pause). No other vCPU. */
static void vcpu_changed(struct sim_vm *vm)
{
	pthread_cond_broadcast(&vm->cond);
}

static void timed_wait(struct sim_vcpu *c, uint64_t until_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(until_ns / 1000000000ULL);
	ts.tv_nsec = (long)(until_ns % 1000000000ULL);
	c->wait_until = until_ns;
	pthread_cond_timedwait(&c->cond, &c->vm->lock, &ts);
	c->kicked = false;
}

int dt_sim_fetch(struct sim_vm *vm, uint64_t cr3, uint64_t va, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct sim_walk w;
		uint64_t in_page = SIM_PAGE - ((va + done) & (SIM_PAGE - 1));
		uint64_t n = len - done < in_page ? len - done : in_page;

		if (dt_sim_walk(&vm->mem, cr3, va + done, &w) || w.nx)
			break;
		dt_sim_gcopy_out(&vm->mem, w.pa, (uint8_t *)buf + done, n);
		done += n;
	}
	return (int)done;
}

static void fixed_regs(struct sim_vcpu *c)
{
	struct sim_vm *vm = c->vm;

	c->regs.cr0 = 0x80050033ULL;
	c->regs.cr4 = 0x00370ef0ULL; /* PAE PGE OSFXSR PCIDE OSXSAVE SMEP SMAP ... */
	c->regs.efer = 0xd01ULL;     /* SCE LME LMA NXE */
	c->regs.lstar = dt_sim_kva(vm, vm->b->off_entry64);
	c->regs.cstar = 0;
	c->regs.star = 0x0023001000000000ULL;
	c->regs.sysenter_eip = 0;
}

static void set_current(struct sim_vcpu *c, struct sim_task *t)
{
	struct sim_vm *vm = c->vm;
	const struct sim_layout *l = &vm->b->l;
	uint64_t top = t->kstack + SIM_THREAD_SIZE;
	uint32_t cpu = c->id;

	dt_sim_gwrite64(&vm->mem, c->percpu_pa + l->percpu_var, t->va);
	if (vm->b->flavour == DT_SIM_FLAVOUR_66)
		dt_sim_gwrite64(&vm->mem, c->percpu_pa + l->percpu_var + 24, top);
	else
		dt_sim_gwrite64(&vm->mem, c->percpu_pa + l->percpu_top_of_stack, top);
	dt_sim_gcopy_in(&vm->mem, t->pa + l->task_ti_cpu, &cpu, 4);
}

static void idle_regs(struct sim_vcpu *c)
{
	struct sim_vm *vm = c->vm;

	memset(&c->regs, 0, sizeof(c->regs));
	fixed_regs(c);
	c->regs.rip = dt_sim_kva(vm, vm->b->off_entry64); /* not running: a harmless spot */
	c->regs.rsp = vm->idle[c->id]->kstack + SIM_THREAD_SIZE - 64;
	c->regs.rflags = RFLAGS_FIXED | RFLAGS_IF;
	c->regs.cr3 = vm->kpgd;
	c->regs.gs_base = c->percpu;
	c->regs.cs_long = true;
}

static void switch_in(struct sim_vcpu *c, struct sim_task *t)
{
	struct sim_vm *vm = c->vm;

	t->state = TS_RUNNING;
	c->task = t;
	vm->ctr.switches++;
	if (t->last_vcpu >= 0 && t->last_vcpu != (int)c->id)
		vm->ctr.migrations++;
	t->last_vcpu = (int)c->id;
	set_current(c, t);
	c->regs = t->ctx;
	fixed_regs(c);
	if (t->in_kernel) {
		c->regs.gs_base = c->percpu;
		c->regs.kernel_gs_base = 0;
	} else {
		c->regs.gs_base = 0;
		c->regs.kernel_gs_base = c->percpu;
	}
}

static void switch_out(struct sim_vcpu *c)
{
	struct sim_task *t = c->task;

	if (t)
		t->ctx = c->regs;
	c->task = NULL;
	set_current(c, c->vm->idle[c->id]);
	idle_regs(c);
}

static void drop_task(struct sim_vcpu *c)
{
	c->task = NULL;
	set_current(c, c->vm->idle[c->id]);
	idle_regs(c);
}

/* ---- crash ---- */
static enum run crash(struct sim_vcpu *c, const char *why)
{
	struct sim_vm *vm = c->vm;

	pthread_mutex_lock(&vm->lock);
	dt_sim_record_crash(c, "%s", why);
	vm->crashed = true;
	update_stop(vm);
	dt_sim_vm_wake(vm);
	pthread_mutex_unlock(&vm->lock);
	return R_CRASH;
}

/* ---- memory as the CPU sees it (kernel mode) ---- */
static int kread(struct sim_vcpu *c, uint64_t va, void *buf, size_t len)
{
	return dt_sim_read_va(&c->vm->mem, c->regs.cr3, va, buf, len) == (ssize_t)len ? 0 : -EFAULT;
}

static int kwrite(struct sim_vcpu *c, uint64_t va, const void *buf, size_t len)
{
	size_t i;

	/* kernel writes need RW pages */
	for (i = 0; i < len; i = (i | (SIM_PAGE - 1)) + 1) {
		struct sim_walk w;

		if (dt_sim_walk(&c->vm->mem, c->regs.cr3, va + i, &w) || !w.rw)
			return -EFAULT;
	}
	return dt_sim_write_va(&c->vm->mem, c->regs.cr3, va, buf, len);
}

static bool on_stack(struct sim_vcpu *c, uint64_t va, size_t len)
{
	uint64_t lo = c->task->kstack, hi = lo + SIM_THREAD_SIZE;

	return va >= lo && va <= hi - len;
}

static enum run push64(struct sim_vcpu *c, uint64_t v)
{
	uint64_t sp = c->regs.rsp - 8;

	if (!on_stack(c, sp, 8) || kwrite(c, sp, &v, 8))
		return crash(c, "BUG: stack guard page was hit / corrupted kernel stack (push)");
	c->regs.rsp = sp;
	return R_CONT;
}

static enum run pop64(struct sim_vcpu *c, uint64_t *v)
{
	if (!on_stack(c, c->regs.rsp, 8) || kread(c, c->regs.rsp, v, 8))
		return crash(c, "BUG: corrupted kernel stack (pop/ret outside the task's stack)");
	c->regs.rsp += 8;
	return R_CONT;
}

/* ---- traps ---- */
static enum run trap(struct sim_vcpu *c, enum dt_trap_reason reason, uint8_t len)
{
	struct sim_vm *vm = c->vm;
	struct dt_trap *tr;
	uint64_t one = 1, posted_ns, stalled_ns;
	enum dt_resume_how how;

	pthread_mutex_lock(&vm->lock);
	/* Monitoring went off since the fetch (dom_close): the instruction is simply
	 * executed again, as a drained-and-retried vm_event request would be. */
	if (!atomic_load(&vm->trapping)) {
		pthread_mutex_unlock(&vm->lock);
		return R_CONT;
	}
	if (vm->tq_n == vm->tq_cap) {
		size_t cap = vm->tq_cap ? vm->tq_cap * 2 : 16;
		struct dt_trap *n = realloc(vm->tq, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&vm->lock);
			return crash(c, "sim: out of memory posting a trap");
		}
		vm->tq = n;
		vm->tq_cap = cap;
	}
	tr = &vm->tq[vm->tq_n++];
	memset(tr, 0, sizeof(*tr));
	tr->vcpu = c->id;
	tr->reason = reason;
	tr->gla = c->regs.rip;
	tr->insn_len = len;
	tr->regs = c->regs;
	c->token = (uint64_t)c->id << 48 | (++vm->trap_seq & 0xffffffffffffULL);
	tr->token = c->token;
	c->trapped = true;
	c->resumed = false;
	vm->ctr.traps++;
	posted_ns = dt_sim_now_ns();
	if (write(vm->trap_efd, &one, 8) < 0) {
		/* an eventfd counter cannot overflow here; nothing to do */
	}
	c->state = VS_TRAPPED;
	vcpu_changed(vm);
	/* answered, and the domain not paused: only then does the vCPU run again */
	while ((!c->resumed || vm->pause_count > 0) && !vm->dying)
		pthread_cond_wait(&c->cond, &vm->lock);
	c->trapped = false;
	if (vm->dying) {
		pthread_mutex_unlock(&vm->lock);
		return R_STOP;
	}
	how = c->how;
	vm->ctr.resumes++;
	stalled_ns = dt_sim_now_ns() - posted_ns;
	dt_lat_add(&vm->ctr.trap_lat, stalled_ns);
	if (how == DT_RESUME_SET_REGS) {
		const struct dt_regs *r = &c->rregs;

		c->regs.rax = r->rax, c->regs.rbx = r->rbx, c->regs.rcx = r->rcx;
		c->regs.rdx = r->rdx, c->regs.rsi = r->rsi, c->regs.rdi = r->rdi;
		c->regs.rbp = r->rbp, c->regs.rsp = r->rsp, c->regs.r8 = r->r8;
		c->regs.r9 = r->r9, c->regs.r10 = r->r10, c->regs.r11 = r->r11;
		c->regs.r12 = r->r12, c->regs.r13 = r->r13, c->regs.r14 = r->r14;
		c->regs.r15 = r->r15, c->regs.rip = r->rip, c->regs.rflags = r->rflags;
	}
	c->state = VS_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	if (how == DT_RESUME_NOT_OURS) {
		if (reason == DT_TRAP_BREAKPOINT)
			return crash(c, "int3: 0000 [#1] PREEMPT SMP NOPTI (breakpoint delivered "
					"to the guest kernel)");
		return R_EMUL; /* the caller emulates the sgdt */
	}
	return atomic_load(&vm->stop_req) ? R_STOP : R_CONT;
}

/* ---- the interpreter ---- */
static int32_t s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

static enum run do_sgdt(struct sim_vcpu *c)
{
	uint8_t gdtr[10];
	uint16_t limit = 0x7f;
	uint64_t base = c->percpu + 0x2000, at = c->regs.rsp - 0x10;

	memcpy(gdtr, &limit, 2);
	memcpy(gdtr + 2, &base, 8);
	if (!on_stack(c, at, 10) || kwrite(c, at, gdtr, 10))
		return crash(c, "BUG: unable to handle page fault (sgdt store)");
	c->regs.rip += 5;
	return R_CONT;
}

static enum run exec_one(struct sim_vcpu *c)
{
	struct sim_vm *vm = c->vm;
	const struct sim_build *b = vm->b;
	struct dt_regs *r = &c->regs;
	uint64_t text = dt_sim_kva(vm, 0), off, v;
	uint8_t i[16];
	int n;
	enum run res;

	if (r->rip < text || r->rip - text >= b->text_size)
		return crash(c, "BUG: unable to handle page fault: kernel tried to execute "
				"outside kernel text");
	off = r->rip - text;
	if (!(b->insn_start[off / 8] & (1u << (off % 8))))
		return crash(c, "invalid opcode: 0000 [#1] SMP (RIP inside an instruction)");
	memset(i, 0, sizeof(i));
	n = dt_sim_fetch(vm, r->cr3, r->rip, i, sizeof(i));
	if (n < 1)
		return crash(c, "BUG: unable to handle page fault (instruction fetch)");
	c->insns++;
#define IS(...)                                                                         \
	({                                                                              \
		static const uint8_t _p[] = { __VA_ARGS__ };                            \
		n >= (int)sizeof(_p) && !memcmp(i, _p, sizeof(_p));                      \
	})
	switch (i[0]) {
	case 0xcc:
		if (vm->trap != DT_TRAP_INT3 || !atomic_load(&vm->trapping))
			return crash(c, "int3: 0000 [#1] PREEMPT SMP NOPTI (breakpoint with no "
					"debugger attached)");
		return trap(c, DT_TRAP_BREAKPOINT, 1);
	case 0xf3:
		if (!IS(0xf3, 0x0f, 0x1e, 0xfa))
			break;
		r->rip += 4;
		return R_CONT;
	case 0x0f:
		if (IS(0x0f, 0x0b))
			/* the ud2 the sim places after every call of do_exit */
			return crash(c, "invalid opcode: 0000 [#1] SMP (ud2: returned from "
					"do_exit, which never returns)");
		if (IS(0x0f, 0x1f, 0x44, 0x00, 0x00)) {
			r->rip += 5;
			return R_CONT;
		}
		if (IS(0x0f, 0x1f, 0x80) && n >= 7) {
			uint64_t nrip = 0;
			enum sim_act_res a;

			pthread_mutex_lock(&vm->lock);
			a = dt_sim_action(c, (uint32_t)s32(i + 3), r->rip + 7, &nrip);
			/* A task that sleeps or dies leaves the CPU before anyone can wake or
			 * reap it: the same critical section. */
			if (a == ACT_BLOCK)
				switch_out(c);
			else if (a == ACT_GONE)
				drop_task(c);
			pthread_mutex_unlock(&vm->lock);
			switch (a) {
			case ACT_NEXT:
				r->rip += 7;
				return R_CONT;
			case ACT_JUMP:
				r->rip = nrip;
				return R_CONT;
			case ACT_BLOCK:
				return R_BLOCK;
			case ACT_GONE:
				return R_GONE;
			case ACT_TO_USER:
				return R_TO_USER;
			case ACT_CRASH:
				return R_CRASH;
			}
			return crash(c, "sim: bad action result");
		}
		if (IS(0x0f, 0x01, 0xf8)) {
			v = r->gs_base;
			r->gs_base = r->kernel_gs_base;
			r->kernel_gs_base = v;
			r->rip += 3;
			return R_CONT;
		}
		if (IS(0x0f, 0x01, 0x44, 0x24, 0xf0)) {
			if (vm->trap != DT_TRAP_SGDT || !atomic_load(&vm->trapping))
				return do_sgdt(c);
			res = trap(c, DT_TRAP_DESCRIPTOR, 5);
			if (res == R_EMUL)
				return do_sgdt(c);
			return res;
		}
		break;
	case 0x55:
		res = push64(c, r->rbp);
		r->rip += res == R_CONT ? 1 : 0;
		return res;
	case 0x53:
		res = push64(c, r->rbx);
		r->rip += res == R_CONT ? 1 : 0;
		return res;
	case 0x5d:
		res = pop64(c, &r->rbp);
		r->rip += res == R_CONT ? 1 : 0;
		return res;
	case 0x5b:
		res = pop64(c, &r->rbx);
		r->rip += res == R_CONT ? 1 : 0;
		return res;
	case 0x48:
		if (n < 2)
			break;
		if (i[1] == 0x89 && n >= 3) {
			switch (i[2]) {
			case 0xe5:
				r->rbp = r->rsp;
				break;
			case 0xfb:
				r->rbx = r->rdi;
				break;
			case 0xdf:
				r->rdi = r->rbx;
				break;
			case 0xf0:
				r->rax = r->rsi;
				break;
			case 0xc7:
				r->rdi = r->rax;
				break;
			case 0xe7:
				r->rdi = r->rsp;
				break;
			case 0x43:
				if (n < 4 || i[3] != 0x50)
					goto bad;
				if (kwrite(c, r->rbx + 0x50, &r->rax, 8))
					return crash(c, "BUG: unable to handle page fault for a "
							"kernel write");
				r->rip += 4;
				return R_CONT;
			default:
				goto bad;
			}
			r->rip += 3;
			return R_CONT;
		}
		if (i[1] == 0x3d && n >= 6) {
			uint64_t imm = (uint64_t)(int64_t)s32(i + 2);

			r->rflags &= ~(RFLAGS_CF | RFLAGS_ZF);
			if (r->rax < imm)
				r->rflags |= RFLAGS_CF;
			if (r->rax == imm)
				r->rflags |= RFLAGS_ZF;
			r->rip += 6;
			return R_CONT;
		}
		if (IS(0x48, 0x8b, 0x04, 0xc5) && n >= 8) {
			uint64_t at = (uint64_t)(int64_t)s32(i + 4) + r->rax * 8;

			if (kread(c, at, &v, 8))
				return crash(c, "BUG: unable to handle page fault for a kernel read");
			r->rax = v;
			r->rip += 8;
			return R_CONT;
		}
		if (IS(0x48, 0xc7, 0xc0) && n >= 7) {
			r->rax = (uint64_t)(int64_t)s32(i + 3);
			r->rip += 7;
			return R_CONT;
		}
		if (IS(0x48, 0x0f, 0x07)) { /* sysretq */
			r->rip = r->rcx;
			r->rflags = (r->r11 & 0x3c7fd7ULL) | RFLAGS_FIXED;
			r->cpl = 3;
			r->cs_long = true;
			return R_TO_USER;
		}
		if (IS(0x48, 0xcf)) { /* iretq */
			uint64_t f[5];

			if (!on_stack(c, r->rsp, 40) || kread(c, r->rsp, f, 40))
				return crash(c, "BUG: corrupted kernel stack (iret frame)");
			if ((f[1] & 3) != 3)
				return crash(c, "general protection fault: iret to kernel mode");
			r->rip = f[0];
			r->cpl = 3;
			r->cs_long = f[1] == SIM_USER_CS;
			r->rflags = (f[2] & 0x3c7fd7ULL) | RFLAGS_FIXED;
			r->rsp = f[3];
			return R_TO_USER;
		}
		break;
	case 0x73:
	case 0xeb:
		if (n < 2)
			break;
		if (i[0] == 0xeb || !(r->rflags & RFLAGS_CF))
			r->rip += 2 + (uint64_t)(int64_t)(int8_t)i[1];
		else
			r->rip += 2;
		return R_CONT;
	case 0xff:
		if (n < 2 || i[1] != 0xd0)
			break;
		res = push64(c, r->rip + 2);
		if (res == R_CONT)
			r->rip = r->rax;
		return res;
	case 0xe8:
		if (n < 5)
			break;
		res = push64(c, r->rip + 5);
		if (res == R_CONT)
			r->rip += 5 + (uint64_t)(int64_t)s32(i + 1);
		return res;
	case 0xe9:
		if (n < 5)
			break;
		r->rip += 5 + (uint64_t)(int64_t)s32(i + 1);
		return R_CONT;
	case 0xc3:
		return pop64(c, &r->rip);
	default:
		break;
	}
bad:
	{
		char why[96];

		snprintf(why, sizeof(why), "invalid opcode: 0000 [#1] SMP (bytes %02x %02x %02x)",
			 i[0], i[1], i[2]);
		return crash(c, why);
	}
#undef IS
}

/* ---- kernel entry from user mode ---- */
static void enter_syscall(struct sim_vcpu *c, const struct sim_ucall *uc)
{
	struct sim_task *t = c->task;
	struct dt_regs *r = &c->regs;
	struct sim_vm *vm = c->vm;

	t->call.label[0] = 0;
	if (uc->label)
		snprintf(t->call.label, sizeof(t->call.label), "%s", uc->label);
	t->race = uc->race;
	t->race_len = uc->race_len;
	if (t->compat) {
		/* int $0x80: eax = nr, ebx ecx edx esi edi ebp; the CPU switches stacks */
		r->rax = (uint32_t)uc->nr;
		r->rbx = (uint32_t)uc->a[0], r->rcx = (uint32_t)uc->a[1];
		r->rdx = (uint32_t)uc->a[2], r->rsi = (uint32_t)uc->a[3];
		r->rdi = (uint32_t)uc->a[4], r->rbp = (uint32_t)uc->a[5];
		t->ctx = *r; /* the user frame ENTRY32 saves */
		t->ctx.rip = t->user_rip + 4;
		r->rsp = t->kstack + SIM_THREAD_SIZE;
		r->rip = dt_sim_kva(vm, vm->b->off_entry32);
		r->cs_long = true;
	} else {
		r->rax = (uint64_t)uc->nr;
		r->rdi = uc->a[0], r->rsi = uc->a[1], r->rdx = uc->a[2];
		r->r10 = uc->a[3], r->r8 = uc->a[4], r->r9 = uc->a[5];
		r->rcx = t->user_rip + 2; /* after the syscall instruction */
		r->r11 = r->rflags;
		r->rip = r->lstar;
	}
	r->cpl = 0;
	t->in_kernel = true;
}

/* An exception or interrupt taken in user mode (14: page fault, 0xec: timer IPI). */
static void enter_exception(struct sim_vcpu *c, unsigned vector, uint64_t cr2)
{
	struct sim_task *t = c->task;
	struct sim_vm *vm = c->vm;
	struct dt_regs *r = &c->regs;

	t->call.label[0] = 0;
	t->ctx = *r;
	t->ctx.rip = t->user_rip;
	if (vector == 14)
		r->cr2 = cr2;
	r->rsp = t->kstack + SIM_THREAD_SIZE;
	r->rip = dt_sim_kva(vm, vector == 14 ? vm->b->off_exc_pf : vm->b->off_exc_irq);
	r->cpl = 0;
	r->cs_long = true;
	t->in_kernel = true;
}

static void log_call(struct sim_vm *vm, struct sim_task *t)
{
	struct dt_sim_call *slot;

	if (!t->in_call)
		return;
	t->in_call = false;
	t->call.done = true;
	t->call.ret_vcpu = (uint32_t)t->last_vcpu; /* the vCPU running it now */
	vm->ctr.calls_done++;
	if (!t->call.body_ran)
		vm->ctr.aborted++;
	slot = &vm->log[vm->log_n++ % SIM_LOG_CAP];
	*slot = t->call;
	if (t->call.label[0])
		dt_sim_label_done(vm->h, &t->call);
}

/* Called by sim_sys.c when a call will never return (exit, fatal signal). */
void dt_sim_call_noreturn(struct sim_task *t, int64_t ret)
{
	if (!t->in_call)
		return;
	t->call.noreturn = true;
	t->call.ret = ret;
	log_call(t->vm, t);
}

static uint64_t pace_ns(struct sim_vm *vm)
{
	return vm->workload && vm->rate > 0 ? (uint64_t)(1e9 / vm->rate) : 0;
}

/* Run the vCPU's task until it leaves the CPU or something stops us. Lock held. */
static void run(struct sim_vcpu *c)
{
	struct sim_vm *vm = c->vm;
	struct sim_task *t = c->task;
	enum run res = R_CONT;

	if (!t->in_kernel) {
		struct sim_ucall uc = { 0 };
		int sig;

		if (dt_sim_fatal_pending(t, &sig)) {
			enter_exception(c, 0xec, 0);
		} else {
			dt_sim_prog_step(t, &uc);
			if (uc.act == UA_SYSCALL) {
				enter_syscall(c, &uc);
			} else if (uc.act == UA_SEGV) {
				enter_exception(c, 14, 0x10);
			} else { /* nothing to do now: sleep a little */
				t->state = TS_SLEEPING;
				t->wake_ns = dt_sim_now_ns() + 2000000;
				dt_sim_timer_armed(vm, t->wake_ns);
				switch_out(c);
				return;
			}
		}
	}
	c->state = VS_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	while (res == R_CONT) {
		if (atomic_load_explicit(&vm->stop_req, memory_order_relaxed)) {
			res = R_STOP;
			break;
		}
		res = exec_one(c);
	}
	pthread_mutex_lock(&vm->lock);
	vm->ctr.insns += c->insns;
	c->insns = 0;
	switch (res) {
	case R_TO_USER:
		t->in_kernel = false;
		t->call.ret = t->compat ? (int64_t)(int32_t)c->regs.rax : (int64_t)c->regs.rax;
		log_call(vm, t);
		dt_sim_prog_result(t, t->call.ret);
		switch_out(c);
		if (t->state == TS_RUNNING)
			dt_sim_rq_push(vm, t);
		if (pace_ns(vm)) {
			uint64_t now = dt_sim_now_ns();

			c->next_ns = (c->next_ns > now ? c->next_ns : now) + pace_ns(vm);
		}
		break;
	case R_BLOCK: /* the task already left the CPU (exec_one) */
	case R_GONE:
		break;
	default: /* stop or crash: stay on the CPU; the loop parks us */
		break;
	}
	vcpu_changed(vm);
}

static struct sim_task *pick(struct sim_vm *vm, uint64_t *next_wake)
{
	uint64_t now = dt_sim_now_ns();
	struct sim_task *t;

	*next_wake = now + 50000000ULL;
	for (t = vm->tasks; t; t = t->next_all) {
		if (t->state != TS_SLEEPING || !t->wake_ns)
			continue;
		if (t->wake_ns <= now)
			dt_sim_wake(t);
		else if (t->wake_ns < *next_wake)
			*next_wake = t->wake_ns;
	}
	return dt_sim_rq_pop(vm);
}

static void *vcpu_main(void *arg)
{
	struct sim_vcpu *c = arg;
	struct sim_vm *vm = c->vm;

	pthread_mutex_lock(&vm->lock);
	while (!vm->dying) {
		uint64_t wake;

		if (vm->crashed || vm->pause_count > 0) {
			c->state = vm->crashed ? VS_STOPPED : VS_PARKED;
			vcpu_changed(vm);
			pthread_cond_wait(&c->cond, &vm->lock);
			continue;
		}
		if (!c->task) {
			uint64_t now = dt_sim_now_ns();

			if (c->next_ns > now && pace_ns(vm)) {
				c->state = VS_IDLE;
				timed_wait(c, c->next_ns);
				continue;
			}
			c->task = pick(vm, &wake);
			if (!c->task) {
				c->state = VS_IDLE;
				vcpu_changed(vm);
				timed_wait(c, wake);
				continue;
			}
			{
				struct sim_task *t = c->task;

				c->task = NULL;
				switch_in(c, t);
			}
		}
		run(c);
	}
	c->state = VS_STOPPED;
	vcpu_changed(vm);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int dt_sim_vcpus_start(struct sim_vm *vm)
{
	unsigned i;

	/* every vCPU set up before any runs: a running one looks at the others (kicks) */
	for (i = 0; i < vm->nvcpus; i++) {
		set_current(&vm->vcpu[i], vm->idle[i]);
		idle_regs(&vm->vcpu[i]);
		vm->vcpu[i].state = VS_IDLE;
	}
	for (i = 0; i < vm->nvcpus; i++) {
		struct sim_vcpu *c = &vm->vcpu[i];

		if (pthread_create(&c->thr, NULL, vcpu_main, c)) {
			dt_sim_vcpus_stop(vm);
			return -EAGAIN;
		}
		pthread_mutex_lock(&vm->lock);
		c->started = true;
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}

void dt_sim_vcpus_stop(struct sim_vm *vm)
{
	unsigned i;

	pthread_mutex_lock(&vm->lock);
	vm->dying = true;
	update_stop(vm);
	dt_sim_vm_wake(vm);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpu[i].started) {
			pthread_join(vm->vcpu[i].thr, NULL);
			/* under the lock: a pause in progress reads it (any_running) */
			pthread_mutex_lock(&vm->lock);
			vm->vcpu[i].started = false;
			pthread_mutex_unlock(&vm->lock);
		}
	}
}

void dt_sim_update_stop(struct sim_vm *vm)
{
	update_stop(vm);
}
