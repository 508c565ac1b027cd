/* SPDX-License-Identifier: MIT */
/*
 * Integration, one daemon whatever path a client takes: published links
 * (made, restored, waiting for a parent that appears at login, never
 * replacing a live foreign socket), a runtime dir removed under a running
 * broker, adoption of a daemon the broker did not start, and the runtime
 * dir checks. The real broker, the test daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000

static void
conf(const char *publish, const char *args)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = %s\n[fake]\nexec = %s\nargs = %s\n"
	    "socket = a.socket sock-a\nsocket = b.socket sock-b\n",
	    publish, h_fake_daemon(), args);
}

START_TEST(links_reach_the_same_daemon_and_are_restored)
{
	char *pub = h_dir("cache/libvirt"), *a = h_rt("sock-a"),
	    *la = h_dir("cache/libvirt/sock-a"), *lb =
	    h_dir("cache/libvirt/sock-b"), *b = h_rt("sock-b");
	long p1, p2;
	struct stat st;

	conf(pub, "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(la, a, T_MS));	/* cache/ made: H.dir is ours */
	ck_assert(h_wait_link(lb, b, T_MS));
	ck_assert_int_eq(lstat(pub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	p1 = h_hello(la, T_MS);			/* through the link */
	p2 = h_hello(a, T_MS);			/* directly */
	ck_assert_int_gt(p1, 0);
	ck_assert_int_eq(p1, p2);
	ck_assert_int_eq(unlink(la), 0);
	ck_assert(h_wait_link(la, a, T_MS));	/* restored (inotify) */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_ne(access(la, F_OK), 0);	/* ours: removed at exit */
	ck_assert_int_ne(lstat(lb, &st), 0);
	free(pub);
	free(a);
	free(b);
	free(la);
	free(lb);
}
END_TEST

/*
 * /run/user/UID is logind's: the broker never creates it, and links into
 * it when it appears (login), and again after it is wiped (logout).
 */
START_TEST(links_follow_a_parent_that_comes_and_goes)
{
	char *runuser = h_dir("runuser"), *uid = h_dir("runuser/1000"),
	    *pub = h_dir("runuser/1000/libvirt"), *a = h_rt("sock-a"),
	    *la = h_dir("runuser/1000/libvirt/sock-a"), cmd[1200];

	if (geteuid() != 0) {
		fprintf(stderr, "links_follow_a_parent: needs root to make a "
		    "parent dir not owned by the test user; checked in CI\n");
		return;
	}
	ck_assert_int_eq(mkdir(runuser, 0755), 0);
	ck_assert_int_eq(chown(runuser, 65534, 65534), 0);	/* not ours */
	conf(pub, "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "serving 1 unit", T_MS));
	ck_assert_int_ne(access(uid, F_OK), 0);		/* never created */
	ck_assert_int_eq(mkdir(uid, 0700), 0);		/* login */
	ck_assert(h_wait_link(la, a, T_MS));
	/* logout: logind unmounts the tmpfs, all at once; so does this */
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s.gone' && rm -rf '%s.gone'",
	    uid, uid, uid);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(mkdir(uid, 0700), 0);		/* login again */
	ck_assert(h_wait_link(la, a, T_MS));
	ck_assert_int_gt(h_hello(la, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(runuser);
	free(uid);
	free(pub);
	free(a);
	free(la);
}
END_TEST

START_TEST(live_foreign_socket_in_a_published_dir_is_reported_not_replaced)
{
	char *pub = h_dir("pub"), *la = h_dir("pub/sock-a"),
	    *lb = h_dir("pub/sock-b"), *b = h_rt("sock-b"), *a = h_rt("sock-a");
	char want[600], out[8192];
	struct stat before, after;
	int foreign, dead;

	ck_assert_int_eq(mkdir(pub, 0700), 0);
	foreign = h_listen_at(la);
	dead = h_listen_at(lb);
	close(dead);				/* a stale socket */
	ck_assert_int_eq(lstat(la, &before), 0);
	conf(pub, "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(lb, b, T_MS));	/* the dead one is replaced */
	snprintf(want, sizeof(want), "publish: %s is a live socket served by "
	    "pid %ld", la, (long)getpid());
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(lstat(la, &after), 0);
	ck_assert(S_ISSOCK(after.st_mode));
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	/* virt-brokerctl status shows the duplicate, with its pid. */
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", NULL }), 0);
	snprintf(want, sizeof(want), "duplicate: %s is served by pid %ld", la,
	    (long)getpid());
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", "--json", NULL }), 0);
	snprintf(want, sizeof(want), "\"duplicates\":[{\"path\":\"%s\",\"pid\":%ld}]",
	    la, (long)getpid());
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	/* Gone: no longer shown, and linked. */
	close(foreign);
	ck_assert_int_eq(unlink(la), 0);
	ck_assert(h_wait_link(la, a, T_MS));
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", NULL }), 0);
	/* (its warning stays among the broker's last ones, not as a line) */
	ck_assert_msg(strncmp(out, "duplicate:", 10) != 0 &&
	    strstr(out, "\nduplicate:") == NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(pub);
	free(la);
	free(lb);
	free(b);
}
END_TEST

/* A daemon named virtqemud (the test daemon under that name), published. */
static char *
qemud_conf(const char *pub)
{
	char *bin = h_dir("virtqemud");

	ck_assert_int_eq(symlink(h_fake_daemon(), bin), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = %s\n[virtqemud]\nexec = %s\n"
	    "socket = virtqemud.socket virtqemud-sock\n", pub, bin);
	return bin;
}

/* Does someone hold libvirt's lock (byte 0) on path? */
static bool
lock_held(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	held = fcntl(fd, F_SETLK, &fl) < 0 && (errno == EAGAIN ||
	    errno == EACCES);
	close(fd);
	return held;
}

static bool
wait_lock_held(const char *path, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	while (!lock_held(path)) {
		if (h_now_ms() > end)
			return false;
		h_let_run(10);
	}
	return true;
}

/*
 * libvirt's daemon takes RUNDIR/virtqemud.pid with a non-blocking lock
 * before it binds anything: the broker holds it in every published dir,
 * in the dir made again after an rm -rf too, and removes it at exit.
 */
START_TEST(pidfile_in_a_published_dir_is_held)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *pidf = h_dir("pub/virtqemud.pid"), *sock = h_rt("virtqemud-sock"),
	    *bin = qemud_conf(pub), cmd[1200];
	ino_t first;

	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	first = h_inode(pidf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pub);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	ck_assert_uint_ne(h_inode(pidf), first);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_ne(access(pidf, F_OK), 0);
	free(pub);
	free(link);
	free(pidf);
	free(sock);
	free(bin);
}
END_TEST

/* Polls until a client on path is served by pid. */
static bool
wait_served_by(const char *path, pid_t pid, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms, served;

	while (!h_wait_hello(path, &served, 1000) || served != pid) {
		if (h_now_ms() > end)
			return false;
		h_let_run(10);
	}
	return true;
}

/* Did the events read from ifd name name, with mask? */
static bool
event_named(int ifd, const char *name, uint32_t mask, bool *ret_other)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	bool found = false;
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0)
		for (char *at = buf; at < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)at;

			if (ev->len > 0 && strcmp(ev->name, name) == 0) {
				found |= (ev->mask & mask) != 0;
				*ret_other |= (ev->mask & ~(mask | IN_ISDIR)) !=
				    0;
			}
			at += sizeof(*ev) + ev->len;
		}
	return found;
}

/*
 * A published dir the broker makes appears whole: made aside with its
 * links and the pidfile locked, then renamed in, never an empty P in which
 * a client's daemon could take the pidfile. The work dir of a broker killed
 * there is cleared of what the broker makes; one holding anything else is
 * left, and P is made the plain way.
 */
START_TEST(a_published_dir_appears_whole)
{
	char *home = h_dir("home"), *pub = h_dir("home/libvirt"),
	    *tmp = h_dir("home/.libvirt.virt-broker"),
	    *link = h_dir("home/libvirt/virtqemud-sock"),
	    *pidf = h_dir("home/libvirt/virtqemud.pid"),
	    *sock = h_rt("virtqemud-sock"), *bin = qemud_conf(pub),
	    path[700], cmd[1600];
	bool other = false;
	int ifd;

	ck_assert_int_eq(mkdir(home, 0700), 0);
	ck_assert_int_eq(mkdir(tmp, 0700), 0);	/* a killed broker's */
	snprintf(path, sizeof(path), "%s/virtqemud-sock", tmp);
	ck_assert_int_eq(symlink(sock, path), 0);
	snprintf(path, sizeof(path), "%s/virtqemud.pid", tmp);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC,
	    0644)), 0);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ifd, 0);
	ck_assert_int_ge(inotify_add_watch(ifd, home, IN_CREATE | IN_MOVED_TO),
	    0);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	ck_assert(event_named(ifd, "libvirt", IN_MOVED_TO, &other));
	ck_assert(!other);			/* never made empty in place */
	ck_assert_int_ne(access(tmp, F_OK), 0);	/* cleared */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s' && "
	    "touch '%s/keep'", pub, tmp, tmp);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	snprintf(path, sizeof(path), "%s/keep", tmp);
	ck_assert_int_eq(access(path, F_OK), 0);	/* not ours: kept */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	close(ifd);
	free(home);
	free(pub);
	free(tmp);
	free(link);
	free(pidf);
	free(sock);
	free(bin);
}
END_TEST

