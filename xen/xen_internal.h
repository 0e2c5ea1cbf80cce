/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen_internal.h - the parts of the Xen backend, and the seam that keeps libxen* apart.
 *
 * The backend is split so that everything but the libxen* calls runs without a hypervisor:
 *   xen_walk.c      guest page-table walker and guest-virtual access (pure: reads through
 *                   a physical-memory callback)
 *   xen_mapcache.c  cache of foreign-mapped guest pages (maps through a callback pair)
 *   xen_ring.c      vm_event ring consumer, request -> struct dt_trap, response builder,
 *                   register conversions (pure: works on a ring page in memory)
 *   xen_domlist.c   domain-list filtering and diffing, xenstore watch paths (pure)
 *   xen_hv.c        host scope and the ops table; xen_dom.c domain scope; xen_recover.c
 *                   crash recovery (recover). All call Xen only through struct dt_xen_sys_ops.
 *   xen_sys.c       dt_xen_sys_real: the only file that calls libxenctrl, libxenevtchn,
 *                   libxenforeignmemory and libxenstore.
 * Tests (tests/check_xen_*.c) drive the pure parts directly and xen_hv.c/xen_dom.c through a
 * fake struct dt_xen_sys_ops (dt_xen_open_sys()).
 *
 * Threads: nothing here locks. Host-scope state is guarded by xen_hv.c's mutex; a domain's
 * ring, map cache and walker state belong to that domain's worker thread (hv.h).
 */
#ifndef DOMTRACE_XEN_INTERNAL_H
#define DOMTRACE_XEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* the ring macros use memset */
#include <sys/types.h>

#define XC_WANT_COMPAT_DEVICEMODEL_API 1 /* xc_hvm_inject_trap */
#include <xenctrl.h>			  /* __XEN_TOOLS__, xen_mb() for the ring macros */
#include <xen/hvm/save.h>
#include <xen/vm_event.h>

#include "domtrace/hv.h"
#include "domtrace/xen.h"

#define DT_XEN_PAGE_SIZE 4096u
#define DT_XEN_PAGE_SHIFT 12

/* ------------------------------------------------------------------ page walker */

enum dt_xen_paging {
	DT_XEN_PAGING_OFF = 0, /* CR0.PG clear: linear == physical */
	DT_XEN_PAGING_LEGACY,  /* 32-bit or PAE paging: not supported (-EOPNOTSUPP) */
	DT_XEN_PAGING_4LEVEL,  /* long mode, 48-bit linear addresses */
	DT_XEN_PAGING_5LEVEL,  /* long mode with CR4.LA57, 57-bit linear addresses */
};

enum dt_xen_paging dt_xen_paging_mode(uint64_t cr0, uint64_t cr4, uint64_t efer);

/* Reads guest-physical memory: 0, -EFAULT (not backed), or another -errno. */
struct dt_xen_phys {
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	void *ctx;
};

/* The page-table root in a CR3 value: PCID (bits 0-11), the KPTI user-half bit 12 and
 * bits above 51 masked off. */
uint64_t dt_xen_cr3_root(uint64_t cr3);

/*
 * Translate one linear address. 0 and *ret_gpa; -EFAULT if not present, not canonical or
 * a reserved large-page bit is set; -EOPNOTSUPP for legacy paging; other -errno from the
 * reader. At most 5 table reads; NX and U/S are ignored (we only observe).
 */
int dt_xen_walk(const struct dt_xen_phys *phys, enum dt_xen_paging mode, uint64_t cr3,
		uint64_t va, uint64_t *ret_gpa);

/* ------------------------------------------------------------------ mapping cache */

/* Maps one guest frame: the page, or NULL with *ret_err = -EFAULT (frame not backed),
 * -ENODEV (domain gone) or another -errno. */
struct dt_xen_mapper {
	void *(*map)(void *ctx, uint64_t gfn, bool writable, int *ret_err);
	void (*unmap)(void *ctx, void *page);
	void *ctx;
};

struct dt_xen_mapcache;

struct dt_xen_mapcache_stats {
	uint64_t hits, maps, evictions, remaps_rw;
};

/* entries is clamped to [DT_XEN_MAP_CACHE_MIN, DT_XEN_MAP_CACHE_MAX]; 0 = default. */
int dt_xen_mapcache_new(const struct dt_xen_mapper *mapper, unsigned entries,
			struct dt_xen_mapcache **ret_cache);
