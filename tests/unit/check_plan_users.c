/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/plan_users.c: [broker] users and [user@NAME]
 * sections -> one unit per allowed user, running the broker's own binary
 * in session mode as that user. Groups are faked: group_members() knows
 * "libvirt" (alice, bob, root) and "empty".
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define SELF "/usr/sbin/virt-broker"

static struct config *t_cfg;
static struct plan *t_plan;

static void
teardown(void)
{
	plan_free(t_plan);
	t_plan = NULL;
	cfg_free(t_cfg);
	t_cfg = NULL;
}

static int
fake_members(const char *group, struct strv *ret, void *arg)
{
	(void)arg;
	if (strcmp(group, "libvirt") == 0) {
		strv_add(ret, "alice");
		strv_add(ret, "bob");
		strv_add(ret, "root");		/* never a user's broker */
		return 0;
	}
	return strcmp(group, "empty") == 0 ? 0 : -ENOENT;
}

static bool
none_installed(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	return false;
}

static int
build(const char *text, enum broker_mode mode)
{
	struct plan_input in = {
		.default_mode = mode,
		.home = "/root",
		.is_executable = none_installed,
		.self_exe = SELF,
		.group_members = fake_members,
	};

	plan_free(t_plan);
	t_plan = NULL;
	cfg_free(t_cfg);
	t_cfg = cfg_new("/etc/virt-broker/virt-broker.conf");
	(void)cfg_parse_string(t_cfg, text);
	return plan_build(t_cfg, &in, &t_plan);
}

static const char *
first_error(void)
{
	return t_cfg->errors.n > 0 ? t_cfg->errors.v[0] : "(none)";
}

START_TEST(users_and_groups_give_one_unit_each_in_order)
{
	const struct unit_spec *u;

	ck_assert_msg(build("[broker]\nusers = carol @libvirt alice\n",
	    BROKER_MODE_SYSTEM) == 0, "%s", first_error());
	ck_assert_int_eq(t_plan->nunits, 3);
	ck_assert_str_eq(t_plan->units[0].name, "user@carol");
	ck_assert_str_eq(t_plan->units[1].name, "user@alice");
	ck_assert_str_eq(t_plan->units[2].name, "user@bob");
	u = plan_find(t_plan, "user@alice");
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->user, "alice");
	ck_assert_str_eq(u->exec, SELF);
	ck_assert_int_eq(u->argv.n, 3);
	ck_assert_str_eq(u->argv.v[0], SELF);
	ck_assert_str_eq(u->argv.v[1], "--session");
	ck_assert_str_eq(u->argv.v[2], "--boot");
	ck_assert_int_eq(u->nsockets, 0);
	ck_assert_int_eq(u->start, START_AT_LAUNCH);
	ck_assert_int_eq(u->restart, RESTART_ALWAYS);
	ck_assert(u->stop_first);
	ck_assert(!u->stop_last);
	ck_assert_uint_eq(u->stop_timeout, CFG_DEFAULT_USER_STOP_TIMEOUT);
	ck_assert_ptr_null(plan_find(t_plan, "user@root"));
}
END_TEST

START_TEST(a_user_section_changes_that_users_broker_only)
{
	ck_assert_msg(build("[broker]\nusers = alice bob\n[user@bob]\n"
	    "start = on-demand\nstop_timeout = 600\nenv = LANG=C.UTF-8\n"
	    "[user@alice]\nstart = disabled\n", BROKER_MODE_SYSTEM) == 0,
	    "%s", first_error());
	ck_assert_ptr_null(plan_find(t_plan, "user@alice"));
	ck_assert_int_eq(plan_find(t_plan, "user@bob")->start,
	    START_ON_DEMAND);
	ck_assert_uint_eq(plan_find(t_plan, "user@bob")->stop_timeout, 600);
	ck_assert_str_eq(plan_find(t_plan, "user@bob")->env.v[0],
	    "LANG=C.UTF-8");
}
END_TEST

