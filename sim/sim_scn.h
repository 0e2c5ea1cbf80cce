/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim_scn.h - scenario scripts shared by the parser (sim_scn_parse.c) and the runner
 * (sim_scn.c). Private to sim/.
 */
#ifndef DOMTRACE_SIM_SCN_H
#define DOMTRACE_SIM_SCN_H

#include "sim_vm.h"

#define SCN_MAX_ARGS 6
#define SCN_MAX_STRV 16

enum ak { AK_INT, AK_STR, AK_BUF, AK_STRV, AK_SIN, AK_SIN6, AK_SUN, AK_INTP, AK_REF, AK_INTV };

struct sarg {
	enum ak kind;
	bool np;
	int64_t v;
	char *s;	     /* AK_STR, AK_SUN */
	size_t len;	     /* AK_STR byte count incl. NUL, AK_BUF size */
	char *strv[SCN_MAX_STRV]; /* AK_STRV */
	size_t nstrv;
	uint8_t addr[16];
	uint16_t port;
	char ref[32];
	int32_t iv[SCN_MAX_STRV]; /* AK_INTV */
};

enum sk { SK_CALL, SK_SLEEP, SK_SEGV, SK_AWAIT };

struct sstep {
	enum sk kind;
	int line;
	int nr;
	char label[32];
	int child;
	struct sarg a[SCN_MAX_ARGS];
	int na;
	int64_t ms;
	char *race; /* race="...": written over the path after entry (open/openat) */
	size_t race_len;
};

struct sim_script {
	struct sim_script *next;
	struct sim_script *next_start; /* file order, while starting */
	char vm[DT_VM_NAME_MAX];
	uint32_t domid;
	int pid, ppid, line;
	char comm[16];
	uint32_t ids[8];
	bool compat, forked, finished;
	struct sstep *steps;
	size_t n, cap;
};

struct vmdecl {
	struct vmdecl *next;
	struct dt_sim_vm_params p;
	int line;
};

struct parse {
	const char *fname;
	int line;
	char *err;
	size_t errlen;
	bool failed;
	struct vmdecl *vms;
	struct sim_script *scripts;
	char cur_vm[DT_VM_NAME_MAX];
};

/* Parsing one line; errors go to ps (first one wins, "<file>:<line>: message"). */
void dt_sim_scn_perr(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_sim_scn_parse_line(struct dt_sim_host *h, struct parse *ps, char *line);

#endif /* DOMTRACE_SIM_SCN_H */
