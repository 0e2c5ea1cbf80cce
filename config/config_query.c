// SPDX-License-Identifier: GPL-2.0-only
/*
 * config_query.c - what the engine asks of a parsed configuration: VM selection,
 * System.map choice, the function set to probe (pre/post), pslist restriction.
 * All read-only on an immutable struct dt_config: any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"

/*
 * The default when no Functions line applies to a VM. Every probe hit stops a vCPU
 * for a round trip to dom0 (microseconds), so the default is the calls that matter
 * for security monitoring and are rare on a healthy system: program execution,
 * process creation and death, credential changes, signals and tracing of other
 * processes, network endpoints, kernel modules, mounts, kexec and bpf. Deliberately
 * left out: open/read/write/mmap/stat and friends, which run thousands of times a
 * second on a busy guest (name them in a Functions line to trace them).
 * Names the catalogue does not know are skipped.
 */
static const char *const default_functions[] = {
	"execve", "execveat", "fork", "vfork", "clone", "clone3", "do_exit",
	"kill", "tkill", "tgkill", "ptrace",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setfsuid", "setfsgid", "capset",
	"socketcall", "connect", "accept", "accept4", "bind", "listen",
	"init_module", "finit_module", "delete_module",
	"mount", "umount2", "umount", "pivot_root", "chroot",
	"kexec_load", "kexec_file_load", "bpf", "memfd_create",
	NULL,
};

const char *const *dt_config_default_functions(void)
{
	return default_functions;
}

bool dt_glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (!*s) {
			if (!*p)
				return true;
			goto backtrack;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			const char *q = p + 1;
			bool neg = false, hit = false;

			if (*q == '!' || *q == '^') {
				neg = true;
				q++;
			}
			/* ']' first in the set is literal */
			do {
				unsigned char lo = (unsigned char)*q, hi = lo;

				if (!*q)
					break;
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hi = (unsigned char)q[2];
					q += 2;
				}
				if ((unsigned char)*s >= lo && (unsigned char)*s <= hi)
					hit = true;
				q++;
			} while (*q != ']');
			if (*q == ']') {
				if (hit != neg) {
					p = q + 1;
					s++;
					continue;
				}
				goto backtrack;
			}
			/* unterminated '[': a literal '[' */
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p == *s) {
			p++;
			s++;
			continue;
		}
backtrack:
		if (!star_p || !*star_s)
			return false;
		p = star_p;
		s = ++star_s;
	}
}

static bool any_glob(char *const *globs, size_t n, const char *vm)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dt_glob_match(globs[i], vm))
			return true;
	return false;
}

bool dt_config_vm_monitored(const struct dt_config *cfg, const char *vm)
{
	if (cfg->nmonitor && !any_glob(cfg->monitor, cfg->nmonitor, vm))
		return false;
	return !any_glob(cfg->ignore, cfg->nignore, vm);
}

bool dt_config_section_applies(const struct dt_config *cfg, size_t idx, const char *vm)
{
	if (idx == 0)
		return true;
	if (idx >= cfg->nsections)
		return false;
	return any_glob(cfg->sections[idx].globs, cfg->sections[idx].nglobs, vm);
}

/* A kernel release from the guest becomes part of a path: keep it to one tame name. */
static bool safe_release(const char *r)
{
	size_t n = strnlen(r, 256);

	if (n == 0 || n >= 256 || r[0] == '.')
		return false;
	for (; *r; r++)
		if (*r == '/' || (unsigned char)*r <= ' ' || (unsigned char)*r >= 0x7f)
			return false;
	return true;
}