void dt_xen_mapcache_free(struct dt_xen_mapcache *cache); /* NULL ok; unmaps everything */
void dt_xen_mapcache_flush(struct dt_xen_mapcache *cache); /* unmaps everything */
/* The mapped page of gfn (valid until the next cache call): 0 or -errno as the mapper. */
int dt_xen_mapcache_page(struct dt_xen_mapcache *cache, uint64_t gfn, bool writable,
			 uint8_t **ret_page);
void dt_xen_mapcache_get_stats(const struct dt_xen_mapcache *cache,
			       struct dt_xen_mapcache_stats *ret_stats);
unsigned dt_xen_mapcache_capacity(const struct dt_xen_mapcache *cache);

/* Guest-physical access through the cache. Reads stop at the first frame that is not
 * backed and return the bytes copied; writes are all-or-nothing (-EFAULT). */
ssize_t dt_xen_read_pa(struct dt_xen_mapcache *cache, uint64_t gpa, void *buf, size_t len);
int dt_xen_write_pa(struct dt_xen_mapcache *cache, uint64_t gpa, const void *buf, size_t len);
/* A struct dt_xen_phys reading through the cache (for the walker). */
void dt_xen_mapcache_phys(struct dt_xen_mapcache *cache, struct dt_xen_phys *ret_phys);

/* Guest-virtual access: walk each page, then read/write through the cache (hv.h rules). */
ssize_t dt_xen_read_va(struct dt_xen_mapcache *cache, enum dt_xen_paging mode, uint64_t cr3,
		       uint64_t va, void *buf, size_t len);
int dt_xen_write_va(struct dt_xen_mapcache *cache, enum dt_xen_paging mode, uint64_t cr3,
		    uint64_t va, const void *buf, size_t len);

/* ------------------------------------------------------------------ vm_event ring */

/* Our end (the back end) of the one-page monitor ring Xen produces requests into. */
struct dt_xen_ring {
	vm_event_back_ring_t back;
};

/* Initialise a freshly enabled ring page (as Xen's own tools do) and our end of it. */
void dt_xen_ring_init(struct dt_xen_ring *ring, void *page, size_t page_size);
/* Copy out the next request: 0, or -EAGAIN when none is pending. */
int dt_xen_ring_get(struct dt_xen_ring *ring, vm_event_request_t *ret_req);
/* Publish one response (the caller notifies the event channel): 0, or -ENOSPC when every
 * consumed request has been answered already. */
int dt_xen_ring_put(struct dt_xen_ring *ring, const vm_event_response_t *rsp);
/* Requests consumed but not yet answered. */
unsigned dt_xen_ring_unanswered(const struct dt_xen_ring *ring);

/*
 * Responses no request asked for (crash recovery, xen_recover.c: the requests were in the
 * dead process's ring). Xen 4.17's vm_event_get_response() takes any response published
 * and leaves rsp_event = its consumer index + 1; that is how we tell what it has taken.
 */
/* Published responses Xen has not taken yet (a bogus rsp_event counts as a full ring). */
unsigned dt_xen_ring_responses_pending(const struct dt_xen_ring *ring);
/* Publish one such response: 0, or -ENOSPC while every slot holds one Xen has not taken. */
int dt_xen_ring_put_unasked(struct dt_xen_ring *ring, const vm_event_response_t *rsp);

enum dt_xen_req_kind {
	DT_XEN_REQ_TRAP = 1,	/* one of ours to hand to the engine */
	DT_XEN_REQ_OTHER,	/* any other reason: answer at once, harmlessly */
	DT_XEN_REQ_BAD_VERSION, /* not VM_EVENT_INTERFACE_VERSION: cannot be answered */
};

enum dt_xen_req_kind dt_xen_req_classify(const vm_event_request_t *req,
					 enum dt_trap_flavour flavour);
/* Registers from a request; vm_event does not carry MSR_CSTAR, so the caller gives it. */
void dt_xen_regs_from_event(const struct vm_event_regs_x86 *x, uint64_t cstar,
			    struct dt_regs *ret_regs);
void dt_xen_regs_from_cpu(const struct hvm_hw_cpu *cpu, struct dt_regs *ret_regs);
/* A DT_XEN_REQ_TRAP request as the engine sees it (token left to the caller). */
void dt_xen_trap_from_request(const vm_event_request_t *req, uint64_t cstar,
			      struct dt_trap *ret_trap);
/*
 * The response to req. SET_REGS: VM_EVENT_FLAG_SET_REGISTERS with the request's register
 * block, GPRs/rip/rflags replaced from regs. RETRY: unpause only. NOT_OURS: a descriptor
 * access is emulated (VM_EVENT_FLAG_EMULATE); an int3 gets a plain unpause (the caller
 * re-injects it first with xc_hvm_inject_trap). VCPU_PAUSED is always echoed.
 */
