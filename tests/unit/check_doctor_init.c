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

/* root/rel with text (its directories made). */
static void
write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	(void)unlink(path);	/* written again */
	make(rel, false);	/* the directories; then the file itself */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* A made-up /proc: pid 1 is init, libvirtd and virtlogd its children, a
 * virtqemud another's (a client's autospawn, the daemons check's). */
static void
fake_proc(const char *init)
{
	write_file("proc/1/comm", init);
	write_file("proc/1/stat", "1 (init) S 0 1 1 0\n");
	write_file("proc/200/comm", "libvirtd\n");
	write_file("proc/200/stat", "200 (libvirtd) S 1 200 200 0\n");
	write_file("proc/201/comm", "virtlogd\n");
	write_file("proc/201/stat", "201 (virtlogd) S 1 201 201 0\n");
	write_file("proc/300/comm", "virtqemud\n");
	write_file("proc/300/stat", "300 (virtqemud) S 299 300 300 0\n");
}

/* Guix: what Shepherd's libvirt-service-type and virtlog-service-type
 * run, with the config change; the same daemons under another init are
 * not said (their services are found where that init enables them). */
START_TEST(shepherds_libvirt_daemons_with_the_config_change)
{
	struct doctor d = { 0 };

	fake_proc("shepherd\n");
	doctor_init_services(&d, root);
	ck_assert_uint_eq(d.n, 2);
	assert_fix(&d, "Shepherd runs libvirtd (pid 200): Guix's "
	    "libvirt-service-type", "remove (service libvirt-service-type ...) "
	    "and (service virtlog-service-type) from your operating-system's "
	    "services, keep virt-broker-service-type, then sudo guix system "
	    "reconfigure /etc/config.scm");
	ck_assert_ptr_nonnull(find(&d, "Shepherd runs virtlogd (pid 201): "
	    "Guix's virtlog-service-type"));
	ck_assert_int_eq(doctor_exit_status(&d), 1);
	doctor_free(&d);
	memset(&d, 0, sizeof(d));
	write_file("proc/1/comm", "runit\n");
	doctor_init_services(&d, root);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, DOCTOR_OK);
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
	tcase_add_test(tc, shepherds_libvirt_daemons_with_the_config_change);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
