// SPDX-License-Identifier: GPL-2.0-only
/* Sample events for the reporter tests and benchmark (a3_events.h). */
#include <stdio.h>
#include <string.h>

#include "support/a3_events.h"

#define TEST_FUNC_OPENAT 257

struct dt_event *dt_test_ev_openat(enum dt_event_type type, const char *vm, const char *comm,
				   const char *filename, size_t arena)
{
	struct dt_event *ev;

	if (dt_event_new(type, arena, &ev) < 0)
		return NULL;
	ev->when = DT_WHEN_PRE;
	ev->seq = 1;
	ev->ts_ns = DT_TEST_TS;
	ev->domid = 3;
	ev->vcpu = 1;
	strncpy(ev->vm, vm, sizeof(ev->vm) - 1);
	ev->proc = (struct dt_proc_info){ .pid = 412, .tgid = 412, .ppid = 411, .rppid = 411,
					  .uid = 1000, .gid = 1000, .euid = 1000, .egid = 1000,
					  .task = 0xffff888003a1c000ull };
	strncpy(ev->proc.comm, comm, sizeof(ev->proc.comm) - 1);
	ev->func_id = TEST_FUNC_OPENAT;
	ev->func = "sys_openat";
	ev->nr = 257;
	ev->site = 0xffffffff81234560ull;
	ev->nargs = 4;
	ev->args[0] = (struct dt_arg){ .name = "dfd", .raw = 0xffffff9c, .value = "AT_FDCWD" };
	ev->args[1] = (struct dt_arg){ .name = "filename", .raw = 0x7ffd1000,
				       .value = dt_event_strdup(ev, filename, strlen(filename)) };
	ev->args[2] = (struct dt_arg){ .name = "flags", .raw = 0, .value = "O_RDONLY" };
	ev->args[3] = (struct dt_arg){ .name = "mode", .raw = 0, .value = "0" };
	if (type != DT_EV_CALL)
		ev->filter = 2;
	if (type == DT_EV_ABORT || type == DT_EV_WOULD_ABORT)
		ev->abort_ret = -13;
	return ev;
}

void dt_test_ev_post(struct dt_event *ev, int64_t ret, uint64_t latency_ns)
{
	ev->when = DT_WHEN_POST;
	ev->has_ret = true;
	ev->ret = ret;
	ev->latency_ns = latency_ns;
}

void dt_test_ev_ancestors(struct dt_event *ev)
{
	struct dt_proc_info *a = dt_event_alloc(ev, 2 * sizeof(*a));

	if (!a)
		return;
	memset(a, 0, 2 * sizeof(*a));
	a[0] = (struct dt_proc_info){ .pid = 411, .tgid = 411, .ppid = 1, .rppid = 1 };
	strcpy(a[0].comm, "bash");
	a[1] = (struct dt_proc_info){ .pid = 1, .tgid = 1, .ppid = 0, .rppid = 0 };
	strcpy(a[1].comm, "init");
	ev->anc = a;
	ev->nanc = 2;
}

struct dt_event *dt_test_ev_pslist(const char *vm, unsigned n)
{
	struct dt_event *ev;
	unsigned i;

	if (dt_event_new(DT_EV_PSLIST, n * sizeof(struct dt_pslist_entry) + 8, &ev) < 0)
		return NULL;
	ev->ts_ns = DT_TEST_TS;
	strncpy(ev->vm, vm, sizeof(ev->vm) - 1);
	ev->vcpu = 0;
	ev->proc = (struct dt_proc_info){ .pid = 412, .ppid = 411 };
	strcpy(ev->proc.comm, "bash");
	ev->ps = dt_event_alloc(ev, n * sizeof(*ev->ps));
	for (i = 0; ev->ps && i < n; i++) {
		ev->ps[i].pid = (int32_t)i + 1;
		ev->ps[i].ppid = (int32_t)i;
		memset(ev->ps[i].comm, 0, sizeof(ev->ps[i].comm));
		snprintf(ev->ps[i].comm, sizeof(ev->ps[i].comm), "p%u", i);
	}
	ev->nps = ev->ps ? n : 0;
	return ev;
}

const struct dt_funcdesc *dt_test_lookup(int func_id)
{
	static const struct dt_funcdesc openat = {
		.name = "openat", .nr64 = 257, .nr32 = 295, .nargs = 4,
		.flags = DT_FN_SYSCALL,
		.args = {
			{ "dfd", "int", DT_AT_DIRFD, DT_DIR_IN, -1 },
			{ "filename", "const char __user *", DT_AT_PATH, DT_DIR_IN, -1 },
			{ "flags", "int", DT_AT_OPEN_FLAGS, DT_DIR_IN, -1 },
			{ "mode", "umode_t", DT_AT_MODE, DT_DIR_IN, -1 },
		},
	};

	return func_id == TEST_FUNC_OPENAT ? &openat : NULL;
}
