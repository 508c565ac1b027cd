/* SPDX-License-Identifier: MIT */
/* Unit tests: the control protocol (common/ctlproto.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ctlproto.h"

START_TEST(escape_round_trips_any_text)
{
	const char *texts[] = { "plain", "two words", "100%", "tab\there",
	    "line\nbreak", "ümlaut", "=:;,\"'\\", "" };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *e = ctlproto_escape(texts[i]), *back = NULL;

		ck_assert_ptr_null(strpbrk(e, " \t\n"));
		ck_assert_int_eq(ctlproto_unescape(e, &back), 0);
		ck_assert_str_eq(back, texts[i]);
		free(e);
		free(back);
	}
}
END_TEST

START_TEST(unescape_rejects_bad_escapes_and_nul)
{
	char *out = NULL;

	ck_assert_int_eq(ctlproto_unescape("a%2", &out), -EINVAL);
	ck_assert_int_eq(ctlproto_unescape("a%zz", &out), -EINVAL);
	ck_assert_int_eq(ctlproto_unescape("a%00b", &out), -EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(ctlproto_unescape("a%20b%25", &out), 0);
	ck_assert_str_eq(out, "a b%");
	free(out);
}
END_TEST

START_TEST(request_parses_version_command_and_args)
{
	struct strv args = { 0 };

	ck_assert_int_eq(ctlproto_parse_request("VB1 status virtqemud "
	    "my%20unit", &args), 0);
	ck_assert_uint_eq(args.n, 3);
	ck_assert_str_eq(args.v[0], "status");
	ck_assert_str_eq(args.v[2], "my unit");
	ck_assert_ptr_null(args.v[3]);
	strv_free(&args);
}
END_TEST

START_TEST(request_rejects_malformed_and_other_versions)
{
	struct strv args = { 0 };
	char *big = malloc(CTLPROTO_MAX_LINE + 10);

	ck_assert_int_eq(ctlproto_parse_request("", &args), -EINVAL);
	ck_assert_int_eq(ctlproto_parse_request("VB1", &args), -EINVAL);
	ck_assert_int_eq(ctlproto_parse_request("status", &args), -EINVAL);
	ck_assert_int_eq(ctlproto_parse_request("VB1  status", &args),
	    -EINVAL);				/* empty word */
	ck_assert_int_eq(ctlproto_parse_request("VB2 status", &args),
	    -EPROTO);
	ck_assert_int_eq(ctlproto_parse_request("VB1 stop a%0", &args),
	    -EINVAL);
	memset(big, 'a', CTLPROTO_MAX_LINE + 9);
	memcpy(big, "VB1 ", 4);
	big[CTLPROTO_MAX_LINE + 9] = '\0';
	ck_assert_int_eq(ctlproto_parse_request(big, &args), -E2BIG);
	ck_assert_uint_eq(args.n, 0);
	free(big);
}
END_TEST

START_TEST(join_and_kv_read_back)
{
	const char *words[] = { "name=my unit", "state=running", "pid=42" };
	struct strv w = { 0 };
	char *line = ctlproto_join(words, 3);

	ck_assert_str_eq(line, "name=my%20unit state=running pid=42");
	ck_assert_int_eq(ctlproto_split(line, &w), 0);
	ck_assert_str_eq(ctlproto_kv(&w, "name"), "my unit");
	ck_assert_str_eq(ctlproto_kv(&w, "pid"), "42");
	ck_assert_ptr_null(ctlproto_kv(&w, "pi"));
	ck_assert_ptr_null(ctlproto_kv(&w, "ready"));
	strv_free(&w);
	free(line);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc = tcase_create("protocol");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, escape_round_trips_any_text);
	tcase_add_test(tc, unescape_rejects_bad_escapes_and_nul);
	tcase_add_test(tc, request_parses_version_command_and_args);
	tcase_add_test(tc, request_rejects_malformed_and_other_versions);
	tcase_add_test(tc, join_and_kv_read_back);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
