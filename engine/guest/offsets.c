// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct offsets: from the guest kernel's own BTF (libbpf) or from an offsets profile
 * file. Both fill the same key table and pass the same checks.
 *
 * A guest's BTF is hostile bytes. libbpf checks the header, the string section and
 * each type's length at btf__new(); the type ids a member refers to are not checked
 * there (libbpf 1.1), so every id is bounded by btf__type_cnt() here before use, and
 * type chains are followed a bounded number of hops.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

#define OFF_MAX (1u << 20)   /* no member lies 1 MiB into a struct */
#define RESOLVE_HOPS 32	      /* typedef/modifier chain */
#define ANON_DEPTH 8	      /* nested anonymous structs/unions */
#define PROFILE_MAX (1u << 20)

enum { REQ = 1, SIZEKEY = 2 };

struct off_key {
	const char *st, *member, *key;
	uint32_t size; /* expected member size, 0: any */
	uint8_t flags;
};

#define K(s, m, sz, fl) { s, m, s "." m, sz, fl }
#define S(s) { s, NULL, s ".size", 0, SIZEKEY }

static const struct off_key keys[_DT_OFF_MAX] = {
	[DT_OFF_TASK_PID] = K("task_struct", "pid", 4, REQ),
	[DT_OFF_TASK_TGID] = K("task_struct", "tgid", 4, REQ),
	[DT_OFF_TASK_REAL_PARENT] = K("task_struct", "real_parent", 8, REQ),
	[DT_OFF_TASK_PARENT] = K("task_struct", "parent", 8, REQ),
	[DT_OFF_TASK_TASKS] = K("task_struct", "tasks", 16, REQ),
	[DT_OFF_TASK_COMM] = K("task_struct", "comm", 16, REQ),
	[DT_OFF_TASK_CRED] = K("task_struct", "cred", 8, 0),
	[DT_OFF_TASK_REAL_CRED] = K("task_struct", "real_cred", 8, 0),
	[DT_OFF_TASK_MM] = K("task_struct", "mm", 8, 0),
	[DT_OFF_TASK_FLAGS] = K("task_struct", "flags", 4, 0),
	[DT_OFF_CRED_UID] = K("cred", "uid", 4, REQ),
	[DT_OFF_CRED_GID] = K("cred", "gid", 4, REQ),
	[DT_OFF_CRED_SUID] = K("cred", "suid", 4, 0),
	[DT_OFF_CRED_SGID] = K("cred", "sgid", 4, 0),
	[DT_OFF_CRED_EUID] = K("cred", "euid", 4, REQ),
	[DT_OFF_CRED_EGID] = K("cred", "egid", 4, REQ),
	[DT_OFF_LIST_NEXT] = K("list_head", "next", 8, 0),
	[DT_OFF_LIST_PREV] = K("list_head", "prev", 8, 0),
	[DT_OFF_REGS_R15] = K("pt_regs", "r15", 8, 0),
	[DT_OFF_REGS_R14] = K("pt_regs", "r14", 8, 0),
	[DT_OFF_REGS_R13] = K("pt_regs", "r13", 8, 0),
	[DT_OFF_REGS_R12] = K("pt_regs", "r12", 8, 0),
	[DT_OFF_REGS_BP] = K("pt_regs", "bp", 8, 0),
	[DT_OFF_REGS_BX] = K("pt_regs", "bx", 8, 0),
	[DT_OFF_REGS_R11] = K("pt_regs", "r11", 8, 0),
	[DT_OFF_REGS_R10] = K("pt_regs", "r10", 8, 0),
	[DT_OFF_REGS_R9] = K("pt_regs", "r9", 8, 0),
	[DT_OFF_REGS_R8] = K("pt_regs", "r8", 8, 0),
	[DT_OFF_REGS_AX] = K("pt_regs", "ax", 8, 0),
	[DT_OFF_REGS_CX] = K("pt_regs", "cx", 8, 0),
	[DT_OFF_REGS_DX] = K("pt_regs", "dx", 8, 0),
	[DT_OFF_REGS_SI] = K("pt_regs", "si", 8, 0),
	[DT_OFF_REGS_DI] = K("pt_regs", "di", 8, 0),
	[DT_OFF_REGS_ORIG_AX] = K("pt_regs", "orig_ax", 8, 0),
	[DT_OFF_REGS_IP] = K("pt_regs", "ip", 8, 0),
	/* cs and ss: u64 slots until 6.8; since 6.9 (FRED) u16s in anonymous unions with u64s
	 * (csx, ssx): the offset is what counts, the member's size is 2 or 8 */
	[DT_OFF_REGS_CS] = K("pt_regs", "cs", 0, 0),
	[DT_OFF_REGS_FLAGS] = K("pt_regs", "flags", 8, 0),
	[DT_OFF_REGS_SP] = K("pt_regs", "sp", 8, 0),
	[DT_OFF_REGS_SS] = K("pt_regs", "ss", 0, 0),
	[DT_OFF_PCPU_HOT_CURRENT_TASK] = K("pcpu_hot", "current_task", 8, 0),
	[DT_OFF_BINPRM_FILENAME] = K("linux_binprm", "filename", 8, 0),
	[DT_OFF_FILENAME_NAME] = K("filename", "name", 8, 0),
	[DT_OFF_FILE_PATH] = K("file", "f_path", 16, 0),
	[DT_OFF_PATH_MNT] = K("path", "mnt", 8, 0),
	[DT_OFF_PATH_DENTRY] = K("path", "dentry", 8, 0),
	[DT_OFF_DENTRY_PARENT] = K("dentry", "d_parent", 8, 0),
	[DT_OFF_DENTRY_NAME] = K("dentry", "d_name", 16, 0),
	[DT_OFF_QSTR_NAME] = K("qstr", "name", 8, 0),
	[DT_OFF_MOUNT_MNT] = K("mount", "mnt", 0, 0),
	[DT_OFF_MOUNT_PARENT] = K("mount", "mnt_parent", 8, 0),
	[DT_OFF_MOUNT_MOUNTPOINT] = K("mount", "mnt_mountpoint", 8, 0),
	[DT_OFF_META_NAME] = K("syscall_metadata", "name", 8, 0),
	[DT_OFF_META_SYSCALL_NR] = K("syscall_metadata", "syscall_nr", 4, 0),
	[DT_OFF_META_NB_ARGS] = K("syscall_metadata", "nb_args", 4, 0),
	[DT_OFF_META_TYPES] = K("syscall_metadata", "types", 8, 0),
	[DT_OFF_META_ARGS] = K("syscall_metadata", "args", 8, 0),
	[DT_SIZE_TASK_STRUCT] = S("task_struct"),
	[DT_SIZE_CRED] = S("cred"),
	[DT_SIZE_PT_REGS] = S("pt_regs"),
};

