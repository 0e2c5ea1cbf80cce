// SPDX-License-Identifier: GPL-2.0-only
/* domtrace: command line and daemon start/stop order (being built: see issue 2). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "domtrace: not built yet\n");
	return 1;
}
