/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virt-brokerctl's pure helpers: counting connections in a
 * /proc/net/unix text (netunix.c) and the debug outputs (debug.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "netunix.h"

static const char table[] =
    "Num       RefCount Protocol Flags    Type St Inode Path\n"
    /* the listening socket: not a client */
    "000000001: 00000002 00000000 00010000 0001 01 100 /r/virtqemud-sock\n"
    /* accepted, queued, and one on another path */
    "000000002: 00000003 00000000 00000000 0001 03 101 /r/virtqemud-sock\n"
    "000000003: 00000002 00000000 00000000 0001 02     0 /r/virtqemud-sock\n"
    "000000004: 00000003 00000000 00000000 0001 03 103 /r/virtqemud-sock2\n"
    /* the admin socket, a path with a space, an unbound socket */
    "000000005: 00000003 00000000 00000000 0001 03 104 /r/v-admin-sock\n"
    "000000006: 00000003 00000000 00000000 0001 03 105 /r/a b\n"
    "000000007: 00000003 00000000 00000000 0001 03 106\n"
    /* a connected datagram socket is a peer too; a truncated line */
    "000000008: 00000002 00000000 00000000 0002 03 107 /r/a b\n"
    "000000009: 00000002";

START_TEST(netunix_counts_connected_and_queued_on_the_paths)
{
	struct strv p = { 0 };

	strv_add(&p, "/r/virtqemud-sock");
	ck_assert_uint_eq(netunix_count_text(table, &p), 2);
	strv_add(&p, "/r/v-admin-sock");
	ck_assert_uint_eq(netunix_count_text(table, &p), 3);
	strv_free(&p);
	strv_add(&p, "/r/a b");
	ck_assert_uint_eq(netunix_count_text(table, &p), 2);
	strv_free(&p);
	strv_add(&p, "/r/virtqemud");
	ck_assert_uint_eq(netunix_count_text(table, &p), 0);
	ck_assert_uint_eq(netunix_count_text("", &p), 0);
	strv_free(&p);
}
END_TEST

START_TEST(debug_outputs_replace_stderr_and_keep_the_rest)
{
	static const char *const cases[][2] = {
		{ "3:stderr", "1:stderr" },
		{ "", "1:stderr" },
		{ "3:file:/var/x.log", "3:file:/var/x.log 1:stderr" },
		{ "2:journald 4:stderr", "2:journald 1:stderr" },
		{ "3:syslog:virtqemud  3:stderr", "3:syslog:virtqemud 1:stderr" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = debug_outputs(cases[i][0]);

		ck_assert_str_eq(o, cases[i][1]);
		free(o);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctlview");
	TCase *tc = tcase_create("ctlview");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, netunix_counts_connected_and_queued_on_the_paths);
	tcase_add_test(tc, debug_outputs_replace_stderr_and_keep_the_rest);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
