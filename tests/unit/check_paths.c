/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/paths.c: libvirt's session runtime dir R (glib's
 * g_get_user_runtime_dir() + "/libvirt"), the config file, path helpers.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

static char *t_str;

static void
teardown(void)
{
	free(t_str);
	t_str = NULL;
}

/* --- paths_session_runtime_dir --- */

START_TEST(runtime_dir_uses_xdg_runtime_dir)
{
	ck_assert_int_eq(paths_session_runtime_dir("/run/user/1000",
	    "/home/u/.xcache", "/home/u", &t_str), 0);
	ck_assert_str_eq(t_str, "/run/user/1000/libvirt");
}
END_TEST

START_TEST(runtime_dir_strips_trailing_slashes_of_xdg)
{
	ck_assert_int_eq(paths_session_runtime_dir("/run/user/1000/", NULL,
	    NULL, &t_str), 0);
	ck_assert_str_eq(t_str, "/run/user/1000/libvirt");
	free(t_str);
	t_str = NULL;
	ck_assert_int_eq(paths_session_runtime_dir("/run/user/1000//", NULL,
	    NULL, &t_str), 0);
	ck_assert_str_eq(t_str, "/run/user/1000/libvirt");
}
END_TEST

/* glib: g_build_filename("/", "libvirt") is "/libvirt". */
START_TEST(runtime_dir_xdg_runtime_dir_root_gives_single_slash)
{
	ck_assert_int_eq(paths_session_runtime_dir("/", NULL, NULL, &t_str),
	    0);
	ck_assert_str_eq(t_str, "/libvirt");
}
END_TEST

