/* SPDX-License-Identifier: MIT */
/*
 * Integration, logout and reboot: a published directory removed file by
 * file (pam_rundir's rm -rf) is never fought; a tmpfs mounted on it after it
 * was made (logind) gets the links; socket files wiped while a unit waits
 * in backoff keep the relaunch; the control socket comes back when its
 * directory does; libvirt's autostart markers are removed in a new boot and
 * only then. The real broker, the test daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000

static bool
need_root(const char *test)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "%s: needs root (a parent dir not ours, mounts); "
	    "checked in CI\n", test);
	return false;
}

static void
conf(const char *publish)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = %s\n[fake]\nexec = %s\n"
	    "socket = a.socket sock-a\nsocket = b.socket sock-b\n",
	    publish, h_fake_daemon());
}

/* H.dir/runuser (not ours, like /run/user) and runuser/1000 in it. */
static void
make_runuser(char **ret_uid, char **ret_pub)
{
	char *runuser = h_dir("runuser");

	ck_assert_int_eq(mkdir(runuser, 0755), 0);
	ck_assert_int_eq(chown(runuser, 65534, 65534), 0);
	free(runuser);
	*ret_uid = h_dir("runuser/1000");
	*ret_pub = h_dir("runuser/1000/libvirt");
}

/*
 * A removal that takes its time, as pam_rundir's on a full runtime dir:
 * one entry every 40 ms (the duration of the removal being modelled, not a
 * wait for the broker), then rmdir. 0, or -errno of the failed step.
 */
static int
slow_rm_rf(const char *uid, const char *pub)
{
	const char *names[] = { "sock-a", "sock-b" };
	char path[600];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", pub, names[i]);
		if (unlink(path) < 0)
			return -errno;
		(void)poll(NULL, 0, 40);
	}
	if (rmdir(pub) < 0 || rmdir(uid) < 0)
		return -errno;
	return 0;
}

/*
 * pam_rundir and dumb_runtime_dir remove the runtime dir file by file. The
 * broker must not put links back while that runs (rmdir would fail with
 * ENOTEMPTY): every removal succeeds, quick (rm -rf) or slow, and the links
 * come back after each login.
 */
START_TEST(rm_rf_of_a_published_dir_is_never_fought)
{
	char *uid, *pub, *a = h_rt("sock-a"), *la, cmd[1200];

	if (!need_root("rm_rf_of_a_published_dir_is_never_fought"))
		return;
	make_runuser(&uid, &pub);
	la = h_dir("runuser/1000/libvirt/sock-a");
	conf(pub);
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' 2>&1", uid);
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(mkdir(uid, 0700), 0);		/* login */
		ck_assert_msg(h_wait_link(la, a, T_MS), "round %d: no link", i);
		ck_assert_int_gt(h_hello(la, T_MS), 0);
		if (i % 3 == 0) {
			int r = slow_rm_rf(uid, pub);

			ck_assert_msg(r == 0, "round %d: slow removal: %s", i,
			    strerror(-r));
		} else
			ck_assert_msg(system(cmd) == 0, "round %d: rm -rf "
			    "failed", i);
		ck_assert_int_ne(access(uid, F_OK), 0);
	}
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(uid);
	free(pub);
	free(a);
	free(la);
}
END_TEST

/*
 * logind makes /run/user/UID, then mounts a tmpfs on it: links made in
 * between are hidden under the mount. The broker sees the mount and links
 * again into the new tmpfs; after the unmount (logout) the directory is
 * followed as before.
 */
