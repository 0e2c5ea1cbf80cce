// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_build.c - kernel builds: one per (flavour, build number), cached on the host and
 * shared read-only by the VMs that run it; their System.map and offsets-profile files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_vm.h"

static void build_free(struct sim_build *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nsyms; i++)
		free(b->syms[i].name);
	free(b->syms);
	free(b->by_name);
	free(b->image);
	free(b->insn_start);
	free(b->relocs);
	free(b->btf);
	free(b);
}

void dt_sim_builds_free(struct sim_build *list)
{
	while (list) {
		struct sim_build *next = list->next;

		build_free(list);
		list = next;
	}
}

static const char *flavour_str(enum dt_sim_flavour f)
{
	return f == DT_SIM_FLAVOUR_66 ? "6.6" : "6.1";
}

static const char *ksyms_suffix(enum dt_sim_flavour f, enum dt_sim_ksyms k)
{
	if (k == (f == DT_SIM_FLAVOUR_66 ? DT_SIM_KSYMS_64 : DT_SIM_KSYMS_REL_SEQS))
		return "";
	return k == DT_SIM_KSYMS_NONE ? "-nokallsyms"
	       : k == DT_SIM_KSYMS_ABS ? "-kabs"
	       : k == DT_SIM_KSYMS_REL ? "-krel"
	       : k == DT_SIM_KSYMS_64  ? "-k64"
				       : "-krelseqs";
}

int dt_sim_build_get(struct dt_sim_host *h, enum dt_sim_flavour flavour, int build,
		     enum dt_sim_ksyms ksyms, const struct sim_build **ret)
{
	struct sim_build *b;
	uint64_t seed;
	int err;

	if (ksyms == DT_SIM_KSYMS_AUTO)
		ksyms = flavour == DT_SIM_FLAVOUR_66 ? DT_SIM_KSYMS_64 : DT_SIM_KSYMS_REL_SEQS;
	pthread_mutex_lock(&h->lock);
	for (b = h->builds; b; b = b->next) {
		if (b->flavour == flavour && b->build == build && b->ksyms == ksyms) {
			*ret = b;
			pthread_mutex_unlock(&h->lock);
			return 0;
		}
	}
	err = -ENOMEM;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto out;
	b->flavour = flavour;
	b->build = build;
	b->ksyms = ksyms;
	if (build)
		snprintf(b->release, sizeof(b->release), "%s.0-sim-%s-b%d%s", flavour_str(flavour),
			 flavour_str(flavour), build, ksyms_suffix(flavour, ksyms));
	else
		snprintf(b->release, sizeof(b->release), "%s.0-sim-%s%s", flavour_str(flavour),
			 flavour_str(flavour), ksyms_suffix(flavour, ksyms));
	snprintf(b->banner, sizeof(b->banner),
		 "Linux version %s (sim@domtrace) (gcc (Debian 12.2.0-14) 12.2.0, GNU ld (GNU "
		 "Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian %s (2024-01-01)\n",
		 b->release, b->release);
	seed = h->p.seed * 0x100000001b3ULL ^ ((uint64_t)flavour << 32) ^ (uint64_t)build;
	(void)sim_rand(&seed);
	dt_sim_layout_make(&b->l, flavour, seed);
	err = dt_sim_btf_make(&b->l, flavour, &b->btf, &b->btf_size);
	if (err)
		goto out;
	err = dt_sim_image_make(b, seed ^ 0x5bd1e995);
	if (err)
		goto out;
	b->next = h->builds;
	h->builds = b;
	*ret = b;
	b = NULL;
out:
	pthread_mutex_unlock(&h->lock);
	build_free(b);
	return err;
}

static int cmp_key(const void *k, const void *e)
{
	const struct sim_sym *const *s = e;

	return strcmp(k, (*s)->name);
}

int dt_sim_build_sym(const struct sim_build *b, const char *name, uint64_t *ret_addr,
		     bool *ret_percpu)
{
	struct sim_sym **s = bsearch(name, b->by_name, b->nsyms, sizeof(*b->by_name), cmp_key);

	if (!s)
		return -ENOENT;
	*ret_addr = (*s)->addr;
	if (ret_percpu)
		*ret_percpu = (*s)->percpu;
	return 0;
}