/*
 * Layouts that are ABI on x86-64 and used when neither source has them: pt_regs is
 * also the user-visible ptrace layout; syscall_metadata has not changed since 2.6.33;
 * list_head is { next, prev } in every Linux.
 */
static const struct {
	enum dt_off key;
	uint32_t off;
} abi_defaults[] = {
	{ DT_OFF_REGS_R15, 0 },		 { DT_OFF_REGS_R14, 8 },	 { DT_OFF_REGS_R13, 16 },
	{ DT_OFF_REGS_R12, 24 },	 { DT_OFF_REGS_BP, 32 },	 { DT_OFF_REGS_BX, 40 },
	{ DT_OFF_REGS_R11, 48 },	 { DT_OFF_REGS_R10, 56 },	 { DT_OFF_REGS_R9, 64 },
	{ DT_OFF_REGS_R8, 72 },		 { DT_OFF_REGS_AX, 80 },	 { DT_OFF_REGS_CX, 88 },
	{ DT_OFF_REGS_DX, 96 },		 { DT_OFF_REGS_SI, 104 },	 { DT_OFF_REGS_DI, 112 },
	{ DT_OFF_REGS_ORIG_AX, 120 },	 { DT_OFF_REGS_IP, 128 },	 { DT_OFF_REGS_CS, 136 },
	{ DT_OFF_REGS_FLAGS, 144 },	 { DT_OFF_REGS_SP, 152 },	 { DT_OFF_REGS_SS, 160 },
	{ DT_SIZE_PT_REGS, 168 },	 { DT_OFF_META_NAME, 0 },	 { DT_OFF_META_SYSCALL_NR, 8 },
	{ DT_OFF_META_NB_ARGS, 12 },	 { DT_OFF_META_TYPES, 16 },	 { DT_OFF_META_ARGS, 24 },
	{ DT_OFF_LIST_NEXT, 0 },	 { DT_OFF_LIST_PREV, 8 },
};

