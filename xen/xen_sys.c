// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen_sys.c - dt_xen_sys_real: the backend's only calls into Xen 4.17's libraries.
 *
 * Each function is a thin translation: libxen's -1/errno (or NULL/errno) becomes -errno,
 * ESRCH ("no such domain") becomes -ENODEV. Nothing here logs: every handle gets a silent
 * xentoollog logger (a NULL logger would print to stderr).
 *
 * Handles: the host has one xc_interface and one xenstore connection (used under the host
 * lock). Each attached domain gets its own xc_interface, foreign-memory and event-channel
 * handles, used only by that domain's worker thread; its event channel fd is non-blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "xen_internal.h"

#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#define WATCH_TOKEN "domtrace"
#define WATCH_DRAIN_MAX 4096

struct sys_host {
	xc_interface *xch;
	struct xs_handle *xsh;
	int watch_fd;
};

struct sys_dom {
	uint32_t domid;
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
};

static void quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level,
			   int errnoval, const char *context, const char *format, va_list al)
{
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
}

static xentoollog_logger quiet_logger = {
	.vmessage = quiet_vmessage,
	.progress = NULL,
	.destroy = quiet_destroy,
};

static int neg_errno(void)
{
	int e = errno;

	if (e == ESRCH)
		return -ENODEV;
	return e > 0 ? -e : -EIO;
}

/* ------------------------------------------------------------------ host */

static void host_close(void *h)
{
	struct sys_host *host = h;

	if (!host)
		return;
	if (host->xsh) {
		(void)xs_unwatch(host->xsh, DT_XEN_WATCH_INTRODUCE, WATCH_TOKEN);
		(void)xs_unwatch(host->xsh, DT_XEN_WATCH_RELEASE, WATCH_TOKEN);
		xs_close(host->xsh);
	}
	if (host->xch)
		xc_interface_close(host->xch);
	free(host);
}

static int host_open(void **ret_host)
{
	struct sys_host *host;
	int r;

	host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	host->xch = xc_interface_open(&quiet_logger, &quiet_logger, 0);
	if (!host->xch)
		goto fail;
	host->xsh = xs_open(0);
	if (!host->xsh)
		goto fail;
	if (!xs_watch(host->xsh, DT_XEN_WATCH_INTRODUCE, WATCH_TOKEN) ||
	    !xs_watch(host->xsh, DT_XEN_WATCH_RELEASE, WATCH_TOKEN))
		goto fail;
	host->watch_fd = xs_fileno(host->xsh);
	if (host->watch_fd < 0)
		goto fail;
	*ret_host = host;
	return 0;
fail:
	r = neg_errno();
	host_close(host);
	return r;
}

static void from_domaininfo(const xc_domaininfo_t *x, struct dt_xen_dominfo *ret)
{
	*ret = (struct dt_xen_dominfo){
		.domid = x->domain,
		.vcpus = x->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : x->max_vcpu_id + 1,
		.hvm = x->flags & XEN_DOMINF_hvm_guest,
		.dying = x->flags & XEN_DOMINF_dying,
		.paused = x->flags & XEN_DOMINF_paused,
	};
	memcpy(ret->handle, x->handle, sizeof(ret->handle));
}

