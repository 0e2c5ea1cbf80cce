// SPDX-License-Identifier: GPL-2.0-only
/* chains.c - building filter chains and events for the filter tests (support/chains.h). */
#include <check.h>
#include <string.h>

#include "support/chains.h"
#include "domtrace/catalog.h"
#include "domtrace/config.h"

int tf_fid(const char *name)
{
	int ids[64];

	ck_assert_msg(dt_catalog_resolve(name, ids, 64) > 0, "catalogue lacks %s", name);
	return ids[0];
}

struct dt_chain *tf_chain_of(const char *text)
{
	struct dt_config_diags d = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *c = NULL;
	int r = dt_config_parse_string("t.conf", text, strlen(text), &cfg, &d);
	size_t e = 0;

	while (e + 1 < d.n && d.v[e].warning)
		e++; /* the first error, past the warnings */
	ck_assert_msg(r == 0, "parse: %s", d.n ? d.v[e].text : "?");
	ck_assert_int_eq(dt_chain_new(cfg, &c), 0);
	dt_config_diags_clear(&d);
	return c;
}

struct dt_event *tf_event(const char *func, enum dt_when when)
{
	struct dt_event *ev;
	const struct dt_funcdesc *fd;
	unsigned i;

	ck_assert_int_eq(dt_event_new(DT_EV_CALL, 4096, &ev), 0);
	ev->when = when;
	ev->func_id = tf_fid(func);
	fd = dt_catalog_get(ev->func_id);
	ev->func = fd->name;
	ev->nargs = fd->nargs;
	for (i = 0; i < fd->nargs; i++)
		ev->args[i].name = fd->args[i].name;
	ev->proc = (struct dt_proc_info){ .pid = 101, .tgid = 100, .ppid = 50, .rppid = 50,
					  .uid = 1000, .gid = 100, .euid = 0, .egid = 10 };
	strcpy(ev->proc.comm, "bash");
	strcpy(ev->vm, "web-1");
	return ev;
}

void tf_setarg(struct dt_event *ev, unsigned i, const char *value)
{
	ck_assert_uint_lt(i, ev->nargs);
	ev->args[i].value = dt_event_strdup(ev, value, strlen(value));
}

struct dt_chain_reader *tf_reader(const char *vm)
{
	struct dt_chain_reader *rd = NULL;

	ck_assert_int_eq(dt_chain_reader_new(vm, &rd), 0);
	return rd;
}

/* Index of the first matching filter, 0 if none. */
uint32_t tf_first(struct dt_chain *c, struct dt_chain_reader *rd, const struct dt_event *ev,
		      const struct dt_ancestry *anc)
{
	struct dt_match m = { 0 };

	if (!dt_chain_match(c, rd, ev, anc, &m))
		return 0;
	ck_assert_uint_gt(m.filter, 0);
	return m.filter;
}

