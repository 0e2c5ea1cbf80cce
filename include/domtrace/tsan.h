/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tsan.h - happens-before annotations for ThreadSanitizer, compiled only in the TSan
 * build (-DDT_SANITIZE=thread defines DT_TSAN). liburcu 0.13 synchronises with its own
 * barriers and membarrier, which TSan cannot see (docs: tsan-and-liburcu). Our thin
 * wrappers around liburcu add the edges TSan needs: release an object before handing
 * it over through liburcu, acquire it after receiving it. Nothing otherwise.
 *
 * Any thread; no state.
 */
#ifndef DOMTRACE_TSAN_H
#define DOMTRACE_TSAN_H

#ifdef DT_TSAN
#include <sanitizer/tsan_interface.h>
#define DT_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#define DT_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#else
#define DT_TSAN_RELEASE(addr) ((void)(addr))
#define DT_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

#endif /* DOMTRACE_TSAN_H */