/*
 * What libvirt's client spawns: `virtqemud --timeout=120` in dir, which
 * takes dir/virtqemud.pid's lock first, then binds dir/virtqemud-sock;
 * with XDG_RUNTIME_DIR=xdg if not NULL (its runtime dir is then
 * xdg/libvirt).
 */
static pid_t
autospawn_xdg(const char *bin, const char *dir, const char *xdg)
{
	char pidf[600], sock[600];
	pid_t pid;

	snprintf(pidf, sizeof(pidf), "%s/virtqemud.pid", dir);
	snprintf(sock, sizeof(sock), "%s/virtqemud-sock", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (xdg != NULL)
			setenv("XDG_RUNTIME_DIR", xdg, 1);
		execl(bin, "virtqemud", "--timeout=120", "--pidfile-lock", pidf,
		    "--listen", sock, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static pid_t
autospawn(const char *bin, const char *dir)
{
	return autospawn_xdg(bin, dir, NULL);
}

/* The guard at work: a daemon spawned in the published dir exits at once. */
START_TEST(a_daemon_spawned_in_a_published_dir_exits_at_once)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *sock = h_rt("virtqemud-sock"), *bin = qemud_conf(pub);

	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert_int_eq(h_wait_exit(autospawn(bin, pub), T_MS), 1);
	ck_assert(h_is_link_to(link, sock));	/* it bound nothing */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(pub);
	free(link);
	free(sock);
	free(bin);
}
END_TEST

/*
 * The guard's pidfile gone (as in an rm -rf) and a client's daemon started
 * while the broker gets no CPU (SIGSTOP): the daemon takes the pidfile
 * and binds the published dir. As soon as the broker runs it finds the
 * daemon, still starting up, and SIGKILLs it.
 */
START_TEST(autospawned_duplicate_without_guests_is_retired)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *pidf = h_dir("pub/virtqemud.pid"), *sock = h_rt("virtqemud-sock"),
	    *bin = qemud_conf(pub), want[600], out[8192];
	pid_t dup;

	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	ck_assert_int_eq(kill(H.broker, SIGSTOP), 0);
	ck_assert_int_eq(unlink(pidf), 0);
	dup = autospawn(bin, pub);	/* unlinks our link, binds its own */
	ck_assert(wait_served_by(link, dup, T_MS));
	ck_assert_int_eq(kill(H.broker, SIGCONT), 0);
	snprintf(want, sizeof(want), "publish: retired virtqemud pid %ld",
	    (long)dup);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_wait_exit(dup, T_MS), 128 + SIGKILL);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));	/* the guard's again */
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", NULL }), 0);
	ck_assert_msg(strstr(out, "retired: 1 duplicate") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "duplicate:") == NULL, "%s", out);
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", "--json", NULL }), 0);
	ck_assert_msg(strstr(out, "\"retired\":1") != NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(pub);
	free(link);
	free(pidf);
	free(sock);
	free(bin);
}
END_TEST

