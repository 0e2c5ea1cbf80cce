// SPDX-License-Identifier: GPL-2.0-only
/* domtrace: parse the command line, pick the hypervisor backend, run the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domtrace/log.h"
#include "engine/daemon.h"
#include "engine/options.h"
#include "sim/sim.h"
#ifdef DT_HAVE_XEN
#include "xen/xen.h"
#endif

int main(int argc, char **argv)
{
	struct dt_options o;
	struct dt_sim_params sim;
	const struct dt_hv_ops *ops = &dt_hv_sim;
	const void *params = &sim;
#ifdef DT_HAVE_XEN
	struct dt_xen_params xen;
#endif
	int r;

	r = dt_options_parse(&o, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	dt_log_set_level(o.debug >= 2 ? DT_LOG_TRACE : o.debug == 1 ? DT_LOG_DEBUG : DT_LOG_INFO);
	if (o.check_config) {
		r = dt_daemon_check_config(&o);
		dt_options_free(&o);
		return r;
	}
	if (o.backend == DT_BACKEND_SIM) {
		dt_sim_params_default(&sim);
		sim.n_vms = o.sim_vms;
		sim.vcpus = o.sim_vcpus;
		sim.rate = o.sim_rate;
		sim.seed = o.sim_seed;
		sim.scenario = o.sim_scenario;
		sim.trap = o.trap;
		sim.sysmap_dir = o.sim_dir;
		sim.workload = o.sim_scenario == NULL;
	} else {
#ifdef DT_HAVE_XEN
		dt_xen_params_default(&xen);
		xen.trap = o.trap;
		xen.debug = o.hv_debug;
		ops = &dt_hv_xen;
		params = &xen;
#else
		fprintf(stderr, "domtrace: built without the Xen backend; use --sim N\n");
		dt_options_free(&o);
		return 2;
#endif
	}
	r = dt_daemon_main(&o, ops, params);
	dt_options_free(&o);
	return r;
}
