// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_kernel.c - generates a simulated kernel image: real x86-64 bytes for every function
 * (entry code, do_syscall_64, one __x64_sys_* per syscall, the i386 table's __ia32_*,
 * do_exit, the execve chain, filler), the syscall tables, linux_banner, the BTF blob,
 * syscall metadata, init_task and friends. Linked at the unrandomised address
 * 0xffffffff81000000 with a relocation list; each VM applies its KASLR offset.
 *
 * The instruction set used is the small one sim_cpu.c interprets; every function starts
 * like an ftrace-enabled kernel's (docs/SIM.md lists the exact bytes per flavour).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"

struct fix {
	uint32_t site; /* offset of the rel32 */
	char *target;
};

struct em {
	uint8_t *buf, *start;
	size_t len, cap;
	struct fix *fix;
	size_t nfix, capfix;
	struct sim_build *b;
	int err;
};

static void em_grow(struct em *e, size_t need)
{
	size_t cap = e->cap ? e->cap : 65536;
	uint8_t *nb, *ns;

	if (e->len + need <= e->cap || e->err)
		return;
	while (cap < e->len + need)
		cap *= 2;
	nb = realloc(e->buf, cap);
	ns = nb ? realloc(e->start, cap) : NULL;
	if (nb)
		e->buf = nb;
	if (!ns) {
		e->err = -ENOMEM;
		return;
	}
	e->start = ns;
	memset(e->buf + e->cap, 0, cap - e->cap);
	memset(e->start + e->cap, 0, cap - e->cap);
	e->cap = cap;
}

static void bytes(struct em *e, const void *p, size_t n, bool insn)
{
	em_grow(e, n);
	if (e->err)
		return;
	memcpy(e->buf + e->len, p, n);
	if (insn)
		e->start[e->len] = 1;
	e->len += n;
}

#define INSN(e, ...)                                                                \
	do {                                                                        \
		static const uint8_t _b[] = { __VA_ARGS__ };                        \
		bytes(e, _b, sizeof(_b), true);                                     \
	} while (0)

static void align(struct em *e, size_t a, uint8_t fill)
{
	while (!e->err && e->len % a) {
		em_grow(e, 1);
		if (!e->err)
			e->buf[e->len++] = fill;
	}
}

static void put32(struct em *e, size_t off, uint32_t v)
{
	memcpy(e->buf + off, &v, 4);
}

static void put64(struct em *e, size_t off, uint64_t v)
{
	memcpy(e->buf + off, &v, 8);
}

static void reloc(struct em *e, size_t off, uint8_t width)
{
	struct sim_build *b = e->b;
	struct sim_reloc *r;

	if (e->err)
		return;
	if (!(b->nrelocs & 255)) {
		r = realloc(b->relocs, (b->nrelocs + 256) * sizeof(*r));
		if (!r) {
			e->err = -ENOMEM;
			return;
		}
		b->relocs = r;
	}
	b->relocs[b->nrelocs++] = (struct sim_reloc){ (uint32_t)off, width };
}

/* An absolute pointer to image offset target, relocated per VM. */
static void put_ptr(struct em *e, size_t off, uint64_t target)
{
	put64(e, off, SIM_TEXT_BASE + target);
	reloc(e, off, 8);
}

static void sym(struct em *e, const char *name, uint64_t addr, char type, bool percpu)
{
	struct sim_build *b = e->b;
	struct sim_sym *s;

	if (e->err)
		return;
	if (!(b->nsyms & 255)) {
		s = realloc(b->syms, (b->nsyms + 256) * sizeof(*s));
		if (!s) {
			e->err = -ENOMEM;
			return;
		}
		b->syms = s;
	}
	s = &b->syms[b->nsyms];
	s->name = strdup(name);
	if (!s->name) {
		e->err = -ENOMEM;
		return;
	}
	s->addr = percpu ? addr : SIM_TEXT_BASE + addr;
	s->type = type;
	s->percpu = percpu;
	b->nsyms++;
}