START_TEST(errors_name_the_user_or_group)
{
	ck_assert_int_ne(build("[broker]\nusers = @nogroup\n",
	    BROKER_MODE_SYSTEM), 0);
	ck_assert_str_eq(first_error(), "/etc/virt-broker/virt-broker.conf: "
	    "[broker] users: no group 'nogroup'");
	ck_assert_int_ne(build("[broker]\nusers = alice\n[user@bob]\n"
	    "start = on-demand\n", BROKER_MODE_SYSTEM), 0);
	ck_assert_msg(strstr(first_error(), "[user@bob]: bob is not one of "
	    "[broker] users") != NULL, "%s", first_error());
	ck_assert_int_ne(build("[broker]\nusers = alice\n[user@alice]\n"
	    "exec = /bin/sh\n", BROKER_MODE_SYSTEM), 0);
	ck_assert_msg(strstr(first_error(), "a user's broker takes only") !=
	    NULL, "%s", first_error());
	ck_assert_int_ne(build("[broker]\nusers = root\n",
	    BROKER_MODE_SYSTEM), 0);
	ck_assert_msg(strstr(first_error(), "root's guests") != NULL, "%s",
	    first_error());
	ck_assert_int_ne(build("[broker]\nusers = ../x\n",
	    BROKER_MODE_SYSTEM), 0);
	ck_assert_msg(strstr(first_error(), "'../x' is not a user name") !=
	    NULL, "%s", first_error());
	ck_assert_int_ne(build("[broker]\nusers = alice\n",
	    BROKER_MODE_SESSION), 0);
	ck_assert_msg(strstr(first_error(), "only a system broker") != NULL,
	    "%s", first_error());
}
END_TEST

START_TEST(an_empty_group_gives_none)
{
	ck_assert_msg(build("[broker]\nusers = @empty\n",
	    BROKER_MODE_SYSTEM) == 0, "%s", first_error());
	ck_assert_int_eq(t_plan->nunits, 0);
}
END_TEST

START_TEST(reload_sees_a_changed_user_unit_as_changed)
{
	struct unit_spec a;

	ck_assert_int_eq(build("[broker]\nusers = alice\n",
	    BROKER_MODE_SYSTEM), 0);
	unit_spec_copy(&a, &t_plan->units[0]);
	ck_assert(unit_spec_equal(&a, &t_plan->units[0]));
	free(a.user);
	a.user = strdup("bob");
	ck_assert(!unit_spec_equal(&a, &t_plan->units[0]));
	unit_spec_clear(&a);
}
END_TEST

static bool
modular_installed(const char *path, void *arg)
{
	(void)arg;
	return strcmp(path, "/usr/sbin/virtqemud") == 0 ||
	    strcmp(path, "/usr/sbin/virtnetworkd") == 0 ||
	    strcmp(path, "/usr/sbin/virtstoraged") == 0;
}

/* The fake user: autostart networks, nothing for QEMU or storage. */
static bool
networks_only(const char *unit, const char *rt, void *arg)
{
	(void)arg;
	ck_assert_str_eq(rt, "/home/u/.cache/libvirt");
	return strcmp(unit, "virtnetworkd") == 0;
}

/* --boot: a daemon starts at launch only with work to take up. */
START_TEST(at_boot_only_daemons_with_work_start_at_launch)
{
	struct plan_input in = {
		.default_mode = BROKER_MODE_SESSION,
		.home = "/home/u",
		.is_executable = modular_installed,
		.boot = true,
		.has_boot_work = networks_only,
	};

	t_cfg = cfg_new("/home/u/.config/virt-broker/virt-broker.conf");
	ck_assert_int_eq(cfg_parse_string(t_cfg, "[virtstoraged]\n"
	    "start = at-launch\n"), 0);
	ck_assert_int_eq(plan_build(t_cfg, &in, &t_plan), 0);
	ck_assert_int_eq(plan_find(t_plan, "virtqemud")->start,
	    START_ON_DEMAND);
	ck_assert_int_eq(plan_find(t_plan, "virtnetworkd")->start,
	    START_AT_LAUNCH);
	/* what the config says wins */
	ck_assert_int_eq(plan_find(t_plan, "virtstoraged")->start,
	    START_AT_LAUNCH);
	plan_free(t_plan);
	t_plan = NULL;
	in.boot = false;	/* a login's broker: the catalog's default */
	ck_assert_int_eq(plan_build(t_cfg, &in, &t_plan), 0);
	ck_assert_int_eq(plan_find(t_plan, "virtqemud")->start,
	    START_AT_LAUNCH);
	ck_assert_int_eq(plan_find(t_plan, "virtnetworkd")->start,
	    START_ON_DEMAND);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("plan_users");
	TCase *tc = tcase_create("users");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, users_and_groups_give_one_unit_each_in_order);
	tcase_add_test(tc, a_user_section_changes_that_users_broker_only);
	tcase_add_test(tc, errors_name_the_user_or_group);
	tcase_add_test(tc, an_empty_group_gives_none);
	tcase_add_test(tc, reload_sees_a_changed_user_unit_as_changed);
	tcase_add_test(tc, at_boot_only_daemons_with_work_start_at_launch);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