const char *dt_off_name(enum dt_off key)
{
	if ((unsigned)key >= _DT_OFF_MAX)
		return NULL;
	return keys[key].key;
}

/* Required keys, defaults, and the sanity every source must pass. */
static int offsets_finish(struct dt_offsets *o, const char *what, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < _DT_OFF_MAX; i++) {
		if ((keys[i].flags & REQ) && !dt_off_have(o, (enum dt_off)i)) {
			dt_errf(err, errlen, "%s: no %s", what, keys[i].key);
			return -ENOENT;
		}
	}
	if (!dt_off_have(o, DT_OFF_TASK_CRED) && !dt_off_have(o, DT_OFF_TASK_REAL_CRED)) {
		dt_errf(err, errlen, "%s: no task_struct.real_cred or task_struct.cred", what);
		return -ENOENT;
	}
	for (i = 0; i < sizeof(abi_defaults) / sizeof(abi_defaults[0]); i++) {
		if (!dt_off_have(o, abi_defaults[i].key)) {
			o->off[abi_defaults[i].key] = abi_defaults[i].off;
			o->src[abi_defaults[i].key] = DT_OFFSRC_DEFAULT;
		}
	}
	/* Members must lie inside their struct when its size is known. */
	for (i = 0; i < _DT_OFF_MAX; i++) {
		enum dt_off sk = _DT_OFF_MAX;

		if (!dt_off_have(o, (enum dt_off)i) || (keys[i].flags & SIZEKEY))
			continue;
		if (!strcmp(keys[i].st, "task_struct"))
			sk = DT_SIZE_TASK_STRUCT;
		else if (!strcmp(keys[i].st, "cred"))
			sk = DT_SIZE_CRED;
		else if (!strcmp(keys[i].st, "pt_regs"))
			sk = DT_SIZE_PT_REGS;
		if (sk != _DT_OFF_MAX && dt_off_have(o, sk) &&
		    (uint64_t)o->off[i] + keys[i].size > o->off[sk]) {
			dt_errf(err, errlen, "%s: %s at %u lies outside %s (%u bytes)", what,
				keys[i].key, o->off[i], keys[sk].key, o->off[sk]);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- BTF ---- */

static const struct btf_type *type_at(const struct btf *btf, uint32_t id)
{
	if (!id || id >= btf__type_cnt(btf))
		return NULL;
	return btf__type_by_id(btf, id);
}

/* Skip typedefs and qualifiers, bounded. */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = type_at(btf, id);
	int hops;

	for (hops = 0; t && hops < RESOLVE_HOPS; hops++) {
		if (!btf_is_typedef(t) && !btf_is_mod(t))
			return t;
		t = type_at(btf, t->type);
	}
	return NULL;
}

/* The byte size of a member's type, 0 if unknown. */
static uint64_t type_size(const struct btf *btf, uint32_t id, int depth)
{
	const struct btf_type *t = resolve(btf, id);

	if (!t || depth > RESOLVE_HOPS)
		return 0;
	if (btf_is_ptr(t))
		return 8;
	if (btf_is_int(t) || btf_is_composite(t) || btf_is_any_enum(t))
		return t->size;
	if (btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);
		uint64_t elem = type_size(btf, a->type, depth + 1);

		if (elem > OFF_MAX || a->nelems > OFF_MAX)
			return 0;
		return elem * a->nelems;
	}
	return 0;
}

