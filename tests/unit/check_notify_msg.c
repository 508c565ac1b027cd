/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/notify_msg.c: sd_notify datagrams as libvirt 9.0
 * and 11.x send them (several lines per datagram, RELOADING, STOPPING,
 * EXTEND_TIMEOUT_USEC, STATUS) and what a hostile daemon might send.
 */
#include <check.h>
#include <string.h>

#include "notify_msg.h"

static struct notify_msg m;

static void
parse(const char *s)
{
	notify_msg_parse(s, strlen(s), &m);
}

START_TEST(ready_alone)
{
	parse("READY=1");
	ck_assert(m.ready);
	ck_assert(!m.reloading && !m.stopping && !m.has_extend &&
	    !m.has_status);
	ck_assert(!notify_msg_empty(&m));
}
END_TEST

/* libvirt 11.x on SIGHUP: one datagram, two lines. */
START_TEST(reloading_with_monotonic)
{
	parse("RELOADING=1\nMONOTONIC_USEC=123456789");
	ck_assert(m.reloading);
	ck_assert(!m.ready);
}
END_TEST

START_TEST(several_lines_trailing_newline)
{
	parse("STOPPING=1\nSTATUS=Saving guests\nEXTEND_TIMEOUT_USEC=10000000\n");
	ck_assert(m.stopping);
	ck_assert(m.has_extend);
	ck_assert_uint_eq(m.extend_usec, 10000000);
	ck_assert(m.has_status);
	ck_assert_str_eq(m.status, "Saving guests");
}
END_TEST

START_TEST(values_must_be_exact)
{
	parse("READY=2\nREADY=1x\nready=1\nRELOADING=0\nSTOPPING=\n");
	ck_assert(notify_msg_empty(&m));
}
END_TEST

START_TEST(extend_rejects_garbage)
{
	parse("EXTEND_TIMEOUT_USEC=-5");
	ck_assert(!m.has_extend);
	parse("EXTEND_TIMEOUT_USEC=12abc");
	ck_assert(!m.has_extend);
	parse("EXTEND_TIMEOUT_USEC=");
	ck_assert(!m.has_extend);
	parse("EXTEND_TIMEOUT_USEC=99999999999999999999999");
	ck_assert(!m.has_extend);
	parse("EXTEND_TIMEOUT_USEC=18446744073709551615");
	ck_assert(m.has_extend);
	ck_assert_uint_eq(m.extend_usec, UINT64_MAX);
	parse("EXTEND_TIMEOUT_USEC=18446744073709551616");
	ck_assert(!m.has_extend);
}
END_TEST

START_TEST(last_value_wins)
{
	parse("STATUS=one\nEXTEND_TIMEOUT_USEC=1\nSTATUS=two\n"
	    "EXTEND_TIMEOUT_USEC=2");
	ck_assert_str_eq(m.status, "two");
	ck_assert_uint_eq(m.extend_usec, 2);
}
END_TEST

START_TEST(status_is_printable_and_bounded)
{
	char big[600];

	parse("STATUS=a\x1b[31mred\tb\x7f");
	ck_assert_str_eq(m.status, "a?[31mred?b?");
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	big[sizeof(big) - 1] = '\0';
	parse(big);
	ck_assert_uint_eq(strlen(m.status), NOTIFY_STATUS_MAX - 1);
	parse("STATUS=");
	ck_assert(m.has_status);
	ck_assert_str_eq(m.status, "");
}
END_TEST

/* A NUL ends the datagram: nothing after it counts. */
START_TEST(nul_ends_the_message)
{
	static const char buf[] = "STATUS=x\0READY=1";

	notify_msg_parse(buf, sizeof(buf) - 1, &m);
	ck_assert(m.has_status);
	ck_assert(!m.ready);
}
END_TEST

/* The length, not a terminator, bounds the parse. */
START_TEST(length_bounds_the_parse)
{
	notify_msg_parse("READY=1", 5, &m);
	ck_assert(!m.ready);
	notify_msg_parse("", 0, &m);
	ck_assert(notify_msg_empty(&m));
	parse("\n\n\nREADY=1\n\n");
	ck_assert(m.ready);
}
END_TEST

static Suite *
notify_msg_suite(void)
{
	Suite *s = suite_create("notify_msg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ready_alone);
	tcase_add_test(tc, reloading_with_monotonic);
	tcase_add_test(tc, several_lines_trailing_newline);
	tcase_add_test(tc, values_must_be_exact);
	tcase_add_test(tc, extend_rejects_garbage);
	tcase_add_test(tc, last_value_wins);
	tcase_add_test(tc, status_is_printable_and_bounded);
	tcase_add_test(tc, nul_ends_the_message);
	tcase_add_test(tc, length_bounds_the_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(notify_msg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
