// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfs.c - which file a struct file is: the path rebuilt from the guest kernel's own
 * dentries and mounts, as d_path() does, for decisions on the object an open reached
 * rather than on the name the program spelled. Guest memory is hostile: every walk is
 * bounded, every name capped, every pointer a kernel address.
 */
#include <errno.h>
#include <string.h>

#include "domtrace/guest.h"
#include "guest/guest_internal.h"

#define NAME_MAX_BYTES 255

static int read_ptr(struct dt_guest *g, uint64_t va, uint64_t *ret)
{
	if (!dt_kernel_addr(va) ||
	    dt_guest_read_kernel(g, va, ret, sizeof(*ret)) != (ssize_t)sizeof(*ret))
		return -EFAULT;
	return dt_kernel_addr(*ret) ? 0 : -EFAULT;
}

/* Prepend "/name" to the path being built at the end of buf (from *pos). */
static int prepend(char *buf, size_t *pos, const char *name, size_t n)
{
	if (n + 1 > *pos)
		return -ENAMETOOLONG;
	*pos -= n;
	memcpy(buf + *pos, name, n);
	buf[--*pos] = '/';
	return 0;
}

ssize_t dt_guest_file_path(struct dt_guest *g, uint64_t file, char *buf, size_t cap)
{
	static const enum dt_off need[] = { DT_OFF_FILE_PATH, DT_OFF_PATH_MNT, DT_OFF_PATH_DENTRY,
					    DT_OFF_DENTRY_PARENT, DT_OFF_DENTRY_NAME,
					    DT_OFF_QSTR_NAME, DT_OFF_MOUNT_MNT,
					    DT_OFF_MOUNT_PARENT, DT_OFF_MOUNT_MOUNTPOINT };
	const struct dt_offsets *o = dt_guest_offsets(g);
	uint64_t vfsmnt, mnt, dentry, parent, name_va, mparent;
	char name[NAME_MAX_BYTES + 1];
	unsigned names = 0, mounts = 0;
	size_t pos = cap - 1, i;
	ssize_t n;
	int r;

	if (cap < 2)
		return -EINVAL;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!dt_off_have(o, need[i]))
			return -ENOENT;
	buf[pos] = '\0';
	r = read_ptr(g, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_MNT], &vfsmnt);
	if (!r)
		r = read_ptr(g, file + o->off[DT_OFF_FILE_PATH] + o->off[DT_OFF_PATH_DENTRY],
			     &dentry);
	if (r)
		return r;
	mnt = vfsmnt - o->off[DT_OFF_MOUNT_MNT]; /* container_of(vfsmnt, struct mount, mnt) */
	for (;;) {
		r = read_ptr(g, dentry + o->off[DT_OFF_DENTRY_PARENT], &parent);
		if (r)
			return r;
		if (parent == dentry) {
			/* the root of this mount's file system: go on at its mountpoint */
			r = read_ptr(g, mnt + o->off[DT_OFF_MOUNT_PARENT], &mparent);
			if (r)
				return r;
			if (mparent == mnt)
				break; /* the root mount */
			if (++mounts > DT_PATH_MOUNTS)
				return -ELOOP;
			r = read_ptr(g, mnt + o->off[DT_OFF_MOUNT_MOUNTPOINT], &dentry);
			if (r)
				return r;
			mnt = mparent;
			continue;
		}
		if (++names > DT_PATH_DEPTH)
			return -ELOOP;
		r = read_ptr(g, dentry + o->off[DT_OFF_DENTRY_NAME] + o->off[DT_OFF_QSTR_NAME],
			     &name_va);
		if (r)
			return r;
		n = dt_guest_read_kstr(g, name_va, name, sizeof(name));
		if (n < 0)
			return n;
		if (n == 0 || memchr(name, '/', (size_t)n))
			return -EINVAL; /* no dentry below a root has an empty name or a slash */
		r = prepend(buf, &pos, name, (size_t)n);
		if (r)
			return r;
		dentry = parent;
	}
	if (pos == cap - 1)
		buf[--pos] = '/'; /* the root itself */
	memmove(buf, buf + pos, cap - pos);
	return (ssize_t)(cap - 1 - pos);
}
