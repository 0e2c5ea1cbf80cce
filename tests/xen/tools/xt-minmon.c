// SPDX-License-Identifier: GPL-2.0-only
/*
 * xt-minmon - the least a vm_event monitor can do, as the Xen tier's yardstick.
 *
 *   xt-minmon [-i] DOMID [FUNC_VADDR] [SECONDS]
 *
 * It enables the domain's monitor ring with descriptor-access events (what domtrace's
 * `--trap sgdt` uses under QEMU TCG), or with -i software-breakpoint events (`--trap int3`),
 * and answers every event at once: no guest memory read, no decoding, no reporting. With
 * FUNC_VADDR (a kernel function's address, e.g. from /proc/kallsyms of the same kernel) it
 * also writes one probe over the 5-byte ftrace nop at the function's entry (after an endbr64
 * if there is one), `sgdt -0x10(%rsp)` or with -i one int3 byte, and answers a hit there by
 * moving RIP past the nop - the same probe domtrace writes, handled with no work. An int3
 * that is not ours is given back to the guest.
 * Without FUNC_VADDR it writes nothing: "monitoring on, no probe", one of the tier's
 * control modes (docs/XEN-TIER.md). Any other descriptor access is emulated by Xen.
 *
 * It runs until SIGTERM/SIGINT or SECONDS, then puts the original bytes back with the domain
 * paused, answers what is still on the ring, disables the monitor and prints one line:
 *   xt-minmon: dom D: hits N, other M, handler p50 X us p99 Y us max Z us,
 *              dom0 cpu U us user S us system (per hit: P us)
 * "handler" is the time from taking a request off the ring to notifying Xen of its answer.
 * It shares no code with domtrace on purpose (a baseline must not inherit its costs).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#define XC_WANT_COMPAT_DEVICEMODEL_API 1 /* xc_hvm_inject_trap */
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/vm_event.h>

#define PAGE 4096ul
#define SAMPLES (1u << 20)
#define SW_EXCEPTION 6 /* Xen's X86_EVENTTYPE_SW_EXCEPTION: an int3 */