int dt_config_system_map(const struct dt_config *cfg, const char *vm, const char *release,
			 char *buf, size_t size)
{
	const char *path = NULL, *dir = NULL;
	unsigned best = 0;
	size_t i;
	int n;

	for (i = 0; i < cfg->nsections; i++) {
		const struct dt_config_section *s = &cfg->sections[i];

		if (!dt_config_section_applies(cfg, i, vm))
			continue;
		if (s->system_map && s->system_map_line > best) {
			best = s->system_map_line;
			path = s->system_map;
			dir = NULL;
		}
		if (s->system_map_dir && s->system_map_dir_line > best) {
			best = s->system_map_dir_line;
			dir = s->system_map_dir;
			path = NULL;
		}
	}
	if (path) {
		n = snprintf(buf, size, "%s", path);
	} else if (dir) {
		if (!release || !safe_release(release))
			return -EINVAL;
		n = snprintf(buf, size, "%s/System.map-%s", dir, release);
	} else {
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static void set_defaults(uint8_t *flags, size_t n)
{
	const char *const *name;
	int ids[64], k, c;

	for (name = default_functions; *name; name++) {
		c = dt_catalog_resolve(*name, ids, 64);
		for (k = 0; k < c && k < 64; k++)
			if (ids[k] >= 0 && (size_t)ids[k] < n)
				flags[ids[k]] |= DT_PROBE_PRE;
	}
}

static bool returns(int id)
{
	const struct dt_funcdesc *fd = dt_catalog_get(id);

	return fd && !(fd->flags & DT_FN_NORETURN);
}

int dt_config_vm_probes(const struct dt_config *cfg, const char *vm, uint8_t *flags, size_t n)
{
	bool has_line = false;
	size_t i, j, id;
	int count = 0;

	memset(flags, 0, n);
	if (n > cfg->ncatalog)
		n = cfg->ncatalog;
	for (i = 0; i < cfg->nsections; i++) {
		const struct dt_config_section *s = &cfg->sections[i];

		if (!dt_config_section_applies(cfg, i, vm))
			continue;
		if (!s->has_functions)
			continue;
		has_line = true;
		for (id = 0; id < n; id++)
			if (s->all_functions || (s->functions && s->functions[id]))
				flags[id] |= DT_PROBE_PRE;
	}
	if (!has_line)
		set_defaults(flags, n);
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (f->any_func || !dt_config_section_applies(cfg, f->section, vm))
			continue;
		for (j = 0; j < f->nfuncs; j++)
			if ((size_t)f->funcs[j] < n)
				flags[f->funcs[j]] |= DT_PROBE_PRE;
	}
	/* post probes: only on traced functions, never on ones that do not return */
	for (i = 0; i < cfg->nfilters; i++) {
		const struct dt_filter_spec *f = &cfg->filters[i];

		if (!(f->when & DT_WHEN_POST) || !dt_config_section_applies(cfg, f->section, vm))
			continue;
		if (f->any_func) {
			for (id = 0; id < n; id++)
				if (flags[id])
					flags[id] |= DT_PROBE_POST;
		} else {
			for (j = 0; j < f->nfuncs; j++)
				if ((size_t)f->funcs[j] < n)
					flags[f->funcs[j]] |= DT_PROBE_POST;
		}
	}
	/* No return probe for pslist's sake (the ancestor's post-call reloads, prior-art.md
	 * §1.13): the list is read afresh at each triggering call's entry. */
	for (id = 0; id < n; id++) {
		if (!flags[id])
			continue;
		if (!returns((int)id))
			flags[id] &= (uint8_t)~DT_PROBE_POST;
		count++;
	}
	return count;
}

bool dt_config_pslist_wants(const struct dt_config *cfg, const char *vm, const char *comm)
{
	bool any = false;
	size_t i, j;

	for (i = 0; i < cfg->nsections; i++) {
		const struct dt_config_section *s = &cfg->sections[i];

		if (!s->npslist_names || !dt_config_section_applies(cfg, i, vm))
			continue;
		any = true;
		for (j = 0; j < s->npslist_names; j++)
			if (strcmp(s->pslist_names[j], comm) == 0)
				return true;
	}
	return !any;
}