void dt_xen_response(const vm_event_request_t *req, enum dt_resume_how how,
		     const struct dt_regs *regs, vm_event_response_t *ret_rsp);
/* The harmless answer to a request we do not hand out: NOT_OURS semantics. */
void dt_xen_response_harmless(const vm_event_request_t *req, vm_event_response_t *ret_rsp);
/* The response that lets a vCPU paused on a synchronous request go, registers unchanged
 * (VM_EVENT_FLAG_VCPU_PAUSED only). Xen ignores it for a vCPU that is not so paused. */
void dt_xen_response_release(uint32_t vcpu, vm_event_response_t *ret_rsp);

/* ------------------------------------------------------------------ domain lists */

struct dt_xen_dominfo {
	uint32_t domid;
	uint32_t vcpus;	    /* max_vcpu_id + 1, 0 if none */
	bool hvm;	    /* HVM or PVH (XEN_DOMINF_hvm_guest) */
	bool dying;	    /* XEN_DOMINF_dying */
	bool paused;	    /* XEN_DOMINF_paused: the toolstack holds a pause (controller count > 0) */
	uint8_t handle[16]; /* the domain's UUID: tells a reused domid apart */
};

struct dt_xen_change {
	enum dt_vm_change change;
	struct dt_xen_dominfo info;
};

/* Sort by domid and drop dom0, dying domains, reserved domids and duplicates: the new n. */
size_t dt_xen_domlist_clean(struct dt_xen_dominfo *doms, size_t n);
/* Changes from old to cur (both cleaned). out must hold n_old + n_cur entries. A domid
 * whose handle changed is GONE then APPEARED. Returns the number written. */
size_t dt_xen_domlist_diff(const struct dt_xen_dominfo *old, size_t n_old,
			   const struct dt_xen_dominfo *cur, size_t n_cur,
			   struct dt_xen_change *out);
/* The engine's view of a domain; name may be NULL (unknown: empty). Unprintable bytes of
 * the name become '?'. PV guests are traceable=false with the reason. */
void dt_xen_vm_info(const struct dt_xen_dominfo *dom, const char *name,
		    struct dt_vm_info *ret_info);
/* Whether a fired xenstore watch path is a domain appearing or leaving. */
bool dt_xen_watch_is_domain_event(const char *path);

#define DT_XEN_WATCH_INTRODUCE "@introduceDomain"
#define DT_XEN_WATCH_RELEASE "@releaseDomain"
#define DT_XEN_MAX_DOMAINS 0x7FF0u /* DOMID_FIRST_RESERVED */

/* ------------------------------------------------------------------ the libxen seam */

/*
 * Every call the backend makes into Xen. All return 0 (or a count / port) or -errno, never
 * -1/errno; -ENODEV means the domain no longer exists. `host` is the value host_open()
 * returned, `sd` the value dom_attach() returned (per-domain handles: each domain has its
 * own xc_interface, foreign-memory and event-channel handle, so workers never share one).
 */
struct dt_xen_sys_ops {
	int (*host_open)(void **ret_host);
	void (*host_close)(void *host); /* NULL ok */
	/* Up to max domains with domid >= first, in domid order: 0 and *ret_n. */
	int (*list)(void *host, uint32_t first, struct dt_xen_dominfo *buf, size_t max,
		    size_t *ret_n);
	/* /local/domain/<domid>/name, NUL-terminated and truncated to size: 0 or -ENOENT. */
	int (*name)(void *host, uint32_t domid, char *buf, size_t size);
	int (*watch_fd)(void *host);
	/* Consume every fired watch: how many were domain events (0 if none), or -errno. */
	int (*watch_drain)(void *host);

