/* SPDX-License-Identifier: GPL-2.0-only */
/* check_run.h - run a Check suite and turn its result into the test's exit status. */
#ifndef DT_TESTS_CHECK_RUN_H
#define DT_TESTS_CHECK_RUN_H

#include <check.h>

/* Runs every case of s (which it frees) and returns EXIT_SUCCESS or EXIT_FAILURE. */
int dt_check_run(Suite *s);

#endif /* DT_TESTS_CHECK_RUN_H */
