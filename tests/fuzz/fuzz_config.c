// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: any bytes as a configuration file. A successful parse is also
 * compiled into a chain and asked the engine's questions, so the whole reload path
 * runs on fuzzed input. Build with -DDT_FUZZ=ON (clang). */
#include <stdint.h>
#include <stdlib.h>

#include "domtrace/catalog.h"
#include "domtrace/config.h"
#include "domtrace/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_config_diags diags = { 0 };
	struct dt_config *cfg = NULL;
	struct dt_chain *chain = NULL;
	uint8_t flags[4096];
	char buf[256];
	size_t n;

	if (dt_config_parse_string("fuzz.conf", (const char *)data, size, &cfg, &diags) == 0) {
		dt_catalog_funcs(&n);
		(void)dt_config_vm_monitored(cfg, "web-1");
		(void)dt_config_system_map(cfg, "web-1", "6.1.0", buf, sizeof(buf));
		(void)dt_config_vm_probes(cfg, "web-1", flags, n < sizeof(flags) ? n : sizeof(flags));
		(void)dt_config_pslist_wants(cfg, "web-1", "sh");
		if (dt_chain_new(cfg, &chain) == 0)
			dt_chain_free(chain);
		else
			dt_config_free(cfg);
	}
	dt_config_diags_clear(&diags);
	return 0;
}
