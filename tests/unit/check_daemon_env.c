/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/daemon_env.c: the reduced environment a daemon is
 * exec'd with, and XDG_RUNTIME_DIR that makes it resolve the broker's R.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_env.h"
#include "plan.h"

static struct plan t_plan;
static struct unit_spec t_unit;
static struct strv t_env;

static void
setup(void)
{
	memset(&t_plan, 0, sizeof(t_plan));
	memset(&t_unit, 0, sizeof(t_unit));
	t_plan.mode = BROKER_MODE_SESSION;
	t_plan.runtime_dir = strdup("/run/user/1000/libvirt");
	t_plan.daemon_xdg_runtime_dir = strdup("/run/user/1000");
}

static void
teardown(void)
{
	free(t_plan.runtime_dir);
	free(t_plan.daemon_xdg_runtime_dir);
	strv_free(&t_unit.env);
	strv_free(&t_env);
}

/* The value of NAME in t_env, checking that it is set exactly once. */
static const char *
env_get(const char *name)
{
	size_t len = strlen(name);
	const char *found = NULL;

	for (size_t i = 0; i < t_env.n; i++) {
		if (strncmp(t_env.v[i], name, len) == 0 &&
		    t_env.v[i][len] == '=') {
			ck_assert_msg(found == NULL, "%s is set twice", name);
			found = t_env.v[i] + len + 1;
		}
	}
	return found;
}

static void
assert_no_duplicate_keys(void)
{
	for (size_t i = 0; i < t_env.n; i++) {
		size_t ki = strcspn(t_env.v[i], "=");

		ck_assert_msg(t_env.v[i][ki] == '=', "'%s' has no '='",
		    t_env.v[i]);
		for (size_t j = i + 1; j < t_env.n; j++) {
			size_t kj = strcspn(t_env.v[j], "=");

			ck_assert_msg(ki != kj || strncmp(t_env.v[i],
			    t_env.v[j], ki) != 0, "duplicate: '%s' and '%s'",
			    t_env.v[i], t_env.v[j]);
		}
	}
	ck_assert_ptr_null(t_env.v[t_env.n]);
}

static char *const parent[] = {
	"PATH=/usr/bin:/bin", "HOME=/home/u", "USER=u", "LOGNAME=u",
	"LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC", "XDG_CACHE_HOME=/home/u/.c",
	"XDG_CONFIG_HOME=/home/u/.k", "SSH_AUTH_SOCK=/tmp/ssh-x/agent.1",
	"DISPLAY=:0", "LISTEN_FDS=3", "LISTEN_PID=77",
	"LISTEN_FDNAMES=x", "XDG_RUNTIME_DIR=/somewhere/else",
	"DBUS_SESSION_BUS_ADDRESS=unix:path=/x", "LD_PRELOAD=/evil.so",
	NULL,
};

/* --- what is kept --- */

START_TEST(keeps_identity_path_locale_and_xdg)
{
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("PATH"), "/usr/bin:/bin");
	ck_assert_str_eq(env_get("HOME"), "/home/u");
	ck_assert_str_eq(env_get("USER"), "u");
	ck_assert_str_eq(env_get("LOGNAME"), "u");
	ck_assert_str_eq(env_get("LANG"), "C.UTF-8");
	ck_assert_str_eq(env_get("LC_ALL"), "C");
	ck_assert_str_eq(env_get("TZ"), "UTC");
	ck_assert_str_eq(env_get("XDG_CACHE_HOME"), "/home/u/.c");
	ck_assert_str_eq(env_get("XDG_CONFIG_HOME"), "/home/u/.k");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(drops_unlisted_variables)
{
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_ptr_null(env_get("SSH_AUTH_SOCK"));
	ck_assert_ptr_null(env_get("DISPLAY"));
	ck_assert_ptr_null(env_get("LISTEN_FDS"));
	ck_assert_ptr_null(env_get("LISTEN_PID"));
	ck_assert_ptr_null(env_get("LISTEN_FDNAMES"));
	ck_assert_ptr_null(env_get("DBUS_SESSION_BUS_ADDRESS"));
	ck_assert_ptr_null(env_get("LD_PRELOAD"));
	/* 9 kept + XDG_RUNTIME_DIR. */
	ck_assert_uint_eq(t_env.n, 10);
}
END_TEST

