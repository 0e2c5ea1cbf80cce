// SPDX-License-Identifier: GPL-2.0-only
/* Run a Check suite (see check_run.h). */
#include <stdlib.h>

#include "support/check_run.h"

int dt_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