static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t sgdt[] = { 0x0f, 0x01, 0x44, 0x24, 0xf0 }; /* sgdt -0x10(%rsp) */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct mon {
	uint32_t dom;
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	void *ring_page;
	vm_event_back_ring_t back;
	int port;
	bool monitor_on, event_on, paused;
	bool int3;     /* software breakpoints, not descriptor accesses */
	uint64_t site; /* 0: no probe */
	uint8_t *site_map;
	size_t site_off;
	uint64_t hits, other;
	uint32_t *lat_ns; /* handler time per hit */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Map the page holding kernel VA va writable; *ret_off is va's offset in it. */
static uint8_t *map_va(struct mon *m, uint64_t va, size_t *ret_off)
{
	xen_pfn_t gfn = xc_translate_foreign_address(m->xch, m->dom, 0, va);
	int err = 0;
	uint8_t *p;

	if (!gfn)
		return NULL;
	p = xenforeignmemory_map(m->fmem, m->dom, PROT_READ | PROT_WRITE, 1, &gfn, &err);
	if (!p || err) {
		if (p)
			xenforeignmemory_unmap(m->fmem, p, 1);
		return NULL;
	}
	*ret_off = va & (PAGE - 1);
	return p;
}

/* Write the probe with the domain paused; the site must be the ftrace nop5. */
static int arm(struct mon *m, uint64_t func)
{
	size_t off;
	uint8_t *p;

	if (xc_domain_pause(m->xch, m->dom) < 0)
		return -errno;
	m->paused = true;
	p = map_va(m, func, &off);
	if (!p) {
		fprintf(stderr, "xt-minmon: cannot map 0x%lx\n", (unsigned long)func);
		return -EFAULT;
	}
	if (off + sizeof(endbr64) + sizeof(nop5) <= PAGE && !memcmp(p + off, endbr64, sizeof(endbr64)))
		off += sizeof(endbr64), func += sizeof(endbr64);
	if (off + sizeof(nop5) > PAGE || memcmp(p + off, nop5, sizeof(nop5))) {
		fprintf(stderr, "xt-minmon: 0x%lx is not an ftrace nop5; nothing written\n",
			(unsigned long)func);
		xenforeignmemory_unmap(m->fmem, p, 1);
		return -EINVAL;
	}
	if (m->int3)
		p[off] = 0xcc;
	else
		memcpy(p + off, sgdt, sizeof(sgdt));
	m->site = func, m->site_map = p, m->site_off = off;
	if (xc_domain_unpause(m->xch, m->dom) < 0)
		return -errno;
	m->paused = false;
	return 0;
}

static void answer(struct mon *m, const vm_event_request_t *req)
{
	vm_event_response_t rsp;

	memset(&rsp, 0, sizeof(rsp));
	rsp.version = VM_EVENT_INTERFACE_VERSION;
	rsp.vcpu_id = req->vcpu_id;
	rsp.reason = req->reason;
	rsp.flags = req->flags & VM_EVENT_FLAG_VCPU_PAUSED;
	rsp.u = req->u;
	uint32_t ours = m->int3 ? VM_EVENT_REASON_SOFTWARE_BREAKPOINT : VM_EVENT_REASON_DESCRIPTOR_ACCESS;

	if (req->reason == ours && m->site && req->data.regs.x86.rip == m->site) {
		/* our probe, or a vCPU that was on it when it was taken out: over the nop5 */
		rsp.flags |= VM_EVENT_FLAG_SET_REGISTERS;
		rsp.data.regs.x86 = req->data.regs.x86;
		rsp.data.regs.x86.rip += sizeof(nop5);
		m->hits++;
	} else {
		if (req->reason == VM_EVENT_REASON_DESCRIPTOR_ACCESS)
			rsp.flags |= VM_EVENT_FLAG_EMULATE;
		else if (req->reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT)
			/* the guest's own int3 (a kprobe, a text_poke): its #BP, as if unwatched */
			xc_hvm_inject_trap(m->xch, m->dom, (int)req->vcpu_id, 3, SW_EXCEPTION,
					   (uint32_t)-1, req->u.software_breakpoint.insn_length, 0);
		m->other++;
	}
	memcpy(RING_GET_RESPONSE(&m->back, m->back.rsp_prod_pvt), &rsp, sizeof(rsp));
	m->back.rsp_prod_pvt++;
}

/* Answer every request on the ring; returns how many. */
static unsigned serve(struct mon *m)
{
	unsigned n = 0;

	for (;;) {
		RING_IDX prod = m->back.sring->req_prod;
		vm_event_request_t req;
		uint64_t t0;

		xen_rmb();
		if (m->back.req_cons == prod)
			break;
		while (m->back.req_cons != prod) {
			t0 = now_ns();
			memcpy(&req, RING_GET_REQUEST(&m->back, m->back.req_cons), sizeof(req));
			m->back.req_cons++;
			m->back.sring->req_event = m->back.req_cons + 1;
			if (req.version != VM_EVENT_INTERFACE_VERSION) {
				fprintf(stderr, "xt-minmon: request version %u\n", req.version);
				stop = 1;
				continue;
			}
			uint64_t h = m->hits;

			answer(m, &req);
			RING_PUSH_RESPONSES(&m->back);
			xenevtchn_notify(m->xce, m->port);
			if (m->hits != h && h < SAMPLES) {
				uint64_t d = now_ns() - t0;

				m->lat_ns[h] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
			}
			n++;
		}
	}
	return n;
}

static int setup(struct mon *m)
{
	uint32_t remote;
	int port;

	m->xch = xc_interface_open(NULL, NULL, 0);
	m->fmem = xenforeignmemory_open(NULL, 0);
	m->xce = xenevtchn_open(NULL, 0);
	if (!m->xch || !m->fmem || !m->xce)
		return -errno;
	m->ring_page = xc_monitor_enable(m->xch, m->dom, &remote);
	if (!m->ring_page)
		return -errno;
	m->monitor_on = true;
	port = xenevtchn_bind_interdomain(m->xce, m->dom, remote);
	if (port < 0)
		return -errno;
	m->port = port;
	SHARED_RING_INIT((vm_event_sring_t *)m->ring_page);
	BACK_RING_INIT(&m->back, (vm_event_sring_t *)m->ring_page, PAGE);
	if ((m->int3 ? xc_monitor_software_breakpoint(m->xch, m->dom, true)
		     : xc_monitor_descriptor_access(m->xch, m->dom, true)) < 0)
		return -errno;
	m->event_on = true;
	return 0;
}

/* Every exit path: original bytes back (domain paused), ring drained, monitor off. */
static void teardown(struct mon *m)
{
	if (m->xch && !m->paused && xc_domain_pause(m->xch, m->dom) == 0)
		m->paused = true;
	if (m->site_map) {
		memcpy(m->site_map + m->site_off, nop5, sizeof(nop5));
		xenforeignmemory_unmap(m->fmem, m->site_map, 1);
		m->site_map = NULL;
	}
	if (m->event_on)
		(void)(m->int3 ? xc_monitor_software_breakpoint(m->xch, m->dom, false)
			       : xc_monitor_descriptor_access(m->xch, m->dom, false));
	if (m->monitor_on) {
		serve(m); /* paused vCPUs waiting on us: answered, then let go below */
		if (xc_monitor_disable(m->xch, m->dom) < 0 && errno == EBUSY) {
			usleep(20000);
			serve(m);
			(void)xc_monitor_disable(m->xch, m->dom);
		}
		munmap(m->ring_page, PAGE);
	}
	if (m->paused)
		(void)xc_domain_unpause(m->xch, m->dom);
	if (m->xce)
		xenevtchn_close(m->xce);
	if (m->fmem)
		xenforeignmemory_close(m->fmem);
	if (m->xch)
		xc_interface_close(m->xch);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const struct mon *m)
{
	struct rusage ru;
	uint64_t n = m->hits < SAMPLES ? m->hits : SAMPLES;
	double u, s, p50 = 0, p99 = 0, max = 0;

	getrusage(RUSAGE_SELF, &ru);
	u = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec;
	s = ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
	if (n) {
		qsort(m->lat_ns, n, sizeof(*m->lat_ns), cmp_u32);
		p50 = m->lat_ns[n / 2] / 1e3;
		p99 = m->lat_ns[(n * 99) / 100] / 1e3;
		max = m->lat_ns[n - 1] / 1e3;
	}
	printf("xt-minmon: dom %u: hits %lu, other %lu, handler p50 %.1f us p99 %.1f us max %.1f us, "
	       "dom0 cpu %.0f us user %.0f us system (per hit: %.1f us)\n",
	       m->dom, (unsigned long)m->hits, (unsigned long)m->other, p50, p99, max, u, s,
	       m->hits ? (u + s) / m->hits : 0.0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct mon m = { .port = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t func = 0, deadline = 0;
	int r, fd;

	if (argc > 1 && !strcmp(argv[1], "-i")) {
		m.int3 = true;
		argv++, argc--;
	}
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: xt-minmon [-i] DOMID [FUNC_VADDR|0] [SECONDS]\n");
		return 2;
	}
	m.dom = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		func = strtoull(argv[2], NULL, 16);
	if (argc > 3)
		deadline = now_ns() + strtoull(argv[3], NULL, 0) * 1000000000ull;
	m.lat_ns = calloc(SAMPLES, sizeof(*m.lat_ns));
	if (!m.lat_ns)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = setup(&m);
	if (r == 0 && func)
		r = arm(&m, func);
	if (r < 0) {
		fprintf(stderr, "xt-minmon: dom %u: setup failed: %s\n", m.dom, strerror(-r));
		teardown(&m);
		return 1;
	}
	fprintf(stderr, "xt-minmon: dom %u: monitoring %s, %s\n", m.dom,
		m.int3 ? "int3" : "sgdt", m.site ? "one probe" : "no probe written");
	fd = xenevtchn_fd(m.xce);
	while (!stop && (!deadline || now_ns() < deadline)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		/* no timer while idle: SIGTERM ends the wait (no SA_RESTART) */
		int64_t left = deadline ? (int64_t)(deadline - now_ns()) : -1;
		int tmo = !deadline ? -1 : left > 0 ? (int)(left / 1000000) + 1 : 0;

		if (poll(&pfd, 1, tmo) > 0) {
			int p = xenevtchn_pending(m.xce);

			if (p >= 0)
				xenevtchn_unmask(m.xce, p);
		}
		serve(&m);
	}
	teardown(&m);
	report(&m);
	free(m.lat_ns);
	return 0;
}