START_TEST(keeps_first_of_duplicate_parent_entries)
{
	char *const dup[] = { "HOME=/first", "HOME=/second", "PATH=/p",
	    NULL };

	denv_build(&t_plan, &t_unit, dup, &t_env);
	ck_assert_str_eq(env_get("HOME"), "/first");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(ignores_entries_without_equals)
{
	char *const odd[] = { "HOME", "PATHX=/x", "PATH=/p", NULL };

	denv_build(&t_plan, &t_unit, odd, &t_env);
	ck_assert_ptr_null(env_get("HOME"));
	ck_assert_ptr_null(env_get("PATHX"));
	ck_assert_str_eq(env_get("PATH"), "/p");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(adds_default_path_when_missing)
{
	char *const nopath[] = { "HOME=/home/u", NULL };
	const char *path;

	denv_build(&t_plan, &t_unit, nopath, &t_env);
	path = env_get("PATH");
	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(strstr(path, "/usr/sbin"));
	ck_assert_ptr_nonnull(strstr(path, "/usr/bin"));
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(empty_or_null_parent_gives_path_and_runtime_dir)
{
	char *const empty[] = { NULL };

	denv_build(&t_plan, &t_unit, empty, &t_env);
	ck_assert_uint_eq(t_env.n, 2);
	ck_assert_ptr_nonnull(env_get("PATH"));
	ck_assert_str_eq(env_get("XDG_RUNTIME_DIR"), "/run/user/1000");
	denv_build(&t_plan, &t_unit, NULL, &t_env);
	ck_assert_uint_eq(t_env.n, 2);
	ck_assert_ptr_nonnull(env_get("PATH"));
}
END_TEST

/* --- XDG_RUNTIME_DIR --- */

START_TEST(sets_xdg_runtime_dir_from_plan)
{
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("XDG_RUNTIME_DIR"), "/run/user/1000");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(xdg_runtime_dir_set_even_if_parent_lacks_it)
{
	char *const nox[] = { "PATH=/p", "HOME=/home/u", NULL };

	free(t_plan.daemon_xdg_runtime_dir);
	t_plan.daemon_xdg_runtime_dir = strdup("/home/u/.cache");
	denv_build(&t_plan, &t_unit, nox, &t_env);
	ck_assert_str_eq(env_get("XDG_RUNTIME_DIR"), "/home/u/.cache");
}
END_TEST

START_TEST(omits_xdg_runtime_dir_in_system_mode)
{
	t_plan.mode = BROKER_MODE_SYSTEM;
	free(t_plan.daemon_xdg_runtime_dir);
	t_plan.daemon_xdg_runtime_dir = NULL;
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_ptr_null(env_get("XDG_RUNTIME_DIR"));
	ck_assert_str_eq(env_get("PATH"), "/usr/bin:/bin");
}
END_TEST

/* R = ~/.cache/libvirt: the daemon resolves it without XDG_RUNTIME_DIR. */
START_TEST(default_session_unsets_xdg_and_hands_over_pipewire)
{
	char *const desk[] = { "PATH=/p", "XDG_RUNTIME_DIR=/run/user/1000",
	    "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus", NULL };

	free(t_plan.daemon_xdg_runtime_dir);
	t_plan.daemon_xdg_runtime_dir = NULL;
	t_plan.pipewire_runtime_dir = strdup("/run/user/1000");
	denv_build(&t_plan, &t_unit, desk, &t_env);
	ck_assert_ptr_null(env_get("XDG_RUNTIME_DIR"));
	ck_assert_ptr_null(env_get("DBUS_SESSION_BUS_ADDRESS"));
	ck_assert_str_eq(env_get("PIPEWIRE_RUNTIME_DIR"), "/run/user/1000");
	free(t_plan.pipewire_runtime_dir);
	t_plan.pipewire_runtime_dir = NULL;
}
END_TEST

/* The user's own PIPEWIRE_RUNTIME_DIR wins over the derived one. */
START_TEST(parent_pipewire_runtime_dir_is_kept)
{
	char *const pw[] = { "PATH=/p", "PIPEWIRE_RUNTIME_DIR=/srv/pw", NULL };

	t_plan.pipewire_runtime_dir = strdup("/run/user/1000");
	denv_build(&t_plan, &t_unit, pw, &t_env);
	ck_assert_str_eq(env_get("PIPEWIRE_RUNTIME_DIR"), "/srv/pw");
	assert_no_duplicate_keys();
	free(t_plan.pipewire_runtime_dir);
	t_plan.pipewire_runtime_dir = NULL;
}
END_TEST

/* --- the unit's env --- */

START_TEST(unit_env_overrides_parent_value)
{
	strv_add(&t_unit.env, "PATH=/opt/bin");
	strv_add(&t_unit.env, "LANG=de_DE.UTF-8");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("PATH"), "/opt/bin");
	ck_assert_str_eq(env_get("LANG"), "de_DE.UTF-8");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(unit_env_overrides_xdg_runtime_dir)
{
	strv_add(&t_unit.env, "XDG_RUNTIME_DIR=/srv/rt");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("XDG_RUNTIME_DIR"), "/srv/rt");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(unit_env_appends_new_variables_in_order)
{
	size_t before;

	denv_build(&t_plan, &t_unit, parent, &t_env);
	before = t_env.n;
	strv_add(&t_unit.env, "LIBVIRT_DEBUG=1");
	strv_add(&t_unit.env, "LIBVIRT_LOG_OUTPUTS=1:stderr");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_uint_eq(t_env.n, before + 2);
	ck_assert_str_eq(t_env.v[before], "LIBVIRT_DEBUG=1");
	ck_assert_str_eq(t_env.v[before + 1], "LIBVIRT_LOG_OUTPUTS=1:stderr");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(unit_env_later_entry_wins)
{
	strv_add(&t_unit.env, "FOO=1");
	strv_add(&t_unit.env, "FOO=2");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("FOO"), "2");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(unit_env_may_pass_a_dropped_variable)
{
	strv_add(&t_unit.env, "DISPLAY=:1");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("DISPLAY"), ":1");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(unit_env_prefix_is_not_same_key)
{
	strv_add(&t_unit.env, "PATHX=/x");
	strv_add(&t_unit.env, "PAT=/y");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_str_eq(env_get("PATH"), "/usr/bin:/bin");
	ck_assert_str_eq(env_get("PATHX"), "/x");
	ck_assert_str_eq(env_get("PAT"), "/y");
	assert_no_duplicate_keys();
}
END_TEST

START_TEST(build_replaces_previous_output)
{
	strv_add(&t_env, "STALE=1");
	denv_build(&t_plan, &t_unit, parent, &t_env);
	ck_assert_ptr_null(env_get("STALE"));
}
END_TEST

static Suite *
daemon_env_suite(void)
{
	Suite *s = suite_create("daemon_env");
	TCase *tc;

	tc = tcase_create("filter");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keeps_identity_path_locale_and_xdg);
	tcase_add_test(tc, drops_unlisted_variables);
	tcase_add_test(tc, keeps_first_of_duplicate_parent_entries);
	tcase_add_test(tc, ignores_entries_without_equals);
	tcase_add_test(tc, adds_default_path_when_missing);
	tcase_add_test(tc, empty_or_null_parent_gives_path_and_runtime_dir);
	tcase_add_test(tc, build_replaces_previous_output);
	suite_add_tcase(s, tc);

	tc = tcase_create("xdg_runtime_dir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sets_xdg_runtime_dir_from_plan);
	tcase_add_test(tc, xdg_runtime_dir_set_even_if_parent_lacks_it);
	tcase_add_test(tc, omits_xdg_runtime_dir_in_system_mode);
	tcase_add_test(tc, default_session_unsets_xdg_and_hands_over_pipewire);
	tcase_add_test(tc, parent_pipewire_runtime_dir_is_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("unit_env");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unit_env_overrides_parent_value);
	tcase_add_test(tc, unit_env_overrides_xdg_runtime_dir);
	tcase_add_test(tc, unit_env_appends_new_variables_in_order);
	tcase_add_test(tc, unit_env_later_entry_wins);
	tcase_add_test(tc, unit_env_may_pass_a_dropped_variable);
	tcase_add_test(tc, unit_env_prefix_is_not_same_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(daemon_env_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