static void call_to(struct em *e, uint8_t op, const char *target)
{
	uint8_t insn[5] = { op, 0, 0, 0, 0 };
	struct fix *f;

	bytes(e, insn, 5, true);
	if (e->err)
		return;
	if (e->nfix == e->capfix) {
		size_t cap = e->capfix ? e->capfix * 2 : 256;

		f = realloc(e->fix, cap * sizeof(*f));
		if (!f) {
			e->err = -ENOMEM;
			return;
		}
		e->fix = f;
		e->capfix = cap;
	}
	e->fix[e->nfix].site = (uint32_t)(e->len - 4);
	e->fix[e->nfix].target = strdup(target);
	if (!e->fix[e->nfix].target)
		e->err = -ENOMEM;
	e->nfix++;
}

static void marker(struct em *e, enum sim_action a, unsigned arg)
{
	uint8_t insn[7] = { 0x0f, 0x1f, 0x80 };
	uint32_t v = SIM_MARK(a, arg);

	memcpy(insn + 3, &v, 4);
	bytes(e, insn, 7, true);
}

/* ---- function shapes ---- */

enum kind {
	K_PLAIN,	/* marker only (filler, syscall bodies, bprm_execve...) */
	K_CALLING,	/* marker that may skip, then call <callee> */
	K_DO_EXIT,
	K_DO_SYSCALL,	/* do_syscall_64 / do_int80_syscall_32 */
	K_EXIT_TO_USER, /* marker EXIT_WORK, call do_exit */
	K_ENTRY64,
	K_ENTRY32,
	K_EXC,		/* asm_exc_page_fault / asm_sysvec_apic_timer_interrupt */
	K_IRET_PATH,
	K_RET_FROM_FORK,
	K_RETURN_THUNK,
	K_OPEN,		/* open/openat: getname, call do_filp_open, putname */
	K_FILP,		/* do_filp_open: resolve, call security_file_open, install */
};

struct fn {
	const char *name;
	enum kind kind;
	enum sim_action act;
	unsigned arg;
	const char *callee;
	bool global;
	char *owned; /* name storage when generated */
};

static bool is66(const struct em *e)
{
	return e->b->flavour == DT_SIM_FLAVOUR_66;
}

static void prologue_traced(struct em *e)
{
	if (is66(e))
		INSN(e, 0xf3, 0x0f, 0x1e, 0xfa);
	INSN(e, 0x0f, 0x1f, 0x44, 0x00, 0x00);
}

static void prologue_noinstr(struct em *e)
{
	if (is66(e))
		INSN(e, 0xf3, 0x0f, 0x1e, 0xfa);
}

static void epilogue(struct em *e)
{
	if (is66(e)) {
		INSN(e, 0xc3);
		INSN(e, 0xcc);
	} else {
		call_to(e, 0xe9, "__x86_return_thunk");
	}
}

static void frame_in(struct em *e)
{
	INSN(e, 0x55);		     /* push %rbp */
	INSN(e, 0x48, 0x89, 0xe5); /* mov %rsp,%rbp */
}

static void emit_do_syscall(struct em *e, uint64_t table_off, uint32_t nmax)
{
	size_t jae, lret, jmp;
	uint8_t b[8];
	uint32_t v;

	prologue_noinstr(e);
	frame_in(e);
	INSN(e, 0x53);		   /* push %rbx */
	INSN(e, 0x48, 0x89, 0xfb); /* mov %rdi,%rbx */
	INSN(e, 0x48, 0x89, 0xf0); /* mov %rsi,%rax */
	b[0] = 0x48, b[1] = 0x3d;  /* cmp $nmax,%rax */
	memcpy(b + 2, &nmax, 4);
	bytes(e, b, 6, true);
	INSN(e, 0x73, 0x00); /* jae .Lni */
	jae = e->len - 1;
	b[0] = 0x48, b[1] = 0x8b, b[2] = 0x04, b[3] = 0xc5; /* mov table(,%rax,8),%rax */
	v = (uint32_t)(SIM_TEXT_BASE + table_off);
	memcpy(b + 4, &v, 4);
	bytes(e, b, 8, true);
	reloc(e, e->len - 4, 4);
	INSN(e, 0x48, 0x89, 0xdf); /* mov %rbx,%rdi */
	INSN(e, 0xff, 0xd0);	   /* call *%rax */
	lret = e->len;
	INSN(e, 0x48, 0x89, 0x43, 0x50); /* mov %rax,0x50(%rbx): regs->ax */
	INSN(e, 0x48, 0x89, 0xdf);	 /* mov %rbx,%rdi */
	call_to(e, 0xe8, "syscall_exit_to_user_mode");
	INSN(e, 0x5b); /* pop %rbx */
	INSN(e, 0x5d); /* pop %rbp */
	epilogue(e);
	if (e->err)
		return;
	e->buf[jae] = (uint8_t)(e->len - (jae + 1));
	INSN(e, 0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff); /* mov $-ENOSYS,%rax */
	INSN(e, 0xeb, 0x00);				   /* jmp .Lret */
	jmp = e->len;
	if (!e->err)
		e->buf[jmp - 1] = (uint8_t)(int8_t)((long)lret - (long)jmp);
}