START_TEST(tmpfs_mounted_on_a_published_parent_gets_the_links)
{
	char *uid, *pub, *a = h_rt("sock-a"), *la, *lb, *b = h_rt("sock-b");
	bool mounted = false;

	if (!need_root("tmpfs_mounted_on_a_published_parent_gets_the_links"))
		return;
	make_runuser(&uid, &pub);
	la = h_dir("runuser/1000/libvirt/sock-a");
	lb = h_dir("runuser/1000/libvirt/sock-b");
	conf(pub);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(mkdir(uid, 0700), 0);
	ck_assert(h_wait_link(la, a, T_MS));		/* under the mount soon */
	if (mount("tmpfs", uid, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0700,size=1m") == 0)
		mounted = true;
	ck_assert_msg(mounted, "mount tmpfs on %s: %s", uid, strerror(errno));
	ck_assert_msg(h_wait_link(la, a, T_MS), "no link in the new tmpfs");
	ck_assert(h_wait_link(lb, b, T_MS));
	ck_assert_int_gt(h_hello(la, T_MS), 0);
	ck_assert_int_eq(umount2(uid, MNT_DETACH), 0);	/* logout */
	mounted = false;
	ck_assert(h_wait_link(la, a, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(uid);
	free(pub);
	free(a);
	free(b);
	free(la);
	free(lb);
}
END_TEST

static long
last_pid(const char *file)
{
	FILE *fp = fopen(file, "r");
	long pid = 0, p;

	if (fp == NULL)
		return 0;
	while (fscanf(fp, "%ld", &p) == 1)
		pid = p;
	fclose(fp);
	return pid;
}

/*
 * An at-launch daemon that fails waits in backoff; its socket files are
 * wiped meanwhile. Rebinding them must keep the relaunch: the daemon starts
 * again by itself (no client connects) once it can.
 */
START_TEST(wipe_during_backoff_keeps_the_relaunch)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b"), *fail = h_dir("fail"),
	    *starts = h_dir("starts");
	long end, pid = 0;
	int fd, n0;

	fd = open(fail, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\n"
	    "args = --fail-while %s --starts %s\nstart = at-launch\n"
	    "restart = always\nstart_limit_burst = 64\n"
	    "socket = a.socket sock-a\nsocket = b.socket sock-b\n",
	    h_fake_daemon(), fail, starts);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "unit fake: running -> backoff", T_MS));
	ck_assert_int_eq(unlink(a), 0);
	ck_assert_int_eq(unlink(b), 0);
	ck_assert(h_wait_log(&H, "unit fake: sockets bound again", T_MS));
	n0 = h_count_lines(starts);
	ck_assert_int_eq(unlink(fail), 0);
	end = h_now_ms() + T_MS;
	do {
		pid = last_pid(starts);
		if (h_count_lines(starts) > n0 && h_pid_alive((pid_t)pid))
			break;
		pid = 0;
		(void)poll(NULL, 0, 10);
	} while (h_now_ms() < end);
	ck_assert_msg(pid > 0, "the relaunch was lost with the rebind");
	ck_assert_int_eq(h_log_count(&H, "unit fake: client on"), 0);
	ck_assert_int_eq(h_hello(a, T_MS), pid);	/* the relaunched one */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(b);
	free(fail);
	free(starts);
}
END_TEST

/*
 * runtime_dir = xdg puts R (and the control socket) in XDG_RUNTIME_DIR:
 * after a logout wiped it, the control socket is bound again.
 */
START_TEST(control_socket_comes_back_with_its_directory)
{
	char rt[400], ctl[450], a[450], cmd[1400];
	long end, pid;
	int fd;

	snprintf(rt, sizeof(rt), "%s/libvirt", H.xdg);
	snprintf(ctl, sizeof(ctl), "%s/virt-broker-ctl-sock", rt);
	snprintf(a, sizeof(a), "%s/sock-a", rt);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "runtime_dir = xdg\npublish = none\n[fake]\nexec = %s\n"
	    "socket = a.socket sock-a\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_file(ctl, T_MS));
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s.gone' && rm -rf '%s.gone'",
	    rt, rt, rt);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_wait_log(&H, "virt-broker-ctl-sock was removed; binding "
	    "it again", T_MS));
	/*
	 * The file appears at bind(), a moment before listen(): until then a
	 * connect is refused, as at any socket's start. Wait for a connect.
	 */
	end = h_now_ms() + T_MS;
	while ((fd = h_connect(ctl)) < 0 && h_now_ms() < end)
		(void)poll(NULL, 0, 10);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert(h_wait_hello(a, &pid, T_MS));
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
mkdirs(const char *rel)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", H.rt, rel);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
rt_file(const char *rel)
{
	return h_rt(rel);
}

