// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_vfs.c - paths as the simulated kernel resolves them, and the kernel objects an
 * introspection engine reads to tell which file was really opened: struct file ->
 * f_path { vfsmount, dentry }, dentries linked by d_parent with their d_name, and struct
 * mount (mnt_parent, mnt_mountpoint) where a file system is mounted on another (/tmp is a
 * tmpfs, as on many systems). Dentries are made the first time a path is opened and kept
 * (the dentry cache); every object lives in guest memory with the layout of sim_priv.h,
 * which the guest's BTF describes. Called with the VM lock held (vCPU actions).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

#define DCACHE_MAX 512
#define LINK_MAX_DEPTH 8

/* ---- resolution ---- */

static const struct sim_file *lookup(const char *path)
{
	int idx = dt_sim_vfs_lookup(path);

	return idx < 0 ? NULL : dt_sim_vfs_get(idx);
}

/* Append component c (len n) to the canonical path in out, following a symbolic link
 * there (depth counts expansions). */
static int walk(char *out, size_t cap, const char *p, int *depth);

static int step(char *out, size_t cap, const char *c, size_t n, int *depth)
{
	size_t len = strlen(out);
	const struct sim_file *f;

	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		char *slash = strrchr(out, '/');

		if (slash && slash != out)
			*slash = '\0';
		else
			strcpy(out, "/");
		return 0;
	}
	if (len + (len > 1) + n + 1 > cap)
		return -ENAMETOOLONG;
	if (len > 1)
		out[len++] = '/';
	memcpy(out + len, c, n);
	out[len + n] = '\0';
	f = lookup(out);
	if (f && (f->flags & VF_LINK)) {
		if (++*depth > LINK_MAX_DEPTH)
			return -ELOOP;
		/* the link's directory, then its target (absolute: from the root) */
		out[len > 1 ? len - 1 : 1] = '\0';
		if (f->content[0] == '/')
			strcpy(out, "/");
		return walk(out, cap, f->content, depth);
	}
	return 0;
}

static int walk(char *out, size_t cap, const char *p, int *depth)
{
	while (*p) {
		size_t n = strcspn(p, "/");
		int r = step(out, cap, p, n, depth);

		if (r)
			return r;
		p += n;
		p += strspn(p, "/");
	}
	return 0;
}

int dt_sim_vfs_resolve(struct sim_task *t, int64_t dfd, const char *path, char *out,
		       size_t cap)
{
	int depth = 0;

	if (!path[0])
		return -ENOENT;
	if (cap < 2)
		return -ENAMETOOLONG;
	strcpy(out, "/"); /* the cwd of every simulated process */
	if (path[0] != '/' && dfd != -100) { /* AT_FDCWD */
		if (dfd < 0 || dfd >= SIM_NFD || t->fd[dfd].kind == FD_NONE)
			return -EBADF;
		if (t->fd[dfd].kind != FD_DIR || t->fd[dfd].file < 0)
			return -ENOTDIR;
		if (strlen(dt_sim_vfs_get(t->fd[dfd].file)->path) >= cap)
			return -ENAMETOOLONG;
		strcpy(out, dt_sim_vfs_get(t->fd[dfd].file)->path);
	}
	return walk(out, cap, path, &depth);
}

/* ---- kernel objects ---- */

static uint64_t kzalloc(struct sim_vm *vm, uint32_t size, uint64_t *ret_pa)
{
	uint64_t kva = dt_sim_kmalloc(vm, size, ret_pa);
	static const uint8_t zero[256];
	uint32_t o;

	for (o = 0; kva && o < size; o += sizeof(zero))
		dt_sim_gcopy_in(&vm->mem, *ret_pa + o, zero,
				size - o < sizeof(zero) ? size - o : sizeof(zero));
	return kva;
}

/* A dentry named name (at most 127 bytes) under parent (0: its own parent, a root). */
static uint64_t new_dentry(struct sim_vm *vm, uint64_t parent, const char *name)
{
	size_t n = strlen(name) < 127 ? strlen(name) : 127;
	uint64_t pa, kva = kzalloc(vm, SIM_DENTRY_SIZE, &pa);

	if (!kva)
		return 0;
	dt_sim_gwrite64(&vm->mem, pa + SIM_DENTRY_PARENT, parent ? parent : kva);
	dt_sim_gwrite64(&vm->mem, pa + SIM_DENTRY_NAME, (uint64_t)n << 32); /* hash_len */
	dt_sim_gwrite64(&vm->mem, pa + SIM_DENTRY_NAME + SIM_QSTR_NAME, kva + SIM_DENTRY_INAME);
	dt_sim_gcopy_in(&vm->mem, pa + SIM_DENTRY_INAME, name, n);
	return kva;
}

