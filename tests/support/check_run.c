// SPDX-License-Identifier: GPL-2.0-only
/* Run a Check suite (see check_run.h). */
#include <stdlib.h>

#include "support/check_run.h"

int dt_check_run(Suite *s)
{
	SRunner *sr;
	int failed;

	/* A failure's message often carries a daemon's whole log; Check ends a test whose
	 * message passes its cap (4 KiB by default) with no verdict but "Message string too
	 * long". CK_MAX_MSG_SIZE in the environment still wins. */
	check_set_max_msg_size(256 * 1024);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