/* The first line of a file, or NULL. */
static char *
first_line(const char *path)
{
	char buf[256];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/*
 * libvirt autostarts only where R/<driver>/.../autostarted is missing; a
 * tmpfs forgets it at reboot, ~/.cache/libvirt does not. A new boot (the
 * recorded boot id differs) removes the markers and nothing else; a broker
 * restarted in the same boot removes nothing.
 */
START_TEST(autostart_markers_are_removed_in_a_new_boot_only)
{
	char *q = rt_file("qemu/run/autostarted"),
	    *n = rt_file("network/lib/autostarted"),
	    *keep = rt_file("qemu/run/guest.xml"),
	    *deep = rt_file("a/b/c/autostarted"),
	    *rec = rt_file("virt-broker.boot-id"),
	    *outside = h_dir("outside"), *olink = rt_file("evil"),
	    *omark = h_dir("outside/autostarted"), *now, *got;

	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	mkdirs("qemu/run");
	mkdirs("network/lib");
	mkdirs("a/b/c");
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	ck_assert_int_eq(symlink(outside, olink), 0);
	write_file(q, "");
	write_file(n, "");
	write_file(keep, "<domstatus/>");
	write_file(deep, "");
	write_file(omark, "");
	write_file(rec, "00000000-0000-0000-0000-000000000000\n");
	conf("none");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_ne(access(q, F_OK), 0);
	ck_assert_int_ne(access(n, F_OK), 0);
	ck_assert_int_eq(access(keep, F_OK), 0);
	ck_assert_int_eq(access(deep, F_OK), 0);	/* deeper: not libvirt's */
	ck_assert_int_eq(access(omark, F_OK), 0);	/* never through links */
	now = first_line("/proc/sys/kernel/random/boot_id");
	got = first_line(rec);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(now);
	ck_assert_str_eq(got, now);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	/* Same boot: libvirt's new marker stays. */
	write_file(q, "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(access(q, F_OK), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(q);
	free(n);
	free(keep);
	free(deep);
	free(rec);
	free(outside);
	free(olink);
	free(omark);
	free(now);
	free(got);
}
END_TEST

/*
 * Upgrade from a broker whose R was $XDG_RUNTIME_DIR/libvirt: its daemon
 * still serves there. The new broker (R = ~/.cache/libvirt) adopts it and
 * links R's names to it, so that every client reaches that one daemon;
 * when it exits, R is bound and XDG's place linked to it.
 */
START_TEST(daemon_in_the_old_runtime_dir_is_adopted_not_doubled)
{
	char old[400], olda[450], oldx[450], want[600], *a = h_rt("sock-a");
	char *x = h_rt("sock-x");
	pid_t d;
	long p;

	snprintf(old, sizeof(old), "%s/libvirt", H.xdg);
	snprintf(olda, sizeof(olda), "%s/sock-a", old);
	ck_assert_int_eq(mkdir(old, 0700), 0);
	d = fork();
	ck_assert_int_ge(d, 0);
	if (d == 0) {
		execl(h_fake_daemon(), "fake-daemon", "--listen", olda,
		    (char *)NULL);
		_exit(127);
	}
	ck_assert(h_wait_hello(olda, &p, T_MS));
	ck_assert_int_eq(p, d);
	/* The old broker's link into what is R now, to a dead socket. */
	snprintf(oldx, sizeof(oldx), "%s/sock-x", old);
	close(h_listen_at(oldx));
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	ck_assert_int_eq(symlink(oldx, x), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "[fake]\nexec = %s\nsocket = a.socket sock-a\n"
	    "[idle]\nexec = %s\nsocket = x.socket sock-x\n", h_fake_daemon(),
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_hello(x, &p, T_MS));		/* R bound for it */
	ck_assert_int_ne(p, d);
	snprintf(want, sizeof(want), "unit fake: adopted pid %ld", (long)d);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert(h_is_link_to(a, olda));
	ck_assert_int_eq(h_hello(a, T_MS), d);		/* R reaches it */
	ck_assert_int_eq(h_hello(olda, T_MS), d);	/* so does XDG */
	ck_assert_int_eq(h_log_count(&H, "clients that look there reach a "
	    "duplicate"), 0);
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	ck_assert(h_wait_hello(a, &p, T_MS));		/* the broker's own */
	ck_assert_int_ne(p, d);
	ck_assert(h_wait_link(olda, a, T_MS));		/* XDG linked to R */
	ck_assert_int_eq(h_hello(olda, T_MS), p);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(x);
}
END_TEST

static Suite *
logout_suite(void)
{
	Suite *s = suite_create("logout");
	TCase *tc = tcase_create("logout");

	h_add_tcases(s, &tc, 1, 120);
	tcase_add_test(tc, rm_rf_of_a_published_dir_is_never_fought);
	tcase_add_test(tc, tmpfs_mounted_on_a_published_parent_gets_the_links);
	tcase_add_test(tc, wipe_during_backoff_keeps_the_relaunch);
	tcase_add_test(tc, control_socket_comes_back_with_its_directory);
	tcase_add_test(tc, autostart_markers_are_removed_in_a_new_boot_only);
	tcase_add_test(tc, daemon_in_the_old_runtime_dir_is_adopted_not_doubled);
	return s;
}

int
main(void)
{
	return h_run(logout_suite());
}
