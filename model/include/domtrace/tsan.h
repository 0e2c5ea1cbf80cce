/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tsan.h - happens-before annotations for ThreadSanitizer.
 *
 * liburcu 0.13 (Debian 12) orders memory with its own barriers and membarrier(2),
 * which TSan cannot see (docs: /work/shared/research/tsan-and-liburcu.md). Our thin
 * RCU and queue wrappers state the edges explicitly:
 *   - DT_TSAN_RELEASE(obj) before publishing obj, DT_TSAN_ACQUIRE(obj) after
 *     dereferencing it;
 *   - DT_TSAN_RELEASE(&token) just before rcu_read_unlock(), DT_TSAN_ACQUIRE(&token)
 *     just after synchronize_rcu() returns (a grace period orders every reader
 *     section before it with the free that follows it).
 * With DT_TSAN undefined (every build but -DDT_SANITIZE=thread) they compile to nothing.
 */
#ifndef DOMTRACE_TSAN_H
#define DOMTRACE_TSAN_H

#ifdef DT_TSAN
#include <sanitizer/tsan_interface.h>
#define DT_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#define DT_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#else
#define DT_TSAN_RELEASE(addr) ((void)0)
#define DT_TSAN_ACQUIRE(addr) ((void)0)
#endif

#endif /* DOMTRACE_TSAN_H */