/*
 * A logout removes the published dir just after a client made it again
 * and spawned a daemon there (the broker got no CPU meanwhile: SIGSTOP):
 * the daemon serves a socket no path reaches. The broker finds it by its
 * environment (XDG_RUNTIME_DIR/libvirt is the published dir) and SIGKILLs
 * it, still starting up.
 */
START_TEST(duplicate_out_of_reach_is_found_by_its_environment)
{
	char *xdg = h_dir("xdg"), *pub = h_dir("xdg/libvirt"),
	    *link = h_dir("xdg/libvirt/virtqemud-sock"),
	    *sock = h_rt("virtqemud-sock"), *bin = qemud_conf(pub),
	    want[600], cmd[1300];
	pid_t dup;

	ck_assert_int_eq(mkdir(xdg, 0700), 0);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert_int_eq(kill(H.broker, SIGSTOP), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s'", pub, pub);
	ck_assert_int_eq(system(cmd), 0);		/* a client's */
	dup = autospawn_xdg(bin, pub, xdg);
	ck_assert(wait_served_by(link, dup, T_MS));
	/* The logout's removal; a file in its place keeps the broker from
	 * making the dir again, so no path leads to the daemon meanwhile. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && touch '%s'", pub, pub);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(kill(H.broker, SIGCONT), 0);
	snprintf(want, sizeof(want), "publish: retired virtqemud pid %ld",
	    (long)dup);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_wait_exit(dup, T_MS), 128 + SIGKILL);
	ck_assert_int_eq(unlink(pub), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(xdg);
	free(pub);
	free(link);
	free(sock);
	free(bin);
}
END_TEST

/*
 * One there before the broker, and past its start-up (RETIRE_FRESH): not
 * adopted (R is bound, not linked to it), stopped with SIGTERM; and after
 * a restart, no link of an earlier adoption keeps R from being bound.
 */
START_TEST(duplicate_before_the_broker_is_retired_not_adopted)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *sock = h_rt("virtqemud-sock"), *bin = qemud_conf(pub), want[600];
	struct stat st;
	long served, t0 = h_now_ms();
	pid_t dup;

	ck_assert_int_eq(mkdir(pub, 0700), 0);
	dup = autospawn(bin, pub);
	ck_assert(h_wait_hello(link, &served, T_MS));
	/* Older than RETIRE_FRESH (5 s), the age that gets SIGKILL. */
	while (h_now_ms() - t0 < 5500)
		ck_assert(!h_wait_gone(dup, 100));
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	ck_assert_int_eq(symlink(link, sock), 0);   /* an earlier adoption's */
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(want, sizeof(want), "publish: retired virtqemud pid %ld",
	    (long)dup);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_wait_exit(dup, T_MS), 128 + SIGTERM);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));	/* R is the broker's */
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert_int_eq(h_log_count(&H, "adopted pid"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(pub);
	free(link);
	free(sock);
	free(bin);
}
END_TEST

/* One that runs a guest (a status file in its runtime dir) is kept. */
START_TEST(duplicate_with_guests_is_reported_not_stopped)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *pidf = h_dir("pub/virtqemud.pid"), *sock = h_rt("virtqemud-sock"),
	    *bin = qemud_conf(pub), *run = h_dir("pub/qemu/run"),
	    *xml = h_dir("pub/qemu/run/g.xml"), want[600], cmd[1200];
	pid_t dup;

	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert(wait_lock_held(pidf, T_MS));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && touch '%s'", run, xml);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(kill(H.broker, SIGSTOP), 0);	/* as above */
	ck_assert_int_eq(unlink(pidf), 0);
	dup = autospawn(bin, pub);
	ck_assert(wait_served_by(link, dup, T_MS));
	ck_assert_int_eq(kill(H.broker, SIGCONT), 0);
	snprintf(want, sizeof(want), "publish: virtqemud pid %ld serves %s and "
	    "runs guests", (long)dup, pub);
	ck_assert(h_wait_log(&H, want, T_MS));
	snprintf(want, sizeof(want), "publish: %s is a live socket served by "
	    "pid %ld", link, (long)dup);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert(h_pid_alive(dup));
	ck_assert_int_eq(h_log_count(&H, "publish: retired"), 0);
	kill(dup, SIGTERM);
	ck_assert_int_eq(h_wait_exit(dup, T_MS), 128 + SIGTERM);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(pub);
	free(link);
	free(pidf);
	free(sock);
	free(bin);
	free(run);
	free(xml);
}
END_TEST