static void emit_fn(struct em *e, const struct fn *f)
{
	struct sim_build *b = e->b;

	align(e, 16, 0xcc);
	sym(e, f->name, e->len, f->global ? 'T' : 't', false);
	switch (f->kind) {
	case K_PLAIN:
		prologue_traced(e);
		frame_in(e);
		marker(e, f->act, f->arg);
		INSN(e, 0x5d);
		epilogue(e);
		break;
	case K_CALLING:
		prologue_traced(e);
		frame_in(e);
		marker(e, f->act, f->arg);
		call_to(e, 0xe8, f->callee);
		if (!strcmp(f->callee, "do_exit"))
			INSN(e, 0x0f, 0x0b); /* ud2: do_exit never returns */
		INSN(e, 0x5d);
		epilogue(e);
		break;
	case K_DO_EXIT:
		b->off_do_exit = e->len;
		prologue_traced(e);
		frame_in(e);
		marker(e, A_DO_EXIT, 0);
		INSN(e, 0xcc);
		break;
	case K_DO_SYSCALL:
		emit_do_syscall(e, f->arg ? b->off_ia32_sys_call_table : b->off_sys_call_table,
				f->arg ? (uint32_t)(f->arg) : (uint32_t)f->act);
		break;
	case K_EXIT_TO_USER:
		prologue_noinstr(e);
		frame_in(e);
		marker(e, A_EXIT_WORK, 0);
		call_to(e, 0xe8, "do_exit");
		INSN(e, 0x0f, 0x0b); /* ud2: do_exit never returns (A_EXIT_WORK skips both) */
		INSN(e, 0x5d);
		epilogue(e);
		break;
	case K_ENTRY64:
		b->off_entry64 = e->len;
		prologue_noinstr(e);
		INSN(e, 0x0f, 0x01, 0xf8); /* swapgs */
		marker(e, A_ENTRY64, 0);
		call_to(e, 0xe8, "do_syscall_64");
		b->off_exit64_sysret = e->len;
		marker(e, A_EXIT64, 0);
		INSN(e, 0x0f, 0x01, 0xf8); /* swapgs */
		INSN(e, 0x48, 0x0f, 0x07); /* sysretq */
		break;
	case K_ENTRY32:
		b->off_entry32 = e->len;
		prologue_noinstr(e);
		INSN(e, 0x0f, 0x01, 0xf8);
		marker(e, A_ENTRY32, 0);
		call_to(e, 0xe8, "do_int80_syscall_32");
		call_to(e, 0xe9, "swapgs_restore_regs_and_return_to_usermode");
		break;
	case K_EXC:
		if (f->arg == 14)
			b->off_exc_pf = e->len;
		else
			b->off_exc_irq = e->len;
		prologue_noinstr(e);
		marker(e, A_EXC_ENTRY, f->arg);
		call_to(e, 0xe8, f->callee);
		INSN(e, 0x48, 0x89, 0xe7); /* mov %rsp,%rdi */
		call_to(e, 0xe8, "irqentry_exit_to_user_mode");
		call_to(e, 0xe9, "swapgs_restore_regs_and_return_to_usermode");
		break;
	case K_IRET_PATH:
		b->off_iret_path = e->len;
		marker(e, A_EXIT_IRET, 0);
		INSN(e, 0x0f, 0x01, 0xf8); /* swapgs */
		INSN(e, 0x48, 0xcf);	   /* iretq */
		break;
	case K_RET_FROM_FORK:
		b->off_ret_from_fork = e->len;
		prologue_noinstr(e);
		marker(e, A_RET_FROM_FORK, 0);
		INSN(e, 0x48, 0x89, 0xe7);
		call_to(e, 0xe8, "syscall_exit_to_user_mode");
		call_to(e, 0xe9, "swapgs_restore_regs_and_return_to_usermode");
		break;
	case K_RETURN_THUNK:
		INSN(e, 0xc3);
		INSN(e, 0xcc);
		break;
	case K_OPEN:
	case K_FILP:
		prologue_traced(e);
		frame_in(e);
		marker(e, f->kind == K_OPEN ? A_OPEN_NAME : A_FILP_OPEN, f->arg);
		call_to(e, 0xe8, f->kind == K_OPEN ? "do_filp_open" : "security_file_open");
		marker(e, f->kind == K_OPEN ? A_OPEN_DONE : A_FILP_DONE, 0);
		INSN(e, 0x5d);
		epilogue(e);
		break;
	}
}

