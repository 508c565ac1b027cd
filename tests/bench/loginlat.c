/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper, as root: how long after a login the broker's link is
 * in the fresh runtime dir. One login is made as logind makes it (a
 * root-owned directory RU, then a tmpfs of the user's mounted on it) or as
 * pam_rundir does (a directory made and given to the user); the clock runs
 * from the moment RU is the user's (the mount or the chown returned) until
 * RU/libvirt/NAME is a symlink, seen through inotify (no polling that would
 * take the CPU from the broker). The reference, measured right after in
 * the same way in a directory the broker does not watch (RU.ref): the
 * race the broker runs, a libvirt client (VIRSH, as the user, with
 * XDG_RUNTIME_DIR=RU.ref) started at the login, until its spawn lock
 * RU.ref/libvirt/DAEMON.lock appears, the moment after which it connects
 * and, finding nothing, spawns (libvirt takes that lock only where it may
 * spawn). The daemon it spawned there is stopped (its pidfile names it).
 * Then the logout: contents removed, the tmpfs detached, RU removed, and a
 * pause of 100 ms.
 *
 *   loginlat RU UID GID NAME tmpfs|plain RUNS VIRSH DAEMON
 * stdout, per run: "broker US" and "client US".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
login(const char *ru, uid_t uid, gid_t gid, bool tmpfs)
{
	char opts[128];

	if (mkdir(ru, 0700) < 0)
		die("mkdir");
	if (tmpfs) {
		snprintf(opts, sizeof(opts), "mode=0700,uid=%u,gid=%u,size=4m",
		    (unsigned)uid, (unsigned)gid);
		if (mount("tmpfs", ru, "tmpfs", 0, opts) < 0)
			die("mount");
	} else if (chown(ru, uid, gid) < 0) {
		die("chown");
	}
}

static void
logout(const char *ru, bool tmpfs)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -delete", ru);
	(void)!system(cmd);
	if (tmpfs && umount2(ru, MNT_DETACH) < 0)
		die("umount2");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ru);
	(void)!system(cmd);
}

static bool
is_link(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Waits (inotify) until ru/libvirt/name exists (a symlink if link). */
static bool
wait_for(const char *ru, const char *name, bool link_only)
{
	char dir[4200], link[4400];
	int in = inotify_init1(IN_CLOEXEC);
	long end = now_us() + 5000000;
	bool ok = false;

	snprintf(dir, sizeof(dir), "%s/libvirt", ru);
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	if (in < 0)
		die("inotify_init1");
	(void)inotify_add_watch(in, ru, IN_CREATE | IN_ONLYDIR);
	while (!(ok = link_only ? is_link(link) : access(link, F_OK) == 0) &&
	    now_us() < end) {
		char buf[4096];
		struct pollfd p = { .fd = in, .events = POLLIN };

		(void)inotify_add_watch(in, dir, IN_CREATE | IN_ONLYDIR);
		if (link_only ? is_link(link) : access(link, F_OK) == 0)
			continue;
		if (poll(&p, 1, 10) > 0)
			(void)!read(in, buf, sizeof(buf));
	}
	close(in);
	return ok;
}

/* The daemon the client spawned in ru (its pidfile), stopped. */
static void
stop_spawned(const char *ru, const char *daemon)
{
	char path[4400];
	long pid = 0, end = now_us() + 5000000;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/libvirt/%s.pid", ru, daemon);
	while (pid <= 0 && now_us() < end) {	/* it may still be starting */
		if ((fp = fopen(path, "re")) != NULL) {
			if (fscanf(fp, "%ld", &pid) != 1)
				pid = 0;
			fclose(fp);
		}
		if (pid <= 0)
			usleep(10000);
	}
	if (pid <= 0 || kill((pid_t)pid, SIGTERM) < 0)
		return;
	while (kill((pid_t)pid, 0) == 0 && now_us() < end)
		usleep(10000);
	(void)kill((pid_t)pid, SIGKILL);
}

/* The client: VIRSH as the user, in ru, started now. */
static pid_t
client(const char *virsh, const char *ru, uid_t uid, gid_t gid)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char xdg[4300];
		int null = open("/dev/null", O_RDWR);

		snprintf(xdg, sizeof(xdg), "XDG_RUNTIME_DIR=%s", ru);
		char home[4300];

		snprintf(home, sizeof(home), "HOME=%s", ru);
		char *env[] = { xdg, home, "PATH=/usr/bin:/bin", NULL };
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (setgid(gid) < 0 || setuid(uid) < 0)
			_exit(126);
		execle(virsh, virsh, "-q", "-c", "qemu:///session", "list",
		    (char *)NULL, env);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	const char *ru, *name;
	uid_t uid;
	gid_t gid;
	bool tmpfs;
	int runs;

	if (argc != 9) {
		fprintf(stderr, "usage: loginlat RU UID GID NAME tmpfs|plain "
		    "RUNS VIRSH DAEMON\n");
		return 2;
	}
	ru = argv[1];
	uid = (uid_t)atol(argv[2]);
	gid = (gid_t)atol(argv[3]);
	name = argv[4];
	tmpfs = strcmp(argv[5], "tmpfs") == 0;
	runs = atoi(argv[6]);
	for (int i = 0; i < runs; i++) {
		char dir[4200], lock[300];
		long t0;
		pid_t pid;

		login(ru, uid, gid, tmpfs);
		t0 = now_us();
		if (!wait_for(ru, name, true)) {
			fprintf(stderr, "loginlat: no link %s/libvirt/%s within "
			    "5 s\n", ru, name);
			return 1;
		}
		printf("broker %ld\n", now_us() - t0);
		logout(ru, tmpfs);
		usleep(100000);
		/* The reference: a client's way to its spawn lock. */
		snprintf(dir, sizeof(dir), "%s.ref", ru);
		snprintf(lock, sizeof(lock), "%s.lock", argv[8]);
		login(dir, uid, gid, tmpfs);
		t0 = now_us();
		pid = client(argv[7], dir, uid, gid);
		if (!wait_for(dir, lock, false)) {
			fprintf(stderr, "loginlat: the client made no %s/libvirt/"
			    "%s within 5 s\n", dir, lock);
			return 1;
		}
		printf("client %ld\n", now_us() - t0);
		fflush(stdout);
		(void)waitpid(pid, NULL, 0);
		stop_spawned(dir, argv[8]);
		logout(dir, tmpfs);
		usleep(100000);
	}
	return 0;
}
