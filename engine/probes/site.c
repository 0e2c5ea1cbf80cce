// SPDX-License-Identifier: GPL-2.0-only
/* Probe sites: find them by decoding guest kernel code with Zydis; emulate them. */
#include <errno.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "probes/site.h"

static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
/* An IBT kernel "seals" the endbr64 of functions never called indirectly at boot, with a
 * 4-byte nop unique to such sites: `osp nopl (%rax)` since 6.2, `nopl -42(%rax)` in 5.18-6.1
 * (Debian 13's 6.12: do_exit and the __ia32_* syscalls). The ftrace nop5 follows as usual. */
static const uint8_t endbr_sealed[2][4] = { { 0x66, 0x0f, 0x1f, 0x00 }, { 0x0f, 0x1f, 0x40, 0xd6 } };
/* The 5-byte nops Linux's ftrace leaves at a function's entry. Since 5.13 always P6's
 * `nopl 0x0(%rax,%rax,1)`; before, x86-64 kernels picked an "ideal" nop at boot, and on AMD
 * family 15 (K8) and unknown vendors that was K8's atomic `66 66 66 66 90` (Debian 11's
 * 5.10 under QEMU's TCG CPU, 2026-12-06). Either is one instruction, stepped over whole. */
static const uint8_t nop5_p6[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t nop5_k8[] = { 0x66, 0x66, 0x66, 0x66, 0x90 };
#define NOP5_LEN 5

static void decoder_init(ZydisDecoder *dec)
{
	ZydisDecoderInit(dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

int dt_site_find_entry(const uint8_t *code, size_t len, uint64_t func, struct dt_site *ret_site,
		       const char **ret_why)
{
	struct dt_site s = { 0 };
	size_t off = 0;

	if (len >= sizeof(endbr64) && (memcmp(code, endbr64, sizeof(endbr64)) == 0 ||
				       memcmp(code, endbr_sealed[0], sizeof(endbr64)) == 0 ||
				       memcmp(code, endbr_sealed[1], sizeof(endbr64)) == 0))
		off = sizeof(endbr64);
	if (len >= off + NOP5_LEN && code[off] == 0xe8) {
		/* `call __fentry__`: the kernel has not turned its ftrace calls into nops yet
		 * (early boot), or ftrace is tracing this function right now */
		*ret_why = "function entry is a call (ftrace not initialised yet, or in use)";
		return -EAGAIN;
	}
	if (len < off + NOP5_LEN || (memcmp(code + off, nop5_p6, NOP5_LEN) != 0 &&
				     memcmp(code + off, nop5_k8, NOP5_LEN) != 0)) {
		*ret_why = off ? "no ftrace nop5 after endbr64 (or its sealed form) at function entry"
			       : "function entry is not an ftrace nop5 (0f 1f 44 00 00 or 66 66 66 66 90)";
		return -EINVAL;
	}
	s.addr = func + off;
	s.len = NOP5_LEN;
	memcpy(s.orig, code + off, NOP5_LEN);
	s.emul = DT_EMUL_NOP;
	*ret_site = s;
	return 0;
}

int dt_site_find_exits(const uint8_t *code, size_t len, uint64_t func, uint64_t return_thunk,
		       struct dt_site *sites, size_t max, size_t *ret_n, const char **ret_why)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	size_t off = 0, n = 0;

	if (len > DT_FUNC_SCAN_MAX)
		len = DT_FUNC_SCAN_MAX;
	decoder_init(&dec);
	while (off < len) {
		struct dt_site s = { 0 };
		uint64_t ip = func + off;
		bool is_exit = false;

		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off, &insn))) {
			/* Padding after the last exit may be anything the linker put there. */
			if (n > 0)
				break;
			*ret_why = "undecodable instruction in function body";
			return -EINVAL;
		}
		switch (insn.mnemonic) {
		case ZYDIS_MNEMONIC_RET:
			is_exit = true;
			s.emul = DT_EMUL_RET;
			if (insn.raw.imm[0].size)
				s.pop = (uint16_t)insn.raw.imm[0].value.u;
			break;
		case ZYDIS_MNEMONIC_JMP: {
			uint64_t target;

			if (!insn.raw.imm[0].is_relative) {
				*ret_why = "indirect jump in function body (tail call or jump table)";
				return -EINVAL;
			}
			target = ip + insn.length + (uint64_t)insn.raw.imm[0].value.s;
			if (return_thunk && target == return_thunk) {
				is_exit = true;
				s.emul = DT_EMUL_JMP;
				s.target = target;
			} else if (target < func || target >= func + len) {
				*ret_why = "tail call out of the function: its return is not its own";
				return -EINVAL;
			}
			break;
		}
		case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JL:
		case ZYDIS_MNEMONIC_JLE: case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JNBE:
		case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JNLE: case ZYDIS_MNEMONIC_JNO:
		case ZYDIS_MNEMONIC_JNP: case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JNZ:
		case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JS:
		case ZYDIS_MNEMONIC_JZ: {
			uint64_t target = ip + insn.length + (uint64_t)insn.raw.imm[0].value.s;

			if (target >= func && target < func + len)
				break;
			if (!return_thunk || target != return_thunk) {
				*ret_why = "conditional tail call out of the function";
				return -EINVAL;
			}
			is_exit = true;
			s.emul = DT_EMUL_JCC;
			s.target = target;
			/* 7x rel8 or 0f 8x rel32: the condition is the opcode's low nibble */
			s.cond = code[off + insn.length - insn.raw.imm[0].size / 8 - 1] & 0x0f;
			break;
		}
		case ZYDIS_MNEMONIC_IRET:
		case ZYDIS_MNEMONIC_SYSRET:
		case ZYDIS_MNEMONIC_SYSEXIT:
			*ret_why = "function leaves by iret/sysret";
			return -EINVAL;
		default:
			break;
		}
		if (is_exit) {
			size_t span = insn.length;

			if (n == max) {
				*ret_why = "too many exits";
				return -E2BIG;
			}
			/* `ret` followed by int3 padding (`ret; int3` of SLS-hardened code, or
			 * the `c3 cc cc cc cc` Linux writes over a `jmp __x86_return_thunk` it
			 * does not need): bytes after an unconditional ret that nothing can
			 * reach, so a 5-byte trap instruction may cover them too. Only within
			 * this function. */
			if (s.emul == DT_EMUL_RET && !s.pop)
				while (span < 5 && off + span < len && code[off + span] == 0xcc)
					span++;
			if (span < 5)
				span = insn.length;
			s.addr = ip;
			s.len = (uint8_t)span;
			memcpy(s.orig, code + off, span);
			sites[n++] = s;
		}
		off += insn.length;
	}
	if (n == 0) {
		*ret_why = "no return instruction found";
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

bool dt_site_fits(const struct dt_site *site, size_t trap_len)
{
	return trap_len >= 1 && trap_len <= site->len;
}

/* The x86 condition codes (Intel SDM Jcc table), evaluated on rflags. */
static bool cond_holds(uint8_t cc, uint64_t fl)
{
	bool cf = fl & (1u << 0), pf = fl & (1u << 2), zf = fl & (1u << 6);
	bool sf = fl & (1u << 7), of = fl & (1u << 11);
	bool r;

	switch (cc >> 1) {
	case 0: r = of; break;			/* O */
	case 1: r = cf; break;			/* B */
	case 2: r = zf; break;			/* Z */
	case 3: r = cf || zf; break;		/* BE */
	case 4: r = sf; break;			/* S */
	case 5: r = pf; break;			/* P */
	case 6: r = sf != of; break;		/* L */
	default: r = zf || (sf != of); break;	/* LE */
	}
	return (cc & 1) ? !r : r;
}

void dt_site_emulate(const struct dt_site *site, struct dt_regs *regs, uint64_t stack_word)
{
	switch (site->emul) {
	case DT_EMUL_NOP:
		regs->rip = site->addr + site->len;
		break;
	case DT_EMUL_RET:
		regs->rip = stack_word;
		regs->rsp += 8 + site->pop;
		break;
	case DT_EMUL_JMP:
		regs->rip = site->target;
		break;
	case DT_EMUL_JCC:
		regs->rip = cond_holds(site->cond, regs->rflags) ? site->target : site->addr + site->len;
		break;
	}
}

void dt_site_abort(struct dt_regs *regs, uint64_t stack_word, int64_t value)
{
	regs->rax = (uint64_t)value;
	regs->rip = stack_word;
	regs->rsp += 8;
}