/*
 * A link in the published dir to a daemon of another runtime dir (which
 * holds that dir's pidfile, not ours) is not retired: it is not the
 * published dir's daemon, whatever it runs.
 */
START_TEST(a_link_to_another_dirs_daemon_is_not_retired)
{
	char *pub = h_dir("pub"), *link = h_dir("pub/virtqemud-sock"),
	    *other = h_dir("other"), *theirs = h_dir("other/virtqemud-sock"),
	    *tmp = h_dir("pub/x"), *sock = h_rt("virtqemud-sock"),
	    *bin = qemud_conf(pub), want[600];
	long served;
	pid_t dup;

	ck_assert_int_eq(mkdir(other, 0700), 0);
	dup = autospawn(bin, other);
	ck_assert(h_wait_hello(theirs, &served, T_MS));
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(link, sock, T_MS));
	ck_assert_int_eq(symlink(theirs, tmp), 0);
	ck_assert_int_eq(rename(tmp, link), 0);
	snprintf(want, sizeof(want), "publish: %s is a live socket served by "
	    "pid %ld", link, (long)dup);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert(h_pid_alive(dup));
	ck_assert_int_eq(h_log_count(&H, "publish: retired"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	kill(dup, SIGTERM);
	ck_assert_int_eq(h_wait_exit(dup, T_MS), 128 + SIGTERM);
	free(pub);
	free(link);
	free(other);
	free(theirs);
	free(tmp);
	free(sock);
	free(bin);
}
END_TEST

/* R deleted under the broker: idle units at once, busy ones at exit. */
START_TEST(removed_runtime_dir_is_made_again_and_rebound)
{
	char *a = h_rt("sock-a"), *x = h_rt("sock-x"), cmd[1200];
	long busy, pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nargs = --idle-ms 1500\n"
	    "socket = a.socket sock-a\n[idle]\nexec = %s\n"
	    "socket = x.socket sock-x\n", h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s.gone' && rm -rf '%s.gone'",
	    H.rt, H.rt, H.rt);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert(h_wait_log(&H, "was removed; creating it again", T_MS));
	ck_assert(h_wait_file(x, T_MS));		/* idle: at once */
	ck_assert(h_wait_log(&H, "unit busy: its socket files were removed "
	    "while pid", T_MS));
	ck_assert(h_wait_hello(x, &pid, T_MS));
	ck_assert(h_wait_gone((pid_t)busy, T_MS));	/* idle exit */
	ck_assert(h_wait_file(a, T_MS));		/* then bound */
	ck_assert(h_wait_hello(a, &pid, T_MS));
	ck_assert_int_ne(pid, busy);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(x);
}
END_TEST