static int host_list(void *h, uint32_t first, struct dt_xen_dominfo *buf, size_t max,
		     size_t *ret_n)
{
	struct sys_host *host = h;
	xc_domaininfo_t *info;
	int got, i;

	info = calloc(max ? max : 1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	got = xc_domain_getinfolist(host->xch, first, (unsigned)max, info);
	if (got < 0) {
		got = neg_errno();
		free(info);
		return got;
	}
	for (i = 0; i < got && (size_t)i < max; i++)
		from_domaininfo(&info[i], &buf[i]);
	free(info);
	*ret_n = (size_t)i;
	return 0;
}

static int host_name(void *h, uint32_t domid, char *buf, size_t size)
{
	struct sys_host *host = h;
	unsigned int len = 0;
	char path[64];
	char *value;
	size_t n;

	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	value = xs_read(host->xsh, XBT_NULL, path, &len);
	if (!value)
		return -ENOENT;
	n = len < size - 1 ? len : size - 1;
	memcpy(buf, value, n);
	buf[n] = '\0';
	free(value);
	return 0;
}

static int host_watch_fd(void *h)
{
	return ((struct sys_host *)h)->watch_fd;
}

static int host_watch_drain(void *h)
{
	struct sys_host *host = h;
	int n, events = 0;

	for (n = 0; n < WATCH_DRAIN_MAX; n++) {
		char **vec = xs_check_watch(host->xsh);

		if (!vec)
			return errno == EAGAIN ? events : neg_errno();
		if (dt_xen_watch_is_domain_event(vec[XS_WATCH_PATH]))
			events++;
		free(vec);
	}
	return events;
}

/* ------------------------------------------------------------------ domain */

static void dom_detach(void *d)
{
	struct sys_dom *sd = d;

	if (!sd)
		return;
	if (sd->xce)
		xenevtchn_close(sd->xce);
	if (sd->fmem)
		xenforeignmemory_close(sd->fmem);
	if (sd->xch)
		xc_interface_close(sd->xch);
	free(sd);
}

static int dom_attach(void *h, uint32_t domid, void **ret_sd)
{
	struct sys_dom *sd;
	int fd, flags, r;

	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->domid = domid;
	sd->xch = xc_interface_open(&quiet_logger, &quiet_logger, 0);
	if (!sd->xch)
		goto fail;
	sd->fmem = xenforeignmemory_open(&quiet_logger, 0);
	if (!sd->fmem)
		goto fail;
	sd->xce = xenevtchn_open(&quiet_logger, 0);
	if (!sd->xce)
		goto fail;
	/* next_trap must never block: xenevtchn_pending() reads this fd. */
	fd = xenevtchn_fd(sd->xce);
	flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		goto fail;
	*ret_sd = sd;
	return 0;
fail:
	r = neg_errno();
	dom_detach(sd);
	return r;
}

static int dom_info(void *d, struct dt_xen_dominfo *ret_info)
{
	struct sys_dom *sd = d;
	xc_domaininfo_t info;
	int got;

	got = xc_domain_getinfolist(sd->xch, sd->domid, 1, &info);
	if (got < 0)
		return neg_errno();
	if (got != 1 || info.domain != sd->domid)
		return -ENODEV;
	from_domaininfo(&info, ret_info);
	return 0;
}

static int monitor_caps(void *d, uint32_t *ret_caps)
{
	struct sys_dom *sd = d;

	return xc_monitor_get_capabilities(sd->xch, sd->domid, ret_caps) < 0 ? neg_errno() : 0;
}

static int monitor_enable(void *d, void **ret_ring_page, uint32_t *ret_remote_port)
{
	struct sys_dom *sd = d;
	void *ring = xc_monitor_enable(sd->xch, sd->domid, ret_remote_port);

	if (!ring)
		return neg_errno();
	*ret_ring_page = ring;
	return 0;
}

static void ring_unmap(void *d, void *ring_page)
{
	munmap(ring_page, XC_PAGE_SIZE);
}

static int monitor_disable(void *d)
{
	struct sys_dom *sd = d;

	return xc_monitor_disable(sd->xch, sd->domid) < 0 ? neg_errno() : 0;
}

static int monitor_resume(void *d)
{
	struct sys_dom *sd = d;

	return xc_monitor_resume(sd->xch, sd->domid) < 0 ? neg_errno() : 0;
}

static int monitor_event(void *d, enum dt_trap_flavour flavour, bool on)
{
	struct sys_dom *sd = d;
	int r;

	if (flavour == DT_TRAP_SGDT)
		r = xc_monitor_descriptor_access(sd->xch, sd->domid, on);
	else
		r = xc_monitor_software_breakpoint(sd->xch, sd->domid, on);
	return r < 0 ? neg_errno() : 0;
}

static int evtchn_bind(void *d, uint32_t remote_port, uint32_t *ret_local_port)
{
	struct sys_dom *sd = d;
	xenevtchn_port_or_error_t port;

	port = xenevtchn_bind_interdomain(sd->xce, sd->domid, remote_port);
	if (port < 0)
		return neg_errno();
	*ret_local_port = (uint32_t)port;
	return 0;
}

static int evtchn_unbind(void *d, uint32_t local_port)
{
	struct sys_dom *sd = d;

	return xenevtchn_unbind(sd->xce, local_port) < 0 ? neg_errno() : 0;
}

static int evtchn_fd(void *d)
{
	return xenevtchn_fd(((struct sys_dom *)d)->xce);
}

static int evtchn_pending(void *d)
{
	struct sys_dom *sd = d;
	xenevtchn_port_or_error_t port = xenevtchn_pending(sd->xce);

	if (port < 0)
		return errno == EAGAIN ? -EAGAIN : neg_errno();
	return port;
}

static int evtchn_unmask(void *d, uint32_t local_port)
{
	struct sys_dom *sd = d;

	return xenevtchn_unmask(sd->xce, local_port) < 0 ? neg_errno() : 0;
}

static int evtchn_notify(void *d, uint32_t local_port)
{
	struct sys_dom *sd = d;

	return xenevtchn_notify(sd->xce, local_port) < 0 ? neg_errno() : 0;
}

static void *map(void *d, uint64_t gfn, bool writable, int *ret_err)
{
	struct sys_dom *sd = d;
	xen_pfn_t pfn = gfn;
	int err = 0;
	void *page;

	page = xenforeignmemory_map(sd->fmem, sd->domid, writable ? PROT_READ | PROT_WRITE
								 : PROT_READ,
				    1, &pfn, &err);
	if (!page) {
		*ret_err = errno == EFAULT || errno == ENOENT ? -EFAULT : neg_errno();
		return NULL;
	}
	if (err) {
		/* The gfn is not backed by RAM we may map (hole, MMIO, paged out). */
		(void)xenforeignmemory_unmap(sd->fmem, page, 1);
		*ret_err = -EFAULT;
		return NULL;
	}
	return page;
}

static void unmap(void *d, void *page)
{
	struct sys_dom *sd = d;

	(void)xenforeignmemory_unmap(sd->fmem, page, 1);
}

static int get_cpu(void *d, uint32_t vcpu, struct hvm_hw_cpu *ret_cpu)
{
	struct sys_dom *sd = d;

	if (vcpu > UINT16_MAX)
		return -EINVAL;
	if (xc_domain_hvm_getcontext_partial(sd->xch, sd->domid, HVM_SAVE_CODE(CPU),
					     (uint16_t)vcpu, ret_cpu, sizeof(*ret_cpu)) < 0)
		return neg_errno();
	return 0;
}

static int set_gprs(void *d, uint32_t vcpu, const struct dt_regs *regs)
{
	struct sys_dom *sd = d;
	vcpu_guest_context_any_t ctx;
	struct cpu_user_regs_x86_64 *u = &ctx.x64.user_regs;

	/* Read-modify-write of the whole vCPU context: only the GPRs, rip and rflags change
	 * (flags such as VGCF_online and the debug registers round-trip unchanged). */
	if (xc_vcpu_getcontext(sd->xch, sd->domid, vcpu, &ctx) < 0)
		return neg_errno();
	u->rax = regs->rax, u->rbx = regs->rbx, u->rcx = regs->rcx, u->rdx = regs->rdx;
	u->rsi = regs->rsi, u->rdi = regs->rdi, u->rbp = regs->rbp, u->rsp = regs->rsp;
	u->r8 = regs->r8, u->r9 = regs->r9, u->r10 = regs->r10, u->r11 = regs->r11;
	u->r12 = regs->r12, u->r13 = regs->r13, u->r14 = regs->r14, u->r15 = regs->r15;
	u->rip = regs->rip;
	u->rflags = regs->rflags;
	if (xc_vcpu_setcontext(sd->xch, sd->domid, vcpu, &ctx) < 0)
		return neg_errno();
	return 0;
}

static int inject_int3(void *d, uint32_t vcpu, uint8_t type, uint8_t insn_len)
{
	struct sys_dom *sd = d;

	if (xc_hvm_inject_trap(sd->xch, sd->domid, (int)vcpu, 3, type, (uint32_t)-1, insn_len,
			       0) < 0)
		return neg_errno();
	return 0;
}

static int pause_dom(void *d)
{
	struct sys_dom *sd = d;

	return xc_domain_pause(sd->xch, sd->domid) < 0 ? neg_errno() : 0;
}

static int unpause_dom(void *d)
{
	struct sys_dom *sd = d;

	return xc_domain_unpause(sd->xch, sd->domid) < 0 ? neg_errno() : 0;
}

const struct dt_xen_sys_ops dt_xen_sys_real = {
	.host_open = host_open,
	.host_close = host_close,
	.list = host_list,
	.name = host_name,
	.watch_fd = host_watch_fd,
	.watch_drain = host_watch_drain,
	.dom_attach = dom_attach,
	.dom_detach = dom_detach,
	.dom_info = dom_info,
	.monitor_caps = monitor_caps,
	.monitor_enable = monitor_enable,
	.ring_unmap = ring_unmap,
	.monitor_disable = monitor_disable,
	.monitor_resume = monitor_resume,
	.monitor_event = monitor_event,
	.evtchn_bind = evtchn_bind,
	.evtchn_unbind = evtchn_unbind,
	.evtchn_fd = evtchn_fd,
	.evtchn_pending = evtchn_pending,
	.evtchn_unmask = evtchn_unmask,
	.evtchn_notify = evtchn_notify,
	.map = map,
	.unmap = unmap,
	.get_cpu = get_cpu,
	.set_gprs = set_gprs,
	.inject_int3 = inject_int3,
	.pause = pause_dom,
	.unpause = unpause_dom,
};