static uint64_t new_mount(struct sim_vm *vm, uint64_t parent, uint64_t mountpoint,
			  uint64_t root)
{
	uint64_t pa, kva = kzalloc(vm, SIM_MOUNT_SIZE, &pa);

	if (!kva)
		return 0;
	dt_sim_gwrite64(&vm->mem, pa + SIM_MOUNT_PARENT, parent ? parent : kva);
	dt_sim_gwrite64(&vm->mem, pa + SIM_MOUNT_MOUNTPOINT, mountpoint);
	dt_sim_gwrite64(&vm->mem, pa + SIM_MOUNT_MNT, root); /* mnt.mnt_root */
	return kva;
}

static uint64_t dcache_find(struct sim_vm *vm, const char *path)
{
	size_t i;

	for (i = 0; i < vm->ndcache; i++)
		if (!strcmp(vm->dcache[i].path, path))
			return vm->dcache[i].kva;
	return 0;
}

static uint64_t dcache_add(struct sim_vm *vm, const char *path, uint64_t kva)
{
	if (!kva || strlen(path) >= sizeof(vm->dcache[0].path) || vm->ndcache >= DCACHE_MAX)
		return kva;
	if (!vm->dcache && !(vm->dcache = calloc(DCACHE_MAX, sizeof(*vm->dcache))))
		return kva;
	strcpy(vm->dcache[vm->ndcache].path, path);
	vm->dcache[vm->ndcache++].kva = kva;
	return kva;
}

/* The root file system, and a tmpfs mounted on /tmp whose root dentry is named "/". */
static int mounts(struct sim_vm *vm)
{
	uint64_t root, tmp, tmproot;

	if (vm->mnt_root)
		return 0;
	root = dcache_add(vm, "/", new_dentry(vm, 0, "/"));
	tmp = root ? dcache_add(vm, "/tmp", new_dentry(vm, root, "tmp")) : 0;
	tmproot = tmp ? new_dentry(vm, 0, "/") : 0;
	vm->mnt_root = root ? new_mount(vm, 0, root, root) : 0;
	vm->mnt_tmp = tmproot && vm->mnt_root ? new_mount(vm, vm->mnt_root, tmp, tmproot) : 0;
	if (!vm->mnt_tmp)
		return -ENOMEM;
	vm->tmp_root = tmproot;
	return 0;
}

static bool under_tmp(const char *canon)
{
	return !strncmp(canon, "/tmp/", 5);
}

/* The dentry of a canonical path, and of each of its parents, made as needed. */
static uint64_t dentry_of(struct sim_vm *vm, const char *canon)
{
	char parent[128];
	uint64_t d = dcache_find(vm, canon), pd;
	const char *slash;

	if (d)
		return d;
	slash = strrchr(canon, '/');
	if (!slash || (size_t)(slash - canon) >= sizeof(parent))
		return 0;
	if (slash == canon)
		strcpy(parent, "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - canon), canon);
	/* the children of /tmp hang under the tmpfs root, not under the mountpoint */
	pd = !strcmp(parent, "/tmp") && under_tmp(canon) ? vm->tmp_root : dentry_of(vm, parent);
	if (!pd)
		return 0;
	return dcache_add(vm, canon, new_dentry(vm, pd, slash + 1));
}

uint64_t dt_sim_vfs_file(struct sim_vm *vm, const char *canon, uint32_t flags, uint64_t *ret_pa)
{
	uint64_t d, kva, pa, mnt;

	if (mounts(vm) < 0 || !(d = dentry_of(vm, canon)))
		return 0;
	kva = kzalloc(vm, SIM_FILE_SIZE, &pa);
	if (!kva)
		return 0;
	mnt = under_tmp(canon) ? vm->mnt_tmp : vm->mnt_root;
	dt_sim_gwrite64(&vm->mem, pa + SIM_FILE_PATH, mnt + SIM_MOUNT_MNT);
	dt_sim_gwrite64(&vm->mem, pa + SIM_FILE_PATH + 8, d);
	dt_sim_gwrite64(&vm->mem, pa + SIM_FILE_FLAGS, flags);
	*ret_pa = pa;
	return kva;
}

void dt_sim_vfs_free(struct sim_vm *vm)
{
	free(vm->dcache);
	vm->dcache = NULL;
	vm->ndcache = 0;
}