static int write_map(const struct sim_build *b, const char *path)
{
	char tmp[600];
	FILE *f;
	size_t i;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < b->nsyms; i++)
		fprintf(f, "%016llx %c %s\n", (unsigned long long)b->syms[i].addr, b->syms[i].type,
			b->syms[i].name);
	if (fclose(f))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		remove(tmp);
	return err;
}

static int write_profile(const struct sim_build *b, const char *path)
{
	const struct sim_layout *l = &b->l;
	const struct dt_sim_offsets *o = &l->o;
	char tmp[600];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "# domtrace offsets profile: \"key value\" lines, values in hex\n");
	fprintf(f, "release %s\n", b->release);
	fprintf(f, "task_struct.size 0x%x\n", o->task_size);
	fprintf(f, "task_struct.__state 0x%x\n", o->task_state);
	fprintf(f, "task_struct.stack 0x%x\n", o->task_stack);
	fprintf(f, "task_struct.flags 0x%x\n", o->task_flags);
	fprintf(f, "task_struct.tasks 0x%x\n", o->task_tasks);
	fprintf(f, "task_struct.mm 0x%x\n", o->task_mm);
	fprintf(f, "task_struct.active_mm 0x%x\n", l->task_active_mm);
	fprintf(f, "task_struct.exit_state 0x%x\n", o->task_exit_state);
	fprintf(f, "task_struct.exit_code 0x%x\n", o->task_exit_code);
	fprintf(f, "task_struct.pid 0x%x\n", o->task_pid);
	fprintf(f, "task_struct.tgid 0x%x\n", o->task_tgid);
	fprintf(f, "task_struct.real_parent 0x%x\n", o->task_real_parent);
	fprintf(f, "task_struct.parent 0x%x\n", o->task_parent);
	fprintf(f, "task_struct.children 0x%x\n", o->task_children);
	fprintf(f, "task_struct.sibling 0x%x\n", o->task_sibling);
	fprintf(f, "task_struct.group_leader 0x%x\n", o->task_group_leader);
	fprintf(f, "task_struct.real_cred 0x%x\n", o->task_real_cred);
	fprintf(f, "task_struct.cred 0x%x\n", o->task_cred);
	fprintf(f, "task_struct.comm 0x%x\n", o->task_comm);
	fprintf(f, "task_struct.start_time 0x%x\n", o->task_start_time);
	fprintf(f, "cred.uid 0x%x\ncred.gid 0x%x\ncred.suid 0x%x\ncred.sgid 0x%x\n", o->cred_uid,
		o->cred_gid, o->cred_suid, o->cred_sgid);
	fprintf(f, "cred.euid 0x%x\ncred.egid 0x%x\ncred.fsuid 0x%x\ncred.fsgid 0x%x\n",
		o->cred_euid, o->cred_egid, o->cred_fsuid, o->cred_fsgid);
	fprintf(f, "mm_struct.pgd 0x%x\n", o->mm_pgd);
	fprintf(f, "mm_struct.arg_start 0x%x\nmm_struct.arg_end 0x%x\n", o->mm_arg_start,
		o->mm_arg_end);
	fprintf(f, "linux_binprm.filename 0x%x\n", o->binprm_filename);
	fprintf(f, "filename.name 0x%x\n", o->filename_name);
	if (b->flavour == DT_SIM_FLAVOUR_66) {
		fprintf(f, "percpu.pcpu_hot 0x%llx\n", (unsigned long long)l->percpu_var);
		fprintf(f, "pcpu_hot.current_task 0x0\n");
	} else {
		fprintf(f, "percpu.current_task 0x%llx\n", (unsigned long long)l->percpu_var);
	}
	if (fclose(f))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		remove(tmp);
	return err;
}

int dt_sim_build_write_files(const struct sim_build *b, const char *dir, char *map_path,
			     size_t map_len, char *prof_path, size_t prof_len)
{
	int err;

	if ((size_t)snprintf(map_path, map_len, "%s/System.map-%s", dir, b->release) >= map_len ||
	    (size_t)snprintf(prof_path, prof_len, "%s/offsets-%s.profile", dir, b->release) >=
		    prof_len)
		return -ENAMETOOLONG;
	err = write_map(b, map_path);
	if (!err)
		err = write_profile(b, prof_path);
	return err;
}