/*
 * Find member `name` in struct/union `t`, also inside anonymous members. Returns 1
 * found (bit offset and member type id set), 0 not found, -errno for a bitfield or a
 * member we cannot use.
 */
static int find_member(const struct btf *btf, const struct btf_type *t, const char *name,
		       int depth, uint64_t *ret_bits, uint32_t *ret_type)
{
	const struct btf_member *m;
	uint16_t i, vlen;
	int r;

	if (!t || !btf_is_composite(t) || depth > ANON_DEPTH)
		return 0;
	vlen = btf_vlen(t);
	m = btf_members(t);
	for (i = 0; i < vlen; i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint64_t bits = btf_member_bit_offset(t, i);

		if (mname && *mname) {
			if (strcmp(mname, name))
				continue;
			if (btf_member_bitfield_size(t, i) || bits % 8)
				return -EINVAL;
			*ret_bits = bits;
			*ret_type = m->type;
			return 1;
		}
		/* anonymous struct/union (e.g. randomized_struct_fields_start) */
		r = find_member(btf, resolve(btf, m->type), name, depth + 1, ret_bits, ret_type);
		if (r < 0)
			return r;
		if (r) {
			*ret_bits += bits;
			return 1;
		}
	}
	return 0;
}

/*
 * libbpf prints its parse warnings to stderr by default; a guest's corrupt BTF would
 * write lines to our log at will. Our callers report the error themselves, so
 * libbpf's printing is switched off (process-wide, once: domtrace has no other
 * libbpf user that prints).
 */
static int libbpf_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static void silence_libbpf(void)
{
	libbpf_set_print(libbpf_silent);
}

int dt_offsets_from_btf(const void *blob, size_t len, struct dt_offsets *ret, char *err,
			size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	int ids[_DT_OFF_MAX];
	struct dt_offsets o;
	struct btf *btf;
	size_t i;
	int r;

	pthread_once(&once, silence_libbpf);
	memset(&o, 0, sizeof(o));
	if (!len || len > DT_BTF_MAX) {
		dt_errf(err, errlen, "BTF: bad size %zu", len);
		return -EINVAL;
	}
	btf = btf__new(blob, (uint32_t)len);
	if (!btf) {
		r = errno ? -errno : -EINVAL;
		dt_errf(err, errlen, "BTF: not a valid BTF blob (%s)", strerror(-r));
		return -EINVAL;
	}
	for (i = 0; i < _DT_OFF_MAX; i++) {
		const struct off_key *k = &keys[i];
		const struct btf_type *st;
		uint64_t bits = 0, size;
		uint32_t mtype = 0;
		size_t j;
		int id = -1;

		/* a vmlinux BTF has ~100k types: look each struct up once (linear scan) */
		for (j = 0; j < i; j++)
			if (!strcmp(keys[j].st, k->st))
				break;
		if (j < i) {
			id = ids[j];
		} else {
			id = btf__find_by_name_kind(btf, k->st, BTF_KIND_STRUCT);
			if (id < 0)
				id = btf__find_by_name_kind(btf, k->st, BTF_KIND_UNION);
		}
		ids[i] = id;
		st = id > 0 ? type_at(btf, (uint32_t)id) : NULL;
		if (st && (k->flags & SIZEKEY) && !btf_is_struct(st))
			st = NULL;
		if (!st)
			continue;
		if (k->flags & SIZEKEY) {
			if (st->size > OFF_MAX) {
				dt_errf(err, errlen, "BTF: struct %s has size %u", k->st, st->size);
				r = -EINVAL;
				goto out;
			}
			o.off[i] = st->size;
			o.src[i] = DT_OFFSRC_BTF;
			continue;
		}
		r = find_member(btf, st, k->member, 0, &bits, &mtype);
		if (r < 0) {
			dt_errf(err, errlen, "BTF: %s is a bitfield or not byte-aligned", k->key);
			r = -EINVAL;
			goto out;
		}
		if (!r)
			continue;
		size = type_size(btf, mtype, 0);
		if (bits / 8 > OFF_MAX || (k->size && size != k->size)) {
			dt_errf(err, errlen, "BTF: %s has offset %llu, size %llu (expected %u)",
				k->key, (unsigned long long)(bits / 8), (unsigned long long)size,
				k->size);
			r = -EINVAL;
			goto out;
		}
		o.off[i] = (uint32_t)(bits / 8);
		o.src[i] = DT_OFFSRC_BTF;
	}
	r = offsets_finish(&o, "BTF", err, errlen);
	if (!r)
		*ret = o;
out:
	btf__free(btf);
	return r;
}

