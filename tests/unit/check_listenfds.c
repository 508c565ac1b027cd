/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/listenfds.c: fd names as systemd's fdname_is_valid
 * (but non-empty), LISTEN_FDNAMES, and the LISTEN_PID slot.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "listenfds.h"

static struct strv t_env;
static char *t_str;

static void
teardown(void)
{
	strv_free(&t_env);
	free(t_str);
	t_str = NULL;
}

/* --- lfd_name_is_valid --- */

START_TEST(fdname_accepts_libvirt_names)
{
	ck_assert(lfd_name_is_valid("virtqemud.socket"));
	ck_assert(lfd_name_is_valid("virtqemud-admin.socket"));
	ck_assert(lfd_name_is_valid("x"));
	ck_assert(lfd_name_is_valid("a b~!@#$%^&*()"));
}
END_TEST

START_TEST(fdname_rejects_empty)
{
	ck_assert(!lfd_name_is_valid(""));
}
END_TEST

START_TEST(fdname_rejects_colon)
{
	ck_assert(!lfd_name_is_valid("a:b"));
	ck_assert(!lfd_name_is_valid(":"));
	ck_assert(!lfd_name_is_valid("virtqemud.socket:"));
}
END_TEST

START_TEST(fdname_rejects_control_chars)
{
	ck_assert(!lfd_name_is_valid("a\tb"));
	ck_assert(!lfd_name_is_valid("a\nb"));
	ck_assert(!lfd_name_is_valid("\x01"));
	ck_assert(!lfd_name_is_valid("name\x1f"));
}
END_TEST

START_TEST(fdname_rejects_del)
{
	ck_assert(!lfd_name_is_valid("a\x7f"));
}
END_TEST

START_TEST(fdname_rejects_non_ascii)
{
	ck_assert(!lfd_name_is_valid("caf\xc3\xa9"));
	ck_assert(!lfd_name_is_valid("\xff"));
}
END_TEST

START_TEST(fdname_accepts_255_bytes)
{
	char name[LFD_NAME_MAX + 1];

	memset(name, 'n', LFD_NAME_MAX);
	name[LFD_NAME_MAX] = '\0';
	ck_assert_uint_eq(strlen(name), 255);
	ck_assert(lfd_name_is_valid(name));
}
END_TEST

START_TEST(fdname_rejects_256_bytes)
{
	char name[LFD_NAME_MAX + 2];

	memset(name, 'n', LFD_NAME_MAX + 1);
	name[LFD_NAME_MAX + 1] = '\0';
	ck_assert_uint_eq(strlen(name), 256);
	ck_assert(!lfd_name_is_valid(name));
}
END_TEST

/* --- lfd_build_names --- */

START_TEST(build_names_joins_in_order)
{
	const char *names[] = { "virtqemud.socket", "virtqemud-ro.socket",
	    "virtqemud-admin.socket" };

	ck_assert_int_eq(lfd_build_names(names, 3, &t_str), 0);
	ck_assert_str_eq(t_str,
	    "virtqemud.socket:virtqemud-ro.socket:virtqemud-admin.socket");
}
END_TEST

START_TEST(build_names_single_name)
{
	const char *names[] = { "only.socket" };

	ck_assert_int_eq(lfd_build_names(names, 1, &t_str), 0);
	ck_assert_str_eq(t_str, "only.socket");
}
END_TEST

START_TEST(build_names_allows_repeated_name)
{
	const char *names[] = { "a.socket", "a.socket" };

	ck_assert_int_eq(lfd_build_names(names, 2, &t_str), 0);
	ck_assert_str_eq(t_str, "a.socket:a.socket");
}
END_TEST

START_TEST(build_names_rejects_no_names)
{
	const char *names[] = { "a.socket" };

	ck_assert_int_eq(lfd_build_names(names, 0, &t_str), -EINVAL);
	ck_assert_ptr_null(t_str);
}
END_TEST

START_TEST(build_names_rejects_any_invalid_name)
{
	const char *first[] = { "a:b", "c" };
	const char *middle[] = { "a", "", "c" };
	const char *last[] = { "a", "b", "c\n" };

	ck_assert_int_eq(lfd_build_names(first, 2, &t_str), -EINVAL);
	ck_assert_int_eq(lfd_build_names(middle, 3, &t_str), -EINVAL);
	ck_assert_int_eq(lfd_build_names(last, 3, &t_str), -EINVAL);
	ck_assert_ptr_null(t_str);
}
END_TEST

/* --- lfd_add_env --- */

START_TEST(add_env_sets_fds_names_and_pid_slot_last)
{
	const char *names[] = { "virtqemud.socket", "virtqemud-admin.socket" };

	strv_add(&t_env, "PATH=/usr/bin");
	ck_assert_int_eq(lfd_add_env(&t_env, names, 2), 0);
	ck_assert_uint_eq(t_env.n, 4);
	ck_assert_str_eq(t_env.v[0], "PATH=/usr/bin");
	ck_assert_str_eq(t_env.v[1], "LISTEN_FDS=2");
	ck_assert_str_eq(t_env.v[2],
	    "LISTEN_FDNAMES=virtqemud.socket:virtqemud-admin.socket");
	ck_assert_str_eq(t_env.v[3], "LISTEN_PID=");
	ck_assert_ptr_null(t_env.v[4]);
}
END_TEST

