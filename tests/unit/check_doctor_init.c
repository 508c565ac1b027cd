/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virt-brokerctl doctor's init-services check
 * (ctl/doctor_init.c) on a made-up root: each init system's way of
 * enabling a libvirt service found, with the command that disables it
 * there; other services and an empty root give one ok line.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"

static char root[64];

static void
make(const char *rel, bool dir)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		(void)mkdir(path, 0755);
		*slash = '/';
	}
	if (dir)
		ck_assert_int_eq(mkdir(path, 0755), 0);
	else
		ck_assert_int_eq(symlink("/nonexistent/target", path), 0);
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/vb-doctor.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
teardown(void)
{
	ck_assert_int_eq(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* The finding whose what contains needle: its fix, or NULL if none. */
static const struct doctor_finding *
find(const struct doctor *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].what, needle) != NULL)
			return &d->v[i];
	return NULL;
}

static void
assert_fix(const struct doctor *d, const char *needle, const char *fix)
{
	const struct doctor_finding *f = find(d, needle);

	ck_assert_msg(f != NULL, "no finding with '%s'", needle);
	ck_assert_int_eq(f->level, DOCTOR_FAIL);
	ck_assert_str_eq(f->check, "init");
	ck_assert_str_eq(f->fix, fix);
}

START_TEST(each_init_systems_enabled_service_with_its_fix)
{
	struct doctor d = { 0 };

	make("etc/rc2.d/S01libvirtd", false);
	make("etc/rc2.d/S02sshd", false);			/* not libvirt's */
	make("etc/rc0.d/K01libvirtd", false);			/* a stop link */
	make("etc/runlevels/default/virtqemud", false);
	make("etc/runlevels/boot/virtlogd", false);
	make("var/service/libvirtd", false);			/* Void */
	make("etc/runit/runsvdir/default/virtlockd", false);	/* Artix */
	make("etc/service/virtnetworkd", false);		/* Debian runit */
	make("etc/s6/adminsv/default/contents.d/libvirtd", true);
	make("etc/systemd/system/sockets.target.wants/virtqemud.socket",
	    false);
	make("etc/systemd/system/multi-user.target.wants/libvirt-guests."
	    "service", false);				/* not a daemon */
	doctor_init_services(&d, root);
	ck_assert_uint_eq(d.n, 8);
	assert_fix(&d, "sysvinit starts libvirtd at boot",
	    "update-rc.d libvirtd disable && service libvirtd stop");
	assert_fix(&d, "OpenRC starts virtqemud",
	    "rc-update del virtqemud default && rc-service virtqemud stop");
	assert_fix(&d, "OpenRC starts virtlogd",
	    "rc-update del virtlogd boot && rc-service virtlogd stop");
	assert_fix(&d, "/var/service/libvirtd",
	    "rm /var/service/libvirtd   (runsvdir stops it)");
	assert_fix(&d, "runit starts virtlockd",
	    "rm /etc/runit/runsvdir/default/virtlockd && sv down virtlockd");
	assert_fix(&d, "runit starts virtnetworkd",
	    "rm /etc/service/virtnetworkd && sv down virtnetworkd");
	assert_fix(&d, "s6 starts libvirtd",
	    "s6-service delete default libvirtd && s6-db-reload && "
	    "s6-rc -d change libvirtd");
	assert_fix(&d, "systemd starts virtqemud.socket",
	    "systemctl disable --now virtqemud.service virtqemud.socket");
	ck_assert_int_eq(doctor_exit_status(&d), 1);
	doctor_free(&d);
}
END_TEST

START_TEST(nothing_enabled_is_one_ok_line)
{
	struct doctor d = { 0 };

	make("etc/rc2.d/S02sshd", false);
	make("etc/runlevels/default/sshd", false);
	doctor_init_services(&d, root);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, DOCTOR_OK);
	ck_assert_ptr_null(d.v[0].fix);
	ck_assert_int_eq(doctor_exit_status(&d), 0);
	doctor_free(&d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("doctor_init");
	TCase *tc = tcase_create("doctor_init");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, each_init_systems_enabled_service_with_its_fix);
	tcase_add_test(tc, nothing_enabled_is_one_ok_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