/* ---- profile file ---- */

static bool parse_value(const char *s, const char *e, uint32_t *ret)
{
	uint64_t v = 0;
	int base = 10;

	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s == e)
		return false;
	for (; s < e; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > OFF_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return true;
}

int dt_offsets_parse_profile(const char *text, size_t len, const char *label,
			     struct dt_offsets *ret, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	struct dt_offsets o;
	char what[300];
	unsigned line = 0;

	if (!label)
		label = "(memory)";
	snprintf(what, sizeof(what), "offsets profile '%s'", label);
	memset(&o, 0, sizeof(o));
	while (p < end) {
		const char *le = memchr(p, '\n', (size_t)(end - p));
		const char *ks, *ke, *vs, *ve;
		size_t i;
		uint32_t v;

		if (!le)
			le = end;
		line++;
		ks = p;
		p = le + 1;
		while (ks < le && (*ks == ' ' || *ks == '\t'))
			ks++;
		ve = le;
		while (ve > ks && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
			ve--;
		if (ks == ve || *ks == '#')
			continue;
		for (ke = ks; ke < ve && *ke != ' ' && *ke != '\t'; ke++)
			if (!*ke)
				break;
		for (vs = ke; vs < ve && (*vs == ' ' || *vs == '\t'); vs++)
			;
		if (vs == ve || memchr(vs, ' ', (size_t)(ve - vs)) || memchr(vs, '\t', (size_t)(ve - vs))) {
			dt_errf(err, errlen, "%s line %u: expected \"key value\"", what, line);
			return -EINVAL;
		}
		for (i = 0; i < _DT_OFF_MAX; i++)
			if (strlen(keys[i].key) == (size_t)(ke - ks) &&
			    !memcmp(keys[i].key, ks, (size_t)(ke - ks)))
				break;
		if (i == _DT_OFF_MAX)
			continue; /* a newer file's key */
		if (!parse_value(vs, ve, &v)) {
			dt_errf(err, errlen, "%s line %u: bad value for %s", what, line,
				keys[i].key);
			return -EINVAL;
		}
		if (o.src[i]) {
			dt_errf(err, errlen, "%s line %u: %s given twice", what, line, keys[i].key);
			return -EINVAL;
		}
		o.off[i] = v;
		o.src[i] = DT_OFFSRC_PROFILE;
	}
	{
		int r = offsets_finish(&o, what, err, errlen);

		if (r)
			return r;
	}
	*ret = o;
	return 0;
}

int dt_offsets_load_profile(const char *path, struct dt_offsets *ret, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		dt_errf(err, errlen, "offsets profile '%s': %s", path, strerror(-r));
		return r;
	}
	buf = malloc(PROFILE_MAX);
	if (!buf) {
		r = -ENOMEM;
		dt_errf(err, errlen, "offsets profile '%s': out of memory", path);
		goto out;
	}
	while (len < PROFILE_MAX) {
		n = read(fd, buf + len, PROFILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			dt_errf(err, errlen, "offsets profile '%s': %s", path, strerror(-r));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len == PROFILE_MAX) {
		r = -EFBIG;
		dt_errf(err, errlen, "offsets profile '%s': larger than %u bytes", path,
			PROFILE_MAX - 1);
		goto out;
	}
	r = dt_offsets_parse_profile(buf, len, path, ret, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}