/* A broker killed with SIGKILL; the next one adopts its daemon. */
START_TEST(next_broker_adopts_the_daemon_of_a_killed_one)
{
	char *a = h_rt("sock-a"), *pidfile = h_rt("fake-daemon.pid"),
	    *starts = h_dir("starts"), want[128], args[600];
	long d, p;

	snprintf(args, sizeof(args), "--pidfile %s --starts %s", pidfile,
	    starts);
	conf("none", args);
	ck_assert_int_eq(h_start_broker(&H), 0);
	d = h_hello(a, T_MS);
	ck_assert_int_gt(d, 0);
	kill(H.broker, SIGKILL);
	ck_assert_int_eq(h_wait_exit(H.broker, T_MS), 128 + SIGKILL);
	H.broker = -1;
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(want, sizeof(want), "unit fake: adopted pid %ld", d);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_hello(a, T_MS), d);		/* no second daemon */
	ck_assert_int_eq(h_count_lines(starts), 1);
	kill((pid_t)d, SIGTERM);
	ck_assert(h_wait_log(&H, "exited; binding its sockets", T_MS));
	ck_assert(h_wait_hello(a, &p, T_MS));		/* ours now */
	ck_assert_int_ne(p, d);
	ck_assert_int_eq(h_count_lines(starts), 2);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(pidfile);
	free(starts);
}
END_TEST

