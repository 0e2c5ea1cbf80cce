/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.h - the configuration file (docs/domtrace.conf.5): parsing, with every error
 * collected as "file:line:column: error: message (hint: ...)", and the questions the
 * engine asks of a parsed configuration (is VM x monitored, which System.map, which
 * functions to probe, before and/or after the call).
 *
 * Ownership: dt_config_parse_*() allocate a struct dt_config, which is immutable from
 * then on. Normally it is handed to dt_chain_new() (filter.h), which owns it and frees
 * it with the chain after an RCU grace period; otherwise dt_config_free() frees it.
 * Diagnostics belong to the caller's struct dt_config_diags (dt_config_diags_clear()).
 *
 * Threads: parsing runs on whichever thread loads the configuration (main, at start and
 * on SIGUSR2), and needs nothing but the catalogue (catalog.h). The query functions
 * read the immutable structure: any thread, any number at once. None of them logs.
 */
#ifndef DOMTRACE_CONFIG_H
#define DOMTRACE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domtrace/event.h"

struct pcre2_real_code_8; /* pcre2_code from <pcre2.h> with PCRE2_CODE_UNIT_WIDTH 8 */

/* Limits on what a configuration may hold (each exceeded one is an error). */
#define DT_CONFIG_MAX_BYTES (1u << 20) /* file size */
#define DT_CONFIG_MAX_LINE 8192	       /* bytes in one line */
#define DT_CONFIG_MAX_SECTIONS 256     /* Domain sections, plus the global one */
#define DT_CONFIG_MAX_FILTERS 4096
#define DT_CONFIG_MAX_DIAGS 100	       /* then "too many errors" and the parse stops */
#define DT_PROC_NAME_MAX 15	       /* a Linux comm keeps 15 bytes */

/* A regular expression as the user wrote it, compiled once (PCRE2, JIT when available). */
struct dt_regex {
	char *src;			/* pattern text (without the leading '!') */
	struct pcre2_real_code_8 *code; /* NULL: wildcard '*' */
	bool negate;			/* written "!re": matches when re does not */
	/* JIT-compiled and not in UTF mode (not even by a (*UTF) in the pattern): searched
	 * with pcre2_jit_match(), which skips pcre2_match()'s checks of the call. Those are
	 * about our own arguments except one, the subject's UTF validity, and guest strings
	 * are not valid UTF: a UTF pattern always goes through pcre2_match(). */
	bool jit_direct;
};

/* A process-id-like match: pid=, tid=, ppid=, ppid=^, uid=, ... */
struct dt_id_match {
	bool set;
	bool subtree; /* ppid=^N: the process or any of its ancestors */
	uint32_t value;
};

/* One Filter line. Fields the line did not give keep their "match anything" default. */
struct dt_filter_spec {
	uint32_t index;	  /* 1-based position in the chain (file order over all sections) */
	uint32_t section; /* index into dt_config.sections; 0 = global */
	unsigned line;
	char *function;	  /* as written; NULL when absent (= "*") */
	bool any_func;	  /* function absent or "*" */
	int *funcs;	  /* resolved catalogue ids, ascending, unique (NULL if any_func) */
	size_t nfuncs;
	char *argname;	  /* NULL: none; "*": any argument or decoding; else "arg" or "arg:dec" */
	struct dt_regex argval;
	enum dt_when when; /* PRE (default), POST or BOTH */
	struct dt_id_match pid, tid, ppid, uid, gid, euid, egid;
	char *name;	   /* comm to match, NULL: any */
	bool name_subtree; /* name=^S: the process or any ancestor is called S */
	bool apply;	   /* abort filter */
	int64_t abort_ret; /* apply=1: value the call returns (default -1, i.e. -EPERM) */
	struct dt_regex retval; /* apply=0, when=post: regex on the decimal return value */
};

/* The global section (index 0) and each `Domain` section. */
struct dt_config_section {
	char **globs; /* VM name globs; NULL (n 0) for the global section */
	size_t nglobs;
	unsigned line;
	bool has_functions;   /* at least one Functions line */
	bool all_functions;   /* "Functions *" */
	uint8_t *functions;   /* [catalogue size]: 1 = named by a Functions line */
	char **pslist_names;  /* ProcessListNames */
	size_t npslist_names;
	char *system_map;     /* SystemMap: path, resolved against the config's directory */
	char *system_map_dir; /* SystemMapDir: directory holding System.map-<release> */
	unsigned system_map_line, system_map_dir_line; /* which came last wins */
};

struct dt_config {
	char *path; /* as given to the parser ("<string>" style names for strings) */
	struct dt_config_section *sections; /* [0] is the global section */
	size_t nsections;
	struct dt_filter_spec *filters;
	size_t nfilters;
	char **monitor, **ignore; /* Monitor / Ignore globs */
	size_t nmonitor, nignore;
	size_t ncatalog; /* catalogue size the function sets are indexed by */
	bool regex_error_allow; /* OnRegexError allow (default deny) */
	unsigned regex_error_line; /* where OnRegexError was given, 0 if not */
};