	int (*dom_attach)(void *host, uint32_t domid, void **ret_sd);
	void (*dom_detach)(void *sd); /* NULL ok */
	int (*dom_info)(void *sd, struct dt_xen_dominfo *ret_info);
	int (*monitor_caps)(void *sd, uint32_t *ret_caps); /* 1 << XEN_DOMCTL_MONITOR_EVENT_* */
	int (*monitor_enable)(void *sd, void **ret_ring_page, uint32_t *ret_remote_port);
	void (*ring_unmap)(void *sd, void *ring_page);
	int (*monitor_disable)(void *sd);
	/* Make Xen take the responses on the monitor ring now (xc_monitor_resume; like a
	 * notification of the event channel, without needing one bound). */
	int (*monitor_resume)(void *sd);
	int (*monitor_event)(void *sd, enum dt_trap_flavour flavour, bool on);
	int (*evtchn_bind)(void *sd, uint32_t remote_port, uint32_t *ret_local_port);
	int (*evtchn_unbind)(void *sd, uint32_t local_port);
	int (*evtchn_fd)(void *sd);
	int (*evtchn_pending)(void *sd); /* a port with an event, or -EAGAIN (non-blocking) */
	int (*evtchn_unmask)(void *sd, uint32_t local_port);
	int (*evtchn_notify)(void *sd, uint32_t local_port);
	void *(*map)(void *sd, uint64_t gfn, bool writable, int *ret_err);
	void (*unmap)(void *sd, void *page);
	int (*get_cpu)(void *sd, uint32_t vcpu, struct hvm_hw_cpu *ret_cpu);
	/* Apply the GPRs, rip and rflags of regs to a vCPU, nothing else. */
	int (*set_gprs)(void *sd, uint32_t vcpu, const struct dt_regs *regs);
	/* Deliver an int3 to the guest: xc_hvm_inject_trap(vector 3, type, insn_len). */
	int (*inject_int3)(void *sd, uint32_t vcpu, uint8_t type, uint8_t insn_len);
	int (*pause)(void *sd);
	int (*unpause)(void *sd);
};

extern const struct dt_xen_sys_ops dt_xen_sys_real; /* xen_sys.c */

/* dt_hv_xen.open() with another seam (tests). params NULL = defaults. */
int dt_xen_open_sys(const struct dt_xen_params *params, const struct dt_xen_sys_ops *sys,
		    struct dt_hv **ret_hv);

/* xen_dom.c, for xen_hv.c's ops table */
int dt_xen_dom_open(struct dt_hv *hv, uint32_t domid, struct dt_hv_dom **ret_dom);
void dt_xen_dom_close(struct dt_hv_dom *dom);
int dt_xen_dom_pause(struct dt_hv_dom *dom);
int dt_xen_dom_unpause(struct dt_hv_dom *dom);
int dt_xen_dom_vcpu_count(struct dt_hv_dom *dom);
int dt_xen_dom_get_regs(struct dt_hv_dom *dom, uint32_t vcpu, struct dt_regs *ret_regs);
int dt_xen_dom_set_regs(struct dt_hv_dom *dom, uint32_t vcpu, const struct dt_regs *regs);
ssize_t dt_xen_dom_read_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, void *buf,
			   size_t len);
int dt_xen_dom_write_va(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, const void *buf,
			size_t len);
ssize_t dt_xen_dom_read_pa(struct dt_hv_dom *dom, uint64_t gpa, void *buf, size_t len);
int dt_xen_dom_write_pa(struct dt_hv_dom *dom, uint64_t gpa, const void *buf, size_t len);
int dt_xen_dom_translate(struct dt_hv_dom *dom, uint64_t cr3, uint64_t va, uint64_t *ret_gpa);
void dt_xen_dom_flush_cache(struct dt_hv_dom *dom);
int dt_xen_dom_trap_insn(struct dt_hv_dom *dom, struct dt_trap_insn *ret_insn);
int dt_xen_dom_set_trapping(struct dt_hv_dom *dom, bool on);
int dt_xen_dom_trap_fd(struct dt_hv_dom *dom);
int dt_xen_dom_next_trap(struct dt_hv_dom *dom, struct dt_trap *ret_trap);
int dt_xen_dom_resume(struct dt_hv_dom *dom, const struct dt_trap *trap, enum dt_resume_how how,
		      const struct dt_regs *regs);
void dt_xen_dom_work(struct dt_hv_dom *dom, struct dt_hv_work *ret_work);

/* xen_recover.c, for xen_hv.c's ops table (dt_hv_ops.recover) */
int dt_xen_recover(struct dt_hv *hv, uint32_t domid, const struct dt_guard_site *sites, size_t n,
		   unsigned pauses, struct dt_guard_result *ret_result);

/* What xen_dom.c needs of the host (xen_hv.c). */
struct dt_xen_host_view {
	const struct dt_xen_sys_ops *sys;
	void *host;
	const struct dt_xen_params *params;
};
void dt_xen_host_view(struct dt_hv *hv, struct dt_xen_host_view *ret_view);
void dt_xen_host_lock(struct dt_hv *hv);
void dt_xen_host_unlock(struct dt_hv *hv);

#endif /* DOMTRACE_XEN_INTERNAL_H */