START_TEST(runtime_dir_empty_xdg_runtime_dir_counts_as_unset)
{
	ck_assert_int_eq(paths_session_runtime_dir("", "/home/u/.xcache",
	    "/home/u", &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.xcache/libvirt");
}
END_TEST

START_TEST(runtime_dir_falls_back_to_xdg_cache_home)
{
	ck_assert_int_eq(paths_session_runtime_dir(NULL, "/home/u/.xcache",
	    "/home/u", &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.xcache/libvirt");
}
END_TEST

START_TEST(runtime_dir_strips_trailing_slash_of_xdg_cache_home)
{
	ck_assert_int_eq(paths_session_runtime_dir(NULL, "/c/", "/home/u",
	    &t_str), 0);
	ck_assert_str_eq(t_str, "/c/libvirt");
}
END_TEST

START_TEST(runtime_dir_falls_back_to_home_cache)
{
	ck_assert_int_eq(paths_session_runtime_dir(NULL, NULL, "/home/u",
	    &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.cache/libvirt");
	free(t_str);
	t_str = NULL;
	ck_assert_int_eq(paths_session_runtime_dir("", "", "/home/u",
	    &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.cache/libvirt");
}
END_TEST

START_TEST(runtime_dir_home_root_gives_single_slash)
{
	ck_assert_int_eq(paths_session_runtime_dir(NULL, NULL, "/", &t_str),
	    0);
	ck_assert_str_eq(t_str, "/.cache/libvirt");
}
END_TEST

/* glib: g_build_filename("/home/u/", ".cache") is "/home/u/.cache". */
START_TEST(runtime_dir_strips_trailing_slash_of_home)
{
	ck_assert_int_eq(paths_session_runtime_dir(NULL, NULL, "/home/u/",
	    &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.cache/libvirt");
}
END_TEST

START_TEST(runtime_dir_without_any_variable_is_enoent)
{
	t_str = NULL;
	ck_assert_int_eq(paths_session_runtime_dir(NULL, NULL, NULL, &t_str),
	    -ENOENT);
	ck_assert_ptr_null(t_str);
	ck_assert_int_eq(paths_session_runtime_dir("", "", "", &t_str),
	    -ENOENT);
	ck_assert_ptr_null(t_str);
}
END_TEST

/* --- paths_session_config_file --- */

START_TEST(config_file_uses_xdg_config_home)
{
	ck_assert_int_eq(paths_session_config_file("/home/u/.xconfig",
	    "/home/u", &t_str), 0);
	ck_assert_str_eq(t_str,
	    "/home/u/.xconfig/virt-broker/virt-broker.conf");
}
END_TEST

START_TEST(config_file_falls_back_to_home_config)
{
	ck_assert_int_eq(paths_session_config_file(NULL, "/home/u", &t_str),
	    0);
	ck_assert_str_eq(t_str, "/home/u/.config/virt-broker/virt-broker.conf");
	free(t_str);
	t_str = NULL;
	ck_assert_int_eq(paths_session_config_file("", "/home/u", &t_str), 0);
	ck_assert_str_eq(t_str, "/home/u/.config/virt-broker/virt-broker.conf");
}
END_TEST

START_TEST(config_file_home_root_gives_single_slash)
{
	ck_assert_int_eq(paths_session_config_file(NULL, "/", &t_str), 0);
	ck_assert_str_eq(t_str, "/.config/virt-broker/virt-broker.conf");
}
END_TEST

START_TEST(config_file_without_any_variable_is_enoent)
{
	ck_assert_int_eq(paths_session_config_file(NULL, NULL, &t_str),
	    -ENOENT);
	ck_assert_ptr_null(t_str);
	ck_assert_int_eq(paths_session_config_file("", "", &t_str), -ENOENT);
	ck_assert_ptr_null(t_str);
}
END_TEST

/* --- paths_join, paths_dirname --- */

START_TEST(join_adds_one_slash)
{
	t_str = paths_join("/run/libvirt", "virtqemud-sock");
	ck_assert_str_eq(t_str, "/run/libvirt/virtqemud-sock");
}
END_TEST

START_TEST(join_strips_trailing_slashes)
{
	t_str = paths_join("/run/libvirt//", "x");
	ck_assert_str_eq(t_str, "/run/libvirt/x");
}
END_TEST

START_TEST(join_keeps_absolute_path)
{
	t_str = paths_join("/run/libvirt", "/srv/sock");
	ck_assert_str_eq(t_str, "/srv/sock");
}
END_TEST

START_TEST(join_keeps_relative_subdirectory)
{
	t_str = paths_join("/r", "sub/sock");
	ck_assert_str_eq(t_str, "/r/sub/sock");
}
END_TEST

START_TEST(join_root_dir_gives_single_slash)
{
	t_str = paths_join("/", "x");
	ck_assert_str_eq(t_str, "/x");
}
END_TEST

START_TEST(dirname_drops_last_component)
{
	t_str = paths_dirname("/run/user/1000/libvirt");
	ck_assert_str_eq(t_str, "/run/user/1000");
}
END_TEST

START_TEST(dirname_of_top_level_is_root)
{
	t_str = paths_dirname("/libvirt");
	ck_assert_str_eq(t_str, "/");
}
END_TEST

START_TEST(dirname_of_relative_name_is_dot)
{
	t_str = paths_dirname("libvirt");
	ck_assert_str_eq(t_str, ".");
}
END_TEST

/* --- paths_is_clean_absolute --- */

START_TEST(clean_accepts_plain_absolute_paths)
{
	ck_assert_int_eq(paths_is_clean_absolute("/a/b"), 1);
	ck_assert_int_eq(paths_is_clean_absolute("/run/user/1000/libvirt"), 1);
	ck_assert_int_eq(paths_is_clean_absolute("/a"), 1);
	ck_assert_int_eq(paths_is_clean_absolute("/"), 1);
}
END_TEST

START_TEST(clean_accepts_dotted_names)
{
	ck_assert_int_eq(paths_is_clean_absolute("/home/u/.cache"), 1);
	ck_assert_int_eq(paths_is_clean_absolute("/a/..b/c."), 1);
	ck_assert_int_eq(paths_is_clean_absolute("/a/..."), 1);
}
END_TEST

START_TEST(clean_rejects_relative)
{
	ck_assert_int_eq(paths_is_clean_absolute("a/b"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("./a"), 0);
	ck_assert_int_eq(paths_is_clean_absolute(""), 0);
}
END_TEST

START_TEST(clean_rejects_empty_components)
{
	ck_assert_int_eq(paths_is_clean_absolute("//"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("//a"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/a//b"), 0);
}
END_TEST

START_TEST(clean_rejects_dot_components)
{
	ck_assert_int_eq(paths_is_clean_absolute("/a/./b"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/a/."), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/."), 0);
}
END_TEST

START_TEST(clean_rejects_dotdot_components)
{
	ck_assert_int_eq(paths_is_clean_absolute("/a/../b"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/.."), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/a/.."), 0);
}
END_TEST

START_TEST(clean_rejects_trailing_slash)
{
	ck_assert_int_eq(paths_is_clean_absolute("/a/b/"), 0);
	ck_assert_int_eq(paths_is_clean_absolute("/a/"), 0);
}
END_TEST

static Suite *
paths_suite(void)
{
	Suite *s = suite_create("paths");
	TCase *tc;

	tc = tcase_create("session_runtime_dir");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, runtime_dir_uses_xdg_runtime_dir);
	tcase_add_test(tc, runtime_dir_strips_trailing_slashes_of_xdg);
	tcase_add_test(tc, runtime_dir_xdg_runtime_dir_root_gives_single_slash);
	tcase_add_test(tc, runtime_dir_empty_xdg_runtime_dir_counts_as_unset);
	tcase_add_test(tc, runtime_dir_falls_back_to_xdg_cache_home);
	tcase_add_test(tc, runtime_dir_strips_trailing_slash_of_xdg_cache_home);
	tcase_add_test(tc, runtime_dir_falls_back_to_home_cache);
	tcase_add_test(tc, runtime_dir_home_root_gives_single_slash);
	tcase_add_test(tc, runtime_dir_strips_trailing_slash_of_home);
	tcase_add_test(tc, runtime_dir_without_any_variable_is_enoent);
	suite_add_tcase(s, tc);

	tc = tcase_create("session_config_file");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, config_file_uses_xdg_config_home);
	tcase_add_test(tc, config_file_falls_back_to_home_config);
	tcase_add_test(tc, config_file_home_root_gives_single_slash);
	tcase_add_test(tc, config_file_without_any_variable_is_enoent);
	suite_add_tcase(s, tc);

	tc = tcase_create("join_dirname");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, join_adds_one_slash);
	tcase_add_test(tc, join_strips_trailing_slashes);
	tcase_add_test(tc, join_keeps_absolute_path);
	tcase_add_test(tc, join_keeps_relative_subdirectory);
	tcase_add_test(tc, join_root_dir_gives_single_slash);
	tcase_add_test(tc, dirname_drops_last_component);
	tcase_add_test(tc, dirname_of_top_level_is_root);
	tcase_add_test(tc, dirname_of_relative_name_is_dot);
	suite_add_tcase(s, tc);

	tc = tcase_create("is_clean_absolute");
	tcase_add_test(tc, clean_accepts_plain_absolute_paths);
	tcase_add_test(tc, clean_accepts_dotted_names);
	tcase_add_test(tc, clean_rejects_relative);
	tcase_add_test(tc, clean_rejects_empty_components);
	tcase_add_test(tc, clean_rejects_dot_components);
	tcase_add_test(tc, clean_rejects_dotdot_components);
	tcase_add_test(tc, clean_rejects_trailing_slash);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(paths_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