static bool is_exec(const char *n)
{
	return !strcmp(n, "execve") || !strcmp(n, "execveat");
}

static bool is_exit(const char *n)
{
	return !strcmp(n, "exit") || !strcmp(n, "exit_group");
}

static bool is_open(const char *n)
{
	return !strcmp(n, "open") || !strcmp(n, "openat");
}

static int x64_nr_of(const char *fn)
{
	size_t i;

	for (i = 0; i < dt_sim_sysnr_64_len; i++)
		if (!strcmp(dt_sim_x64_fn_name(dt_sim_sysnr_64[i].name), fn))
			return (int)dt_sim_sysnr_64[i].nr;
	return -1;
}

static size_t str_in(struct em *e, const char *s)
{
	size_t off = e->len;

	bytes(e, s, strlen(s) + 1, false);
	return off;
}

static void zeros(struct em *e, size_t n)
{
	em_grow(e, n);
	if (!e->err)
		e->len += n; /* buffer is kept zeroed */
}

/* Metadata: rodata strings now, structs + pointer arrays later in data. */
struct meta {
	size_t name_off;
	int nr, nargs;
	size_t type_off[6], arg_off[6];
};

static void meta_strings(struct em *e, struct meta *m, size_t *nm)
{
	size_t i, n = 0;

	size_t nsrc;
	const char *const *meta_src = dt_sim_meta_src(&nsrc);

	for (i = 0; i < nsrc; i++) {
		char buf[512], *p, *q, *save = NULL;
		int nr;

		snprintf(buf, sizeof(buf), "%s", meta_src[i]);
		p = strchr(buf, '|');
		*p++ = 0;
		nr = x64_nr_of(buf);
		if (nr < 0)
			continue;
		m[n].nr = nr;
		{
			char full[600];

			snprintf(full, sizeof(full), "sys_%s", buf);
			m[n].name_off = str_in(e, full);
		}
		m[n].nargs = 0;
		for (q = strtok_r(p, "|", &save); q && m[n].nargs < 6; q = strtok_r(NULL, "|", &save)) {
			char *sp = strrchr(q, ' ');

			if (!sp)
				continue;
			*sp = 0;
			m[n].type_off[m[n].nargs] = str_in(e, q);
			m[n].arg_off[m[n].nargs] = str_in(e, sp + 1);
			m[n].nargs++;
		}
		n++;
	}
	*nm = n;
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct sim_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_sym_name(const void *a, const void *b)
{
	const struct sim_sym *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int find_fn(const struct sim_build *b, const char *name, uint64_t *off)
{
	size_t i;

	for (i = 0; i < b->nsyms; i++) {
		if (!b->syms[i].percpu && !strcmp(b->syms[i].name, name)) {
			*off = b->syms[i].addr - SIM_TEXT_BASE;
			return 0;
		}
	}
	return -ENOENT;
}

int dt_sim_image_make(struct sim_build *b, uint64_t seed)
{
	const struct sim_layout *l = &b->l;
	struct em e = { .b = b };
	struct fn *fns = NULL;
	size_t nfn = 0, capfn, i, n64, n32, nm = 0;
	struct meta *meta = NULL;
	const char *const *filler;
	size_t nfiller, ks_at = 0, ks_space = 0;
	uint64_t off;
	int err = -ENOMEM;

	n64 = 0;
	for (i = 0; i < dt_sim_sysnr_64_len; i++)
		if (dt_sim_sysnr_64[i].nr + 1 > n64)
			n64 = dt_sim_sysnr_64[i].nr + 1;
	n32 = 0;
	for (i = 0; i < dt_sim_sysnr_32_len; i++)
		if (dt_sim_sysnr_32[i].nr + 1 > n32)
			n32 = dt_sim_sysnr_32[i].nr + 1;

	capfn = dt_sim_sysnr_64_len + dt_sim_sysnr_32_len * 2 + 128;
	fns = calloc(capfn, sizeof(*fns));
	{
		size_t nsrc;

		(void)dt_sim_meta_src(&nsrc);
		meta = calloc(nsrc, sizeof(*meta));
	}
	if (!fns || !meta)
		goto out;

#define FN(...) (fns[nfn++] = (struct fn){ __VA_ARGS__ })
	/* .text: startup code and the entry text first, as in a real vmlinux */
	FN("startup_64", K_PLAIN, A_NOP, 0, NULL, true);
	FN("entry_SYSCALL_64", K_ENTRY64, 0, 0, NULL, true);
	FN("swapgs_restore_regs_and_return_to_usermode", K_IRET_PATH, 0, 0, NULL, true);
	FN("entry_INT80_compat", K_ENTRY32, 0, 0, NULL, true);
	FN("asm_exc_page_fault", K_EXC, 0, 14, "exc_page_fault", true);
	FN("asm_sysvec_apic_timer_interrupt", K_EXC, 0, 0xec, "sysvec_apic_timer_interrupt",
	   true);
	FN("ret_from_fork", K_RET_FROM_FORK, 0, 0, NULL, true);
	FN("__x86_return_thunk", K_RETURN_THUNK, 0, 0, NULL, true);
	/* do_syscall_64: arg 0 = x86-64 table (act holds nmax); do_int80: arg = nmax32 */
	FN("do_syscall_64", K_DO_SYSCALL, (enum sim_action)n64, 0, NULL, true);
	FN("do_int80_syscall_32", K_DO_SYSCALL, 0, (unsigned)n32, NULL, true);
	FN("syscall_exit_to_user_mode", K_EXIT_TO_USER, 0, 0, NULL, true);
	FN("irqentry_exit_to_user_mode", K_EXIT_TO_USER, 0, 0, NULL, true);
	FN("exc_page_fault", K_PLAIN, A_PF, 0, NULL, true);
	FN("sysvec_apic_timer_interrupt", K_PLAIN, A_NOP, 0, NULL, true);
	FN("do_exit", K_DO_EXIT, 0, 0, NULL, true);
	FN("do_execveat_common", K_CALLING, A_COPY_STRINGS, 0, "bprm_execve", false);
	FN("bprm_execve", K_PLAIN, A_EXEC, 0, NULL, true);
	FN("do_filp_open", K_FILP, 0, 0, NULL, true);
	FN("security_file_open", K_PLAIN, A_RET0, 0, NULL, true);
	FN("__x64_sys_ni_syscall", K_PLAIN, A_NI, 0, NULL, true);
	FN("__ia32_sys_ni_syscall", K_PLAIN, A_NI, 0, NULL, true);
	for (i = 0; i < dt_sim_sysnr_64_len; i++) {
		const char *n = dt_sim_sysnr_64[i].name;
		char name[96];

		if (dt_sim_x64_ni(n))
			continue;
		snprintf(name, sizeof(name), "__x64_sys_%s", dt_sim_x64_fn_name(n));
		fns[nfn].owned = strdup(name);
		if (!fns[nfn].owned)
			goto out;
		fns[nfn].name = fns[nfn].owned;
		fns[nfn].global = true;
		fns[nfn].arg = dt_sim_sysnr_64[i].nr;
		if (is_exec(n)) {
			fns[nfn].kind = K_CALLING;
			fns[nfn].act = A_GETNAME;
			fns[nfn].arg = strcmp(n, "execveat") ? 0 : 2;
			fns[nfn].callee = "do_execveat_common";
		} else if (is_exit(n)) {
			fns[nfn].kind = K_CALLING;
			fns[nfn].act = A_EXIT_PREP;
			fns[nfn].callee = "do_exit";
		} else if (is_open(n)) {
			fns[nfn].kind = K_OPEN;
		} else {
			fns[nfn].kind = K_PLAIN;
			fns[nfn].act = A_SYS64;
		}
		nfn++;
	}
	for (i = 0; i < dt_sim_sysnr_32_len; i++) {
		const char *n = dt_sim_sysnr_32[i].name;
		int pass;

		if (dt_sim_i386_ni(n))
			continue;
		for (pass = 0; pass < 2; pass++) {
			char name[96];

			if (pass == 1 && !dt_sim_i386_compat(n))
				break;
			snprintf(name, sizeof(name), pass ? "__ia32_compat_sys_%s" : "__ia32_sys_%s",
				 dt_sim_i386_fn_name(n));
			fns[nfn].owned = strdup(name);
			if (!fns[nfn].owned)
				goto out;
			fns[nfn].name = fns[nfn].owned;
			fns[nfn].global = true;
			fns[nfn].arg = dt_sim_sysnr_32[i].nr;
			if (is_exec(n)) {
				fns[nfn].kind = K_CALLING;
				fns[nfn].act = A_GETNAME;
				fns[nfn].arg = strcmp(n, "execveat") ? 1 : 3;
				fns[nfn].callee = "do_execveat_common";
			} else if (is_exit(n)) {
				fns[nfn].kind = K_CALLING;
				fns[nfn].act = A_EXIT_PREP;
				fns[nfn].arg |= 0x8000; /* compat pt_regs */
				fns[nfn].callee = "do_exit";
			} else if (is_open(n)) {
				fns[nfn].kind = K_OPEN;
				fns[nfn].arg |= 0x8000;
			} else {
				fns[nfn].kind = K_PLAIN;
				fns[nfn].act = A_SYS32;
			}
			nfn++;
		}
	}
	/* Filler functions, sprinkled at seeded positions among the rest. */
	filler = dt_sim_filler(&nfiller);
	for (i = 0; i < nfiller && nfn < capfn; i++) {
		size_t at = 8 + sim_rand_below(&seed, nfn - 8);

		memmove(&fns[at + 1], &fns[at], (nfn - at) * sizeof(*fns));
		fns[at] = (struct fn){ filler[i], K_PLAIN, A_NOP, 0, NULL, false, NULL };
		nfn++;
	}

	/* Tables live in rodata: their offsets are needed by do_syscall_*, which are emitted
	 * before rodata exists; reserve them by a first sizing pass over the text. */
	b->off_sys_call_table = 0;
	b->off_ia32_sys_call_table = 0;
	{
		/* Sizing pass: emit text once to learn its size. */
		for (i = 0; i < nfn; i++)
			emit_fn(&e, &fns[i]);
		if (e.err)
			goto out;
		align(&e, SIM_PAGE, 0xcc);
		b->rodata_off = e.len;
	}
	/* Second, real pass (identical sizes: table offsets only change immediates). */
	b->off_sys_call_table = b->rodata_off;
	b->off_ia32_sys_call_table = b->rodata_off + n64 * 8;
	for (i = 0; i < b->nsyms; i++)
		free(b->syms[i].name);
	b->nsyms = 0;
	b->nrelocs = 0;
	for (i = 0; i < e.nfix; i++)
		free(e.fix[i].target);
	e.nfix = 0;
	memset(e.buf, 0, e.cap);
	memset(e.start, 0, e.cap);
	e.len = 0;
	for (i = 0; i < nfn; i++)
		emit_fn(&e, &fns[i]);
	sym(&e, "_text", 0, 'T', false);
	sym(&e, "_stext", 0, 'T', false);
	sym(&e, "_etext", e.len, 'T', false);
	b->text_size = e.len;
	align(&e, SIM_PAGE, 0xcc);
	if (e.err || e.len != b->rodata_off)
		goto out_inval;
	for (i = 0; i < e.nfix; i++) {
		if (find_fn(b, e.fix[i].target, &off))
			goto out_inval;
		put32(&e, e.fix[i].site, (uint32_t)(off - (e.fix[i].site + 4)));
	}

	/* .rodata */
	sym(&e, "__start_rodata", e.len, 'R', false);
	sym(&e, "sys_call_table", e.len, 'R', false);
	zeros(&e, n64 * 8);
	sym(&e, "ia32_sys_call_table", e.len, 'R', false);
	zeros(&e, n32 * 8);
	if (e.err)
		goto out;
	{
		uint64_t ni64, ni32;

		if (find_fn(b, "__x64_sys_ni_syscall", &ni64) ||
		    find_fn(b, "__ia32_sys_ni_syscall", &ni32))
			goto out_inval;
		for (i = 0; i < n64; i++)
			put_ptr(&e, b->off_sys_call_table + i * 8, ni64);
		for (i = 0; i < n32; i++)
			put_ptr(&e, b->off_ia32_sys_call_table + i * 8, ni32);
		for (i = 0; i < dt_sim_sysnr_64_len; i++) {
			char name[96];

			snprintf(name, sizeof(name), "__x64_sys_%s",
				 dt_sim_x64_fn_name(dt_sim_sysnr_64[i].name));
			if (!find_fn(b, name, &off))
				put64(&e, b->off_sys_call_table + dt_sim_sysnr_64[i].nr * 8,
				      SIM_TEXT_BASE + off);
		}
		for (i = 0; i < dt_sim_sysnr_32_len; i++) {
			char name[96];

			snprintf(name, sizeof(name), "__ia32_compat_sys_%s",
				 dt_sim_i386_fn_name(dt_sim_sysnr_32[i].name));
			if (find_fn(b, name, &off)) {
				snprintf(name, sizeof(name), "__ia32_sys_%s",
					 dt_sim_i386_fn_name(dt_sim_sysnr_32[i].name));
				if (find_fn(b, name, &off))
					continue;
			}
			put64(&e, b->off_ia32_sys_call_table + dt_sim_sysnr_32[i].nr * 8,
			      SIM_TEXT_BASE + off);
		}
	}
	align(&e, 64, 0);
	b->off_banner = e.len;
	sym(&e, "linux_banner", e.len, 'R', false);
	str_in(&e, b->banner);
	meta_strings(&e, meta, &nm);
	align(&e, 16, 0);
	b->off_btf = e.len;
	sym(&e, "__start_BTF", e.len, 'R', false);
	bytes(&e, b->btf, b->btf_size, false);
	sym(&e, "__stop_BTF", e.len, 'R', false);
	/* Build N has N x 256 more symbols (small rodata objects): one more kallsyms marker
	 * per build, so both parities of the marker count occur (u32 markers pad an odd one). */
	for (i = 0; i < (size_t)b->build * 256 && b->build <= 64; i++) {
		char pad[48];

		snprintf(pad, sizeof(pad), "sim_rodata_pad_%zu", i);
		sym(&e, pad, e.len, 'r', false);
		zeros(&e, 8);
	}
	/* kallsyms: room now, the tables once every symbol is placed */
	align(&e, 8, 0);
	ks_at = e.len;
	ks_space = dt_sim_kallsyms_reserve(b);
	zeros(&e, ks_space);
	sym(&e, "__end_rodata", e.len, 'R', false);
	b->rodata_end = e.len;
	align(&e, SIM_PAGE, 0);

	/* .data */
	b->data_off = e.len;
	sym(&e, "_sdata", e.len, 'D', false);
	b->off_init_top_pgt = e.len;
	sym(&e, "init_top_pgt", e.len, 'D', false);
	zeros(&e, SIM_PAGE);
	b->off_page_offset_base = e.len;
	sym(&e, "page_offset_base", e.len, 'D', false);
	zeros(&e, 8);
	b->off_max_pfn = e.len;
	sym(&e, "max_pfn", e.len, 'D', false);
	zeros(&e, 8);
	align(&e, 64, 0);
	b->off_per_cpu_offset = e.len;
	sym(&e, "__per_cpu_offset", e.len, 'D', false);
	zeros(&e, SIM_NR_CPUS * 8);
	align(&e, 64, 0);
	b->off_init_cred = e.len;
	sym(&e, "init_cred", e.len, 'D', false);
	zeros(&e, l->cred_size);
	align(&e, 64, 0);
	b->off_init_mm = e.len;
	sym(&e, "init_mm", e.len, 'D', false);
	zeros(&e, l->mm_size);
	align(&e, 64, 0);
	b->off_init_task = e.len;
	sym(&e, "init_task", e.len, 'D', false);
	zeros(&e, l->o.task_size);
	align(&e, 64, 0);
	{
		size_t structs, types, ptrs;

		structs = e.len;
		zeros(&e, nm * 64);
		types = e.len;
		zeros(&e, nm * 12 * 8);
		align(&e, 8, 0);
		ptrs = e.len;
		sym(&e, "__start_syscalls_metadata", e.len, 'D', false);
		zeros(&e, nm * 8);
		sym(&e, "__stop_syscalls_metadata", e.len, 'D', false);
		if (e.err)
			goto out;
		for (i = 0; i < nm; i++) {
			size_t s = structs + i * 64, t = types + i * 96;
			int a;

			put_ptr(&e, s, meta[i].name_off);
			put32(&e, s + 8, (uint32_t)meta[i].nr);
			put32(&e, s + 12, (uint32_t)meta[i].nargs);
			if (meta[i].nargs) {
				put_ptr(&e, s + 16, t);
				put_ptr(&e, s + 24, t + 48);
			}
			put_ptr(&e, s + 32, s + 32); /* enter_fields: empty list */
			put_ptr(&e, s + 40, s + 32);
			for (a = 0; a < meta[i].nargs; a++) {
				put_ptr(&e, t + a * 8, meta[i].type_off[a]);
				put_ptr(&e, t + 48 + a * 8, meta[i].arg_off[a]);
			}
			put_ptr(&e, ptrs + i * 8, s);
		}
	}
	sym(&e, "_edata", e.len, 'D', false);
	align(&e, SIM_PAGE, 0);
	b->bss_off = e.len;
	sym(&e, "__bss_start", e.len, 'B', false);
	b->off_init_stack = e.len;
	sym(&e, "init_stack", e.len, 'B', false);
	zeros(&e, SIM_THREAD_SIZE);
	sym(&e, "__bss_stop", e.len, 'B', false);
	sym(&e, "_end", e.len, 'B', false);
	align(&e, SIM_PAGE, 0);

	/* Per-CPU symbols: offsets from __per_cpu_start = 0, never KASLR-shifted. */
	sym(&e, "__per_cpu_start", 0, 'D', true);
	if (b->flavour == DT_SIM_FLAVOUR_66) {
		sym(&e, "pcpu_hot", l->percpu_var, 'D', true);
	} else {
		sym(&e, "current_task", l->percpu_var, 'D', true);
		sym(&e, "cpu_current_top_of_stack", l->percpu_top_of_stack, 'D', true);
		sym(&e, "cpu_number", l->percpu_cpu_number, 'D', true);
	}
	sym(&e, "__per_cpu_end", SIM_PERCPU_SIZE, 'D', true);
	if (e.err)
		goto out;
	err = dt_sim_kallsyms_emit(b, e.buf, ks_at, ks_space);
	if (err)
		goto out;
	err = -ENOMEM;

	b->image_size = e.len;
	b->image = e.buf;
	e.buf = NULL;
	{
		size_t nbytes = (b->text_size + 7) / 8;

		b->insn_start = calloc(nbytes, 1);
		if (!b->insn_start)
			goto out;
		for (i = 0; i < b->text_size; i++)
			if (e.start[i])
				b->insn_start[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	qsort(b->syms, b->nsyms, sizeof(*b->syms), cmp_sym_addr);
	b->by_name = calloc(b->nsyms, sizeof(*b->by_name));
	if (!b->by_name)
		goto out;
	for (i = 0; i < b->nsyms; i++)
		b->by_name[i] = &b->syms[i];
	qsort(b->by_name, b->nsyms, sizeof(*b->by_name), cmp_sym_name);
	err = 0;
	goto out;
out_inval:
	err = e.err ? e.err : -EINVAL;
out:
	if (e.err && !err)
		err = e.err;
	for (i = 0; i < e.nfix; i++)
		free(e.fix[i].target);
	free(e.fix);
	free(e.buf);
	free(e.start);
	if (fns)
		for (i = 0; i < nfn; i++)
			free(fns[i].owned);
	free(fns);
	free(meta);
	return err;
}