/* A daemon started behind the broker's back (as libvirt's autospawn). */
START_TEST(daemon_started_before_the_broker_is_adopted)
{
	char *a = h_rt("sock-a"), want[128];
	pid_t d;
	long p;

	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	d = fork();
	ck_assert_int_ge(d, 0);
	if (d == 0) {
		execl(h_fake_daemon(), "fake-daemon", "--listen", a,
		    (char *)NULL);
		_exit(127);
	}
	{
		long end = h_now_ms() + T_MS;

		while (h_hello(a, 1000) != d && h_now_ms() < end)
			;
	}
	conf("none", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(want, sizeof(want), "unit fake: adopted pid %ld", (long)d);
	ck_assert(h_wait_log(&H, want, T_MS));	/* found by SO_PEERCRED */
	ck_assert_int_eq(h_hello(a, T_MS), d);
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	ck_assert(h_wait_hello(a, &p, T_MS));
	ck_assert_int_ne(p, d);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(runtime_dir_that_is_a_file_is_refused)
{
	pid_t pid;
	int fd;

	fd = open(H.rt, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	conf("none", "");
	pid = h_spawn_broker(&H, -1);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	ck_assert_int_eq(h_log_count(&H, "exists and is not a directory"), 1);
}
END_TEST

START_TEST(runtime_dir_owned_by_another_user_is_refused)
{
	pid_t pid;
	char want[512];

	if (geteuid() != 0) {
		fprintf(stderr, "runtime_dir_owned_by_another_user: needs root "
		    "to chown; checked in CI\n");
		return;
	}
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	ck_assert_int_eq(chown(H.rt, 65534, 65534), 0);
	conf("none", "");
	pid = h_spawn_broker(&H, -1);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	snprintf(want, sizeof(want), "runtime directory %s is owned by uid "
	    "65534, not by us", H.rt);
	ck_assert_int_eq(h_log_count(&H, want), 1);
}
END_TEST

static Suite *
publish_suite(void)
{
	Suite *s = suite_create("publish");
	TCase *links = tcase_create("links");
	TCase *rtdir = tcase_create("runtime_dir");
	TCase *adopt = tcase_create("adoption");
	TCase *guard = tcase_create("spawn_guard");
	TCase *all[] = { links, rtdir, adopt, guard };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 120);
	tcase_add_test(links, links_reach_the_same_daemon_and_are_restored);
	tcase_add_test(links, links_follow_a_parent_that_comes_and_goes);
	tcase_add_test(links,
	    live_foreign_socket_in_a_published_dir_is_reported_not_replaced);
	tcase_add_test(rtdir, removed_runtime_dir_is_made_again_and_rebound);
	tcase_add_test(rtdir, runtime_dir_that_is_a_file_is_refused);
	tcase_add_test(rtdir, runtime_dir_owned_by_another_user_is_refused);
	tcase_add_test(adopt, next_broker_adopts_the_daemon_of_a_killed_one);
	tcase_add_test(adopt, daemon_started_before_the_broker_is_adopted);
	tcase_add_test(guard, pidfile_in_a_published_dir_is_held);
	tcase_add_test(guard, a_published_dir_appears_whole);
	tcase_add_test(guard, a_daemon_spawned_in_a_published_dir_exits_at_once);
	tcase_add_test(guard, autospawned_duplicate_without_guests_is_retired);
	tcase_add_test(guard,
	    duplicate_out_of_reach_is_found_by_its_environment);
	tcase_add_test(guard, duplicate_before_the_broker_is_retired_not_adopted);
	tcase_add_test(guard, duplicate_with_guests_is_reported_not_stopped);
	tcase_add_test(guard, a_link_to_another_dirs_daemon_is_not_retired);
	return s;
}

int
main(void)
{
	return h_run(publish_suite());
}
