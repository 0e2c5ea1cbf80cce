/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * site.h - where a probe may go in a guest kernel function, and how the instruction it
 * replaces is emulated so a hit costs one round trip (no single-step, no re-insertion).
 *
 * Entry site: the ftrace `nop5` at a function's start (after an optional `endbr64`).
 * Exit sites: every `ret` / `ret imm16` / `jmp __x86_return_thunk` (also the conditional
 * `jcc __x86_return_thunk` Linux emits) of the function,
 * found by decoding its body with Zydis. Only these instructions are ever probed: each
 * can be emulated by changing registers alone (nop: rip += len; ret: rip = [rsp],
 * rsp += 8 + imm; jmp: rip = target). A function whose entry is anything else, or whose
 * body leaves by a tail call or an indirect jump, is refused with a reason.
 *
 * Pure functions over byte buffers: any thread.
 */
#ifndef DT_PROBES_SITE_H
#define DT_PROBES_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/hv.h"

#define DT_SITE_MAX_INSN 15
#define DT_FUNC_SCAN_MAX 65536 /* longest function body decoded for exits */
#define DT_EXITS_MAX 32	       /* exits of one function */

enum dt_emul {
	DT_EMUL_NOP = 1, /* rip += len */
	DT_EMUL_RET,	 /* rip = [rsp], rsp += 8 + pop */
	DT_EMUL_JMP,	 /* rip = target */
	DT_EMUL_JCC,	 /* conditional jump to the return thunk: rip = cond ? target : next */
};

struct dt_site {
	uint64_t addr;
	uint8_t len; /* bytes a trap may cover: the original instruction, or for a `ret`
		      * followed by unreachable int3 padding, up to 5 */
	uint8_t orig[DT_SITE_MAX_INSN];
	uint8_t emul; /* enum dt_emul */
	uint16_t pop; /* DT_EMUL_RET: ret imm16 */
	uint64_t target; /* DT_EMUL_JMP, DT_EMUL_JCC */
	uint8_t cond;	 /* DT_EMUL_JCC: the condition code (low nibble of the opcode) */
};

/*
 * The entry site of the function whose first bytes are code[0..len) at guest address
 * func. 0; -EAGAIN if the entry is still a `call` (ftrace not yet initialised, or
 * tracing it); -EINVAL for anything else. *ret_why says what was found.
 */
int dt_site_find_entry(const uint8_t *code, size_t len, uint64_t func, struct dt_site *ret_site,
		       const char **ret_why);

/*
 * Every exit of the function whose whole body is code[0..len) at guest address func.
 * return_thunk is the address of __x86_return_thunk (0 if the kernel has none).
 * Fills sites[0..*ret_n). 0, or -EINVAL (tail call, indirect jump, undecodable byte,
 * too many exits, no exit) with *ret_why.
 */
int dt_site_find_exits(const uint8_t *code, size_t len, uint64_t func, uint64_t return_thunk,
		       struct dt_site *sites, size_t max, size_t *ret_n, const char **ret_why);

/* Can trap bytes of length trap_len replace this site's instruction? */
bool dt_site_fits(const struct dt_site *site, size_t trap_len);

/*
 * Apply the replaced instruction's effect to regs. stack_word is the 8 bytes at regs->rsp
 * (read by the caller from guest memory; used by DT_EMUL_RET only).
 */
void dt_site_emulate(const struct dt_site *site, struct dt_regs *regs, uint64_t stack_word);

/* Abort the call a function-entry hit interrupted: the function returns value at once
 * (rax = value, rip = return address (the word at rsp), rsp += 8). */
void dt_site_abort(struct dt_regs *regs, uint64_t stack_word, int64_t value);

#endif /* DT_PROBES_SITE_H */
