// SPDX-License-Identifier: GPL-2.0-only
/*
 * xt-peek - dump a range of a guest's kernel virtual memory to stdout, from dom0.
 *
 *   xt-peek DOMID VADDR LEN > dump
 *
 * The Xen tier compares such dumps of a guest's kernel text taken before and after domtrace
 * ran: they must be byte-identical. This tool shares no code with domtrace on purpose (an
 * independent witness): it translates each page with Xen's own walker
 * (xc_translate_foreign_address, vCPU 0) and maps the frames read-only with
 * xenforeignmemory_map. The domain is paused while each 2 MiB are read, not for the whole
 * dump: under QEMU's emulator a 14 MiB dump held an HVM guest paused for about 50 s, and its
 * kernel reported a soft lockup that failed a check (2026-12-07). Kernel text changes only
 * where the kernel switches a jump label, which the tier's comparison allows for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#define PAGE 4096ul
#define CHUNK 512ul /* pages read per pause: 2 MiB, about 7 s under the emulator */

int main(int argc, char **argv)
{
	xc_interface *xch = NULL;
	xenforeignmemory_handle *fmem = NULL;
	uint32_t dom;
	uint64_t va, len, first, npages, mapped = 0;
	xen_pfn_t *pfns = NULL;
	int *errs = NULL, paused = 0, rc = 1;
	uint8_t *map = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: xt-peek DOMID VADDR LEN\n");
		return 2;
	}
	dom = strtoul(argv[1], NULL, 0);
	va = strtoull(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	if (!len || len > (256ul << 20)) {
		fprintf(stderr, "xt-peek: bad length\n");
		return 2;
	}
	first = va & ~(PAGE - 1);
	npages = (va + len - first + PAGE - 1) / PAGE;
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	pfns = calloc(CHUNK, sizeof(*pfns));
	errs = calloc(CHUNK, sizeof(*errs));
	if (!xch || !fmem || !pfns || !errs) {
		fprintf(stderr, "xt-peek: open: %s\n", strerror(errno));
		goto out;
	}
	for (uint64_t c = 0; c < npages; c += CHUNK) {
		uint64_t n = npages - c < CHUNK ? npages - c : CHUNK;
		uint64_t from = c ? 0 : va - first; /* bytes of this chunk to write */
		uint64_t to = c + n == npages ? va + len - (first + c * PAGE) : n * PAGE;

		if (xc_domain_pause(xch, dom)) {
			fprintf(stderr, "xt-peek: pause d%u: %s\n", dom, strerror(errno));
			goto out;
		}
		paused = 1;
		for (uint64_t i = 0; i < n; i++) {
			pfns[i] = xc_translate_foreign_address(xch, dom, 0, first + (c + i) * PAGE);
			if (!pfns[i]) {
				fprintf(stderr, "xt-peek: d%u 0x%llx not mapped\n", dom,
					(unsigned long long)(first + (c + i) * PAGE));
				goto out;
			}
		}
		map = xenforeignmemory_map(fmem, dom, PROT_READ, n, pfns, errs);
		if (!map) {
			fprintf(stderr, "xt-peek: map: %s\n", strerror(errno));
			goto out;
		}
		mapped = n;
		for (uint64_t i = 0; i < n; i++) {
			if (errs[i]) {
				fprintf(stderr, "xt-peek: map page %llu: %s\n",
					(unsigned long long)(c + i), strerror(-errs[i]));
				goto out;
			}
		}
		if (fwrite(map + from, 1, to - from, stdout) != to - from) {
			fprintf(stderr, "xt-peek: write: %s\n", strerror(errno));
			goto out;
		}
		xenforeignmemory_unmap(fmem, map, n);
		map = NULL;
		xc_domain_unpause(xch, dom);
		paused = 0;
	}
	if (fflush(stdout)) {
		fprintf(stderr, "xt-peek: write: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (map)
		xenforeignmemory_unmap(fmem, map, mapped);
	if (paused)
		xc_domain_unpause(xch, dom);
	free(pfns);
	free(errs);
	if (fmem)
		xenforeignmemory_close(fmem);
	if (xch)
		xc_interface_close(xch);
	return rc;
}