struct dt_config_diag {
	unsigned line, col; /* 1-based; 0 when not about a line (e.g. cannot open file) */
	bool warning;
	char *text; /* "file:line:col: error: message (hint: ...)" */
};

struct dt_config_diags {
	struct dt_config_diag *v;
	size_t n;
	size_t nerrors; /* diagnostics that are errors, not warnings */
};

void dt_config_diags_clear(struct dt_config_diags *diags); /* frees the texts; NULL ok */

/*
 * Parse a configuration. On success returns 0 and sets *ret_cfg (diags may hold
 * warnings). On errors returns -EINVAL with every error appended to diags (at most
 * DT_CONFIG_MAX_DIAGS), *ret_cfg untouched. -ENOMEM on allocation failure; the file
 * variant returns -errno (and a diagnostic) when the file cannot be read.
 * `name` is what messages call the text; relative SystemMap paths stay relative.
 * diags may be NULL.
 */
int dt_config_parse_file(const char *path, struct dt_config **ret_cfg,
			 struct dt_config_diags *diags);
/*
 * The one loader of the daemon (start, -t, reloads): the file `path` (NULL: none),
 * then `extra` lines (the deprecated -s/-f options, "Functions ..."/"Filter ...",
 * at most DT_CONFIG_MAX_EXTRA), which messages call "-f #N" / "-s #N". The file is
 * opened without blocking and must be a regular file that only root or its owner can
 * have written (sshd's StrictModes: not writable by all, nor in a directory writable
 * by all unless sticky and ours); else -EINVAL with a diagnostic. Relative SystemMap
 * paths resolve against the file's directory. Otherwise as dt_config_parse_file.
 */
#define DT_CONFIG_MAX_EXTRA 64
int dt_config_load(const char *path, const char *const *extra, size_t nextra,
		   struct dt_config **ret_cfg, struct dt_config_diags *diags);
int dt_config_parse_string(const char *name, const char *text, size_t len,
			   struct dt_config **ret_cfg, struct dt_config_diags *diags);
void dt_config_free(struct dt_config *cfg); /* NULL ok */

/* fnmatch-like glob: '*', '?', '[a-z]', '[!x]', '\' escapes. No allocation, no locale. */
bool dt_glob_match(const char *pattern, const char *s);

/* Is the VM called `vm` traced? All VMs unless Monitor lines exist (then only those
 * matching one of them), minus those matching an Ignore glob. */
bool dt_config_vm_monitored(const struct dt_config *cfg, const char *vm);

/* Does section `idx` apply to VM `vm`? (Section 0 applies to every VM.) */
bool dt_config_section_applies(const struct dt_config *cfg, size_t idx, const char *vm);

/*
 * The System.map for VM `vm` whose kernel release (uname -r, read from the guest) is
 * `release`: the last SystemMap or SystemMapDir line in file order among the sections
 * that apply. Writes the path to buf and returns 0; -ENOENT if no line applies (the
 * engine falls back to -m); -EINVAL if a SystemMapDir applies but the release is not a
 * safe file name component (a guest controls it: '/', leading '.', controls, empty);
 * -ENAMETOOLONG if buf is too small.
 */
int dt_config_system_map(const struct dt_config *cfg, const char *vm, const char *release,
			 char *buf, size_t size);

/* Probe flags per catalogue function id. */
enum dt_probe_flags {
	DT_PROBE_PRE = 1u << 0,	 /* trace it: breakpoint at the entry */
	DT_PROBE_POST = 1u << 1, /* also stop after the call */
};

/*
 * What to probe on VM `vm`: fills flags[0..n) (n = catalogue size, see dt_catalog_funcs)
 * with enum dt_probe_flags and returns the number of traced functions.
 *   traced = the Functions lines of the sections that apply (or, when none of them has
 *            one, dt_config_default_functions()), plus every function a filter that
 *            applies names;
 *   POST   = traced functions that an applicable when=post/both filter names (or any
 *            traced function for such a filter with function=*). Never for functions
 *            that do not return. (pslist needs no return probe: it is sent at entry.)
 */
int dt_config_vm_probes(const struct dt_config *cfg, const char *vm, uint8_t *flags, size_t n);

/* Should a pslist event triggered by process `comm` on VM `vm` be sent? True when no
 * applicable ProcessListNames line exists, or comm is named in one. */
bool dt_config_pslist_wants(const struct dt_config *cfg, const char *vm, const char *comm);

/* The default function set (canonical catalogue names, NULL-terminated). */
const char *const *dt_config_default_functions(void);

#endif /* DOMTRACE_CONFIG_H */