START_TEST(add_env_pid_slot_holds_any_pid)
{
	const char *names[] = { "a.socket" };
	char *slot;

	ck_assert_int_eq(lfd_add_env(&t_env, names, 1), 0);
	slot = t_env.v[t_env.n - 1];
	/* The slot is LFD_PID_SLOT bytes: ASan/valgrind catch overruns. */
	ck_assert_uint_ge(LFD_PID_SLOT, strlen("LISTEN_PID=") + 20 + 1);
	lfd_format_pid(slot, 9223372036854775807L);
	ck_assert_str_eq(slot, "LISTEN_PID=9223372036854775807");
	lfd_format_pid(slot, 42);
	ck_assert_str_eq(t_env.v[t_env.n - 1], "LISTEN_PID=42");
}
END_TEST

START_TEST(add_env_counts_fds)
{
	const char *names[] = { "a", "b", "c" };

	ck_assert_int_eq(lfd_add_env(&t_env, names, 3), 0);
	ck_assert_str_eq(t_env.v[0], "LISTEN_FDS=3");
	ck_assert_str_eq(t_env.v[1], "LISTEN_FDNAMES=a:b:c");
}
END_TEST

START_TEST(add_env_rejects_invalid_names_and_adds_nothing)
{
	const char *names[] = { "good", "bad:name" };

	strv_add(&t_env, "HOME=/root");
	ck_assert_int_eq(lfd_add_env(&t_env, names, 2), -EINVAL);
	ck_assert_int_eq(lfd_add_env(&t_env, names, 0), -EINVAL);
	ck_assert_uint_eq(t_env.n, 1);
	ck_assert_str_eq(t_env.v[0], "HOME=/root");
}
END_TEST

/* --- lfd_format_pid --- */

static void
assert_pid(long pid, const char *want)
{
	char slot[LFD_PID_SLOT];

	memset(slot, 'X', sizeof(slot));
	memcpy(slot, LFD_PID_PREFIX, strlen(LFD_PID_PREFIX));
	lfd_format_pid(slot, pid);
	ck_assert_str_eq(slot, want);
}

START_TEST(format_pid_one)
{
	assert_pid(1, "LISTEN_PID=1");
}
END_TEST

START_TEST(format_pid_several_digits)
{
	assert_pid(12345, "LISTEN_PID=12345");
	assert_pid(10, "LISTEN_PID=10");
	assert_pid(100000, "LISTEN_PID=100000");
}
END_TEST

START_TEST(format_pid_int_max)
{
	assert_pid(2147483647L, "LISTEN_PID=2147483647");
}
END_TEST

START_TEST(format_pid_overwrites_longer_value)
{
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX;

	lfd_format_pid(slot, 4194304);
	ck_assert_str_eq(slot, "LISTEN_PID=4194304");
	lfd_format_pid(slot, 7);
	ck_assert_str_eq(slot, "LISTEN_PID=7");
}
END_TEST

/* --- lfd_is_reserved_env --- */

START_TEST(reserved_env_listen_variables)
{
	ck_assert(lfd_is_reserved_env("LISTEN_FDS=3"));
	ck_assert(lfd_is_reserved_env("LISTEN_PID=1"));
	ck_assert(lfd_is_reserved_env("LISTEN_FDNAMES=a:b"));
	ck_assert(lfd_is_reserved_env("LISTEN_FDS="));
}
END_TEST

START_TEST(reserved_env_not_other_variables)
{
	ck_assert(!lfd_is_reserved_env("LISTEN_FDSX=1"));
	ck_assert(!lfd_is_reserved_env("LISTEN_FD=1"));
	ck_assert(!lfd_is_reserved_env("LISTEN=1"));
	ck_assert(!lfd_is_reserved_env("PATH=/bin"));
	ck_assert(!lfd_is_reserved_env("listen_fds=1"));
	ck_assert(!lfd_is_reserved_env("XLISTEN_FDS=1"));
}
END_TEST

static Suite *
listenfds_suite(void)
{
	Suite *s = suite_create("listenfds");
	TCase *tc;

	tc = tcase_create("name_is_valid");
	tcase_add_test(tc, fdname_accepts_libvirt_names);
	tcase_add_test(tc, fdname_rejects_empty);
	tcase_add_test(tc, fdname_rejects_colon);
	tcase_add_test(tc, fdname_rejects_control_chars);
	tcase_add_test(tc, fdname_rejects_del);
	tcase_add_test(tc, fdname_rejects_non_ascii);
	tcase_add_test(tc, fdname_accepts_255_bytes);
	tcase_add_test(tc, fdname_rejects_256_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("build_names");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, build_names_joins_in_order);
	tcase_add_test(tc, build_names_single_name);
	tcase_add_test(tc, build_names_allows_repeated_name);
	tcase_add_test(tc, build_names_rejects_no_names);
	tcase_add_test(tc, build_names_rejects_any_invalid_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("add_env");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, add_env_sets_fds_names_and_pid_slot_last);
	tcase_add_test(tc, add_env_pid_slot_holds_any_pid);
	tcase_add_test(tc, add_env_counts_fds);
	tcase_add_test(tc, add_env_rejects_invalid_names_and_adds_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_pid");
	tcase_add_test(tc, format_pid_one);
	tcase_add_test(tc, format_pid_several_digits);
	tcase_add_test(tc, format_pid_int_max);
	tcase_add_test(tc, format_pid_overwrites_longer_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("reserved_env");
	tcase_add_test(tc, reserved_env_listen_variables);
	tcase_add_test(tc, reserved_env_not_other_variables);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listenfds_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
