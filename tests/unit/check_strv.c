/* SPDX-License-Identifier: MIT */
/* Unit tests for common/strv.c: argument splitting, join, copy. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

/* Freed by the checked teardown, so a failing test leaks nothing. */
static struct strv t_sv;
static struct strv t_sv2;
static char *t_str;

static void
teardown(void)
{
	strv_free(&t_sv);
	strv_free(&t_sv2);
	free(t_str);
	t_str = NULL;
}

/* Splits s into t_sv and checks the words, given as a NULL-ended list. */
static void
assert_split(const char *s, const char *const *want)
{
	size_t n = 0;

	ck_assert_int_eq(strv_split_args(s, &t_sv), 0);
	while (want[n] != NULL)
		n++;
	ck_assert_msg(t_sv.n == n, "'%s': %zu words, expected %zu", s,
	    t_sv.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(t_sv.v[i], want[i]);
	if (n > 0)
		ck_assert_ptr_null(t_sv.v[n]);
	strv_free(&t_sv);
}

/* --- split: blanks --- */

START_TEST(remove_at_keeps_order_and_the_terminator)
{
	struct strv sv = { 0 };

	strv_add(&sv, "a");
	strv_add(&sv, "b");
	strv_add(&sv, "c");
	strv_remove_at(&sv, 1);
	ck_assert_uint_eq(sv.n, 2);
	ck_assert_str_eq(sv.v[0], "a");
	ck_assert_str_eq(sv.v[1], "c");
	ck_assert_ptr_null(sv.v[2]);
	strv_remove_at(&sv, 5);			/* out of range: nothing */
	ck_assert_uint_eq(sv.n, 2);
	strv_remove_at(&sv, 1);
	strv_remove_at(&sv, 0);
	ck_assert_uint_eq(sv.n, 0);
	ck_assert_ptr_null(sv.v[0]);
	strv_free(&sv);
}
END_TEST

START_TEST(contains_finds_whole_strings_only)
{
	struct strv sv = { 0 };

	ck_assert(!strv_contains(&sv, "a"));	/* empty */
	strv_add(&sv, "virtqemud");
	strv_add(&sv, "");
	ck_assert(strv_contains(&sv, "virtqemud"));
	ck_assert(strv_contains(&sv, ""));
	ck_assert(!strv_contains(&sv, "virtqemu"));
	ck_assert(!strv_contains(&sv, "virtqemud2"));
	strv_free(&sv);
}
END_TEST

START_TEST(split_on_blanks)
{
	assert_split("--timeout 120", (const char *[]){ "--timeout", "120",
	    NULL });
	assert_split("a  b   c", (const char *[]){ "a", "b", "c", NULL });
}
END_TEST

START_TEST(split_on_tabs_and_trims_ends)
{
	assert_split("\ta\t b \t", (const char *[]){ "a", "b", NULL });
	assert_split("  one  ", (const char *[]){ "one", NULL });
}
END_TEST

START_TEST(split_empty_string_gives_no_words)
{
	ck_assert_int_eq(strv_split_args("", &t_sv), 0);
	ck_assert_uint_eq(t_sv.n, 0);
	ck_assert_ptr_null(strv_array(&t_sv)[0]);
}
END_TEST

START_TEST(split_blanks_only_gives_no_words)
{
	ck_assert_int_eq(strv_split_args(" \t  ", &t_sv), 0);
	ck_assert_uint_eq(t_sv.n, 0);
}
END_TEST

START_TEST(split_replaces_previous_words)
{
	strv_add(&t_sv, "old1");
	strv_add(&t_sv, "old2");
	ck_assert_int_eq(strv_split_args("new", &t_sv), 0);
	ck_assert_uint_eq(t_sv.n, 1);
	ck_assert_str_eq(t_sv.v[0], "new");
}
END_TEST

/* --- split: quotes and escapes --- */

START_TEST(split_double_quotes_group_blanks)
{
	assert_split("--config \"/etc/my dir/q.conf\" x",
	    (const char *[]){ "--config", "/etc/my dir/q.conf", "x", NULL });
}
END_TEST

START_TEST(split_single_quotes_group_blanks)
{
	assert_split("'a b'\t'c\td'", (const char *[]){ "a b", "c\td", NULL });
}
END_TEST

START_TEST(split_quotes_join_adjacent_text)
{
	assert_split("a\"b c\"d", (const char *[]){ "ab cd", NULL });
	assert_split("x'y'z", (const char *[]){ "xyz", NULL });
}
END_TEST

START_TEST(split_empty_quotes_make_an_empty_word)
{
	assert_split("a \"\" b ''", (const char *[]){ "a", "", "b", "", NULL });
}
END_TEST

START_TEST(split_other_quote_is_literal_inside_quotes)
{
	assert_split("\"it's\" 'say \"hi\"'",
	    (const char *[]){ "it's", "say \"hi\"", NULL });
}
END_TEST

START_TEST(split_backslash_escapes_blank)
{
	assert_split("a\\ b c", (const char *[]){ "a b", "c", NULL });
}
END_TEST

START_TEST(split_backslash_escapes_quote_and_backslash)
{
	assert_split("\\\"x\\\" \\\\", (const char *[]){ "\"x\"", "\\", NULL });
	assert_split("\"a\\\"b\"", (const char *[]){ "a\"b", NULL });
}
END_TEST

START_TEST(split_backslash_is_literal_in_single_quotes)
{
	assert_split("'a\\b' 'c\\'", (const char *[]){ "a\\b", "c\\", NULL });
}
END_TEST

START_TEST(split_escaped_character_alone_is_a_word)
{
	assert_split("\\  x", (const char *[]){ " ", "x", NULL });
}
END_TEST

/* --- split: errors leave the output untouched --- */

static void
assert_split_fails(const char *s)
{
	strv_free(&t_sv);
	strv_add(&t_sv, "keep");
	ck_assert_msg(strv_split_args(s, &t_sv) == -EINVAL,
	    "'%s' should be rejected", s);
	ck_assert_uint_eq(t_sv.n, 1);
	ck_assert_str_eq(t_sv.v[0], "keep");
	ck_assert_ptr_null(t_sv.v[1]);
}

START_TEST(split_rejects_unterminated_double_quote)
{
	assert_split_fails("--timeout \"120");
	assert_split_fails("\"");
}
END_TEST

START_TEST(split_rejects_unterminated_single_quote)
{
	assert_split_fails("a 'b c");
	assert_split_fails("'a\\'b'");
}
END_TEST

START_TEST(split_rejects_trailing_backslash)
{
	assert_split_fails("a b\\");
	assert_split_fails("\\");
}
END_TEST

START_TEST(split_rejects_trailing_backslash_in_double_quotes)
{
	assert_split_fails("\"a\\");
}
END_TEST

/* --- join --- */

START_TEST(join_puts_separator_between_words)
{
	strv_add(&t_sv, "a");
	strv_add(&t_sv, "bb");
	strv_add(&t_sv, "c");
	t_str = strv_join(&t_sv, ":");
	ck_assert_str_eq(t_str, "a:bb:c");
}
END_TEST

START_TEST(join_handles_long_separator)
{
	strv_add(&t_sv, "x");
	strv_add(&t_sv, "y");
	t_str = strv_join(&t_sv, ", ");
	ck_assert_str_eq(t_str, "x, y");
}
END_TEST

START_TEST(join_single_word_has_no_separator)
{
	strv_add(&t_sv, "only");
	t_str = strv_join(&t_sv, " ");
	ck_assert_str_eq(t_str, "only");
}
END_TEST

START_TEST(join_empty_vector_is_empty_string)
{
	t_str = strv_join(&t_sv, ":");
	ck_assert_str_eq(t_str, "");
}
END_TEST

START_TEST(join_keeps_empty_words)
{
	strv_add(&t_sv, "");
	strv_add(&t_sv, "");
	strv_add(&t_sv, "z");
	t_str = strv_join(&t_sv, ":");
	ck_assert_str_eq(t_str, "::z");
}
END_TEST

/* --- copy and the basic vector --- */

START_TEST(copy_appends_deep_copies)
{
	strv_add(&t_sv, "a");
	strv_add(&t_sv, "b");
	strv_add(&t_sv2, "first");
	strv_copy(&t_sv2, &t_sv);
	ck_assert_uint_eq(t_sv2.n, 3);
	ck_assert_str_eq(t_sv2.v[0], "first");
	ck_assert_str_eq(t_sv2.v[1], "a");
	ck_assert_str_eq(t_sv2.v[2], "b");
	ck_assert_ptr_null(t_sv2.v[3]);
	ck_assert_ptr_ne(t_sv2.v[1], t_sv.v[0]);
	/* The source is untouched and independent of the copy. */
	ck_assert_uint_eq(t_sv.n, 2);
	t_sv.v[0][0] = 'X';
	ck_assert_str_eq(t_sv2.v[1], "a");
}
END_TEST

START_TEST(copy_of_empty_vector_adds_nothing)
{
	strv_copy(&t_sv2, &t_sv);
	ck_assert_uint_eq(t_sv2.n, 0);
	ck_assert_ptr_null(t_sv2.v);
}
END_TEST

START_TEST(add_copies_and_terminates)
{
	char buf[] = "abc";

	strv_add(&t_sv, buf);
	buf[0] = 'z';
	ck_assert_str_eq(t_sv.v[0], "abc");
	ck_assert_ptr_null(t_sv.v[1]);
	ck_assert_ptr_eq(strv_array(&t_sv), t_sv.v);
}
END_TEST

START_TEST(addf_formats)
{
	strv_addf(&t_sv, "%s=%d", "LISTEN_FDS", 3);
	ck_assert_uint_eq(t_sv.n, 1);
	ck_assert_str_eq(t_sv.v[0], "LISTEN_FDS=3");
}
END_TEST

START_TEST(free_resets_vector)
{
	strv_add(&t_sv, "a");
	strv_free(&t_sv);
	ck_assert_uint_eq(t_sv.n, 0);
	ck_assert_ptr_null(t_sv.v);
	ck_assert_ptr_null(strv_array(&t_sv)[0]);
}
END_TEST

static Suite *
strv_suite(void)
{
	Suite *s = suite_create("strv");
	TCase *tc;

	tc = tcase_create("split_blanks");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, remove_at_keeps_order_and_the_terminator);
	tcase_add_test(tc, contains_finds_whole_strings_only);
	tcase_add_test(tc, split_on_blanks);
	tcase_add_test(tc, split_on_tabs_and_trims_ends);
	tcase_add_test(tc, split_empty_string_gives_no_words);
	tcase_add_test(tc, split_blanks_only_gives_no_words);
	tcase_add_test(tc, split_replaces_previous_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("split_quotes");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, split_double_quotes_group_blanks);
	tcase_add_test(tc, split_single_quotes_group_blanks);
	tcase_add_test(tc, split_quotes_join_adjacent_text);
	tcase_add_test(tc, split_empty_quotes_make_an_empty_word);
	tcase_add_test(tc, split_other_quote_is_literal_inside_quotes);
	tcase_add_test(tc, split_backslash_escapes_blank);
	tcase_add_test(tc, split_backslash_escapes_quote_and_backslash);
	tcase_add_test(tc, split_backslash_is_literal_in_single_quotes);
	tcase_add_test(tc, split_escaped_character_alone_is_a_word);
	suite_add_tcase(s, tc);

	tc = tcase_create("split_errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, split_rejects_unterminated_double_quote);
	tcase_add_test(tc, split_rejects_unterminated_single_quote);
	tcase_add_test(tc, split_rejects_trailing_backslash);
	tcase_add_test(tc, split_rejects_trailing_backslash_in_double_quotes);
	suite_add_tcase(s, tc);

	tc = tcase_create("join");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, join_puts_separator_between_words);
	tcase_add_test(tc, join_handles_long_separator);
	tcase_add_test(tc, join_single_word_has_no_separator);
	tcase_add_test(tc, join_empty_vector_is_empty_string);
	tcase_add_test(tc, join_keeps_empty_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("vector");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, copy_appends_deep_copies);
	tcase_add_test(tc, copy_of_empty_vector_adds_nothing);
	tcase_add_test(tc, add_copies_and_terminates);
	tcase_add_test(tc, addf_formats);
	tcase_add_test(tc, free_resets_vector);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(strv_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
