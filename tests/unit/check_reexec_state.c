/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/reexec_state.c: what a broker tells the broker it
 * re-executes, read back whole; a state from a broker before a field was
 * added reads with that field's default; a bad line is refused.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reexec_state.h"

START_TEST(format_then_parse_keeps_every_field)
{
	struct reexec_state st = { 0 }, back;
	struct reexec_unit u = { .name = "virtqemud", .activations = 7,
	    .reloads = 2, .ready_ms = 31, .since = 1700000000,
	    .exited_once = true, .last_status = 256, .exec_ms = 99,
	    .adopted_pid = 4242, .nfail = 2, .fail_ms = { 10, 20 } };
	const struct reexec_unit *r;
	char err[128], *text;

	reexec_state_add(&st, &u);
	text = reexec_state_format(&st);
	ck_assert_int_eq(reexec_state_parse(text, &back, err, sizeof(err)), 0);
	r = reexec_state_find(&back, "virtqemud");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->activations, 7);
	ck_assert_uint_eq(r->reloads, 2);
	ck_assert_int_eq(r->ready_ms, 31);
	ck_assert_int_eq(r->since, 1700000000);
	ck_assert(r->exited_once);
	ck_assert_int_eq(r->last_status, 256);
	ck_assert_uint_eq(r->exec_ms, 99);
	ck_assert_int_eq(r->adopted_pid, 4242);	/* an adopted daemon */
	ck_assert_uint_eq(r->nfail, 2);
	ck_assert_uint_eq(r->fail_ms[1], 20);
	free(text);
	reexec_state_free(&st);
	reexec_state_free(&back);
}
END_TEST

/* A broker before "adopted=" existed: none adopted. */
START_TEST(a_state_without_adopted_reads_as_none)
{
	struct reexec_state st;
	char err[128];

	ck_assert_int_eq(reexec_state_parse("virt-broker-state 1\nunit a "
	    "activations=1 reloads=0 ready_ms=-1 since=0 exited=0 "
	    "last_status=0 exec_ms=0 fails=\n", &st, err, sizeof(err)), 0);
	ck_assert_int_eq(reexec_state_find(&st, "a")->adopted_pid, 0);
	reexec_state_free(&st);
}
END_TEST

START_TEST(a_negative_adopted_pid_is_refused)
{
	struct reexec_state st;
	char err[128];

	ck_assert_int_eq(reexec_state_parse("virt-broker-state 1\nunit a "
	    "adopted=-1 fails=\n", &st, err, sizeof(err)), -EINVAL);
	reexec_state_free(&st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reexec_state");
	TCase *tc = tcase_create("format");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, format_then_parse_keeps_every_field);
	tcase_add_test(tc, a_state_without_adopted_reads_as_none);
	tcase_add_test(tc, a_negative_adopted_pid_is_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
