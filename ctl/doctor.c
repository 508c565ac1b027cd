/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's checks (doctor.h). Each reads one thing of
 * the host and adds findings; none writes, connects to a daemon or starts
 * one. The broker is asked only if its control socket answers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "doctor.h"
#include "initsvc.h"
#include "paths.h"
#include "proc.h"
#include "request.h"
#include "show.h"
#include "strv.h"
#include "version.h"
#include "xalloc.h"

/* What the broker said: its units' pids (0: none) and names. */
struct broker_view {
	bool		 answered;
	struct strv	 names, pids;
};

static bool
is_daemon_name(const char *comm)
{
	for (size_t i = 0; initsvc_daemons[i] != NULL; i++)
		if (strcmp(comm, initsvc_daemons[i]) == 0)
			return true;
	return false;
}

/* 0 if something listens on path, else -errno (nothing is sent). */
static int
probe(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* 1. A broker answers; its units' states; duplicates it saw. */
static void
check_broker(struct doctor *d, const char *ctl_path, bool system,
    struct broker_view *bv)
{
	const char *const args[] = { "status" };
	struct strv units[512], dups[64];
	struct reply r;
	size_t n, nd, running = 0;
	int err = probe(ctl_path);

	if (err < 0) {
		doctor_add(d, "broker", DOCTOR_FAIL, xasprintf("no broker "
		    "answers on %s (%s): clients spawn daemons of their own",
		    ctl_path, strerror(-err)), xstrdup(system ?
		    "start the virt-broker service of this host's init system "
		    "(files in " VB_DATADIR "/virt-broker/init, README \"Init "
		    "systems\")" : VB_SBINDIR "/virt-broker -d   (and in your "
		    "login script: README \"Quick start\")"));
		return;
	}
	request(ctl_path, args, 1, &r);
	if (r.error != NULL) {
		doctor_add(d, "broker", DOCTOR_FAIL, xasprintf("the broker on "
		    "%s answered: %s", ctl_path, r.error), xstrdup(
		    "virt-brokerctl status; the broker's log says why"));
		reply_free(&r);
		return;
	}
	bv->answered = true;
	n = lines_of(&r, "unit", NULL, units, 512);
	for (size_t i = 0; i < n; i++) {
		const char *name = kv(&units[i], "name");
		const char *state = kv(&units[i], "state");

		strv_add(&bv->names, name);
		strv_add(&bv->pids, kv(&units[i], "pid"));
		running += strcmp(kv(&units[i], "pid"), "0") != 0;
		if (strcmp(state, "failed") == 0)
			doctor_add(d, "broker", DOCTOR_FAIL, xasprintf("unit %s "
			    "failed (last: %s)", name, kv(&units[i], "last")),
			    xasprintf("virt-brokerctl log %s; then "
			    "virt-brokerctl reset %s", name, name));
		else if (strcmp(state, "unserved") == 0)
			doctor_add(d, "broker", DOCTOR_WARN, xasprintf("unit %s "
			    "is not served (its socket could not be bound or "
			    "adopted)", name), xasprintf("virt-brokerctl log %s "
			    "and the broker's log say why", name));
		strv_free(&units[i]);
	}
	nd = lines_of(&r, "duplicate", NULL, dups, 64);
	for (size_t i = 0; i < nd; i++) {
		doctor_add(d, "broker", DOCTOR_FAIL, xasprintf("%s is served "
		    "by pid %s, not by the broker's daemon", kv(&dups[i],
		    "path"), kv(&dups[i], "pid")), xasprintf("see the "
		    "daemons check for pid %s; once it stops, the broker "
		    "links the path again", kv(&dups[i], "pid")));
		strv_free(&dups[i]);
	}
	nd = lines_of(&r, "warning", NULL, dups, 64);
	for (size_t i = 0; i < nd; i++) {
		char when[32];

		fmt_time(kv(&dups[i], "time"), when, sizeof(when));
		doctor_add(d, "broker", DOCTOR_WARN, xasprintf("the broker "
		    "warned at %s: %s", when, kv(&dups[i], "text")), xstrdup(
		    "the warning names the file, line, path or daemon at "
		    "fault; after a fix in the config, virt-brokerctl reload "
		    "(virt-brokerctl status lists the last 8 warnings)"));
		strv_free(&dups[i]);
	}
	doctor_add(d, "broker", DOCTOR_OK, xasprintf("a broker answers on "
	    "%s: %zu units, %zu with a daemon running", ctl_path, n, running),
	    NULL);
	reply_free(&r);
}

/* Does the broker know pid as one of its units' daemons? */
static bool
brokers(const struct broker_view *bv, long pid)
{
	for (size_t i = 0; i < bv->pids.n; i++)
		if (strtol(bv->pids.v[i], NULL, 10) == pid)
			return true;
	return false;
}

/* /proc/PID/cmdline with spaces, and whether it has --timeout=. */
static bool
cmdline_of(long pid, char *buf, size_t size)
{
	ssize_t n = proc_cmdline((pid_t)pid, buf, size);
	bool autospawned;

	if (n <= 0) {
		buf[0] = '\0';
		return false;
	}
	autospawned = proc_has_arg(buf, n, "--timeout=");
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return autospawned;
}


/*
 * 2. libvirt daemons of this user (root: the system's) outside the broker.
 * A user's: its uid and its HOME, where the daemons keep their state.
 */
static void
check_daemons(struct doctor *d, bool system, const struct broker_view *bv)
{
	uid_t uid = system ? 0 : geteuid();
	const char *my_home = getenv("HOME");
	struct strv seen = { 0 }, seen_pids = { 0 };
	DIR *dir = opendir("/proc");
	struct dirent *de;
	size_t outside = 0;
	bool monolithic = false, modular = false;

	if (dir == NULL) {
		doctor_add(d, "daemons", DOCTOR_WARN, xasprintf("/proc: %s",
		    strerror(errno)), xstrdup("mount /proc"));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		char path[64], comm[32], pcomm[32], cmd[1024], xdg[512];
		char home[512];
		long pid = strtol(de->d_name, NULL, 10);
		struct stat st;
		bool autospawned;

		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (pid <= 0 || stat(path, &st) < 0 || st.st_uid != uid ||
		    !proc_comm((pid_t)pid, comm, sizeof(comm)) ||
		    !is_daemon_name(comm) || !proc_running((pid_t)pid))
			continue;
		/* a daemon's forked helper carries its name until it execs */
		if (proc_comm(proc_ppid((pid_t)pid), pcomm, sizeof(pcomm)) &&
		    strcmp(pcomm, comm) == 0)
			continue;
		/* session: this user's, i.e. of this HOME (where its state is) */
		proc_env((pid_t)pid, "HOME", home, sizeof(home));
		if (!system && my_home != NULL && strcmp(home, my_home) != 0)
			continue;
		if (strcmp(comm, "libvirtd") == 0)
			monolithic = true;
		else if (strcmp(comm, "virtlogd") != 0 &&
		    strcmp(comm, "virtlockd") != 0)
			modular = true;
		for (size_t i = 0; i < seen.n; i++)
			if (strcmp(seen.v[i], comm) == 0)
				doctor_add(d, "daemons", DOCTOR_FAIL, xasprintf(
				    "two %s run, pids %s and %ld: each takes "
				    "the other's locks (\"Failed to get write "
				    "lock\") and guests go missing", comm,
				    seen_pids.v[i], pid), xstrdup("keep the "
				    "broker's; stop the other once it runs no "
				    "guest (its own line says how)"));
		strv_add(&seen, comm);
		strv_addf(&seen_pids, "%ld", pid);
		if (bv->answered && brokers(bv, pid))
			continue;
		outside++;
		autospawned = cmdline_of(pid, cmd, sizeof(cmd));
		proc_env((pid_t)pid, "XDG_RUNTIME_DIR", xdg, sizeof(xdg));
		if (autospawned)
			doctor_add(d, "daemons", DOCTOR_FAIL, xasprintf("pid %ld "
			    "(%s) was started by a client's autospawn, not by "
			    "the broker (parent %ld, XDG_RUNTIME_DIR=%s): "
			    "clients that reach it see other guests", pid,
			    cmd, (long)proc_ppid((pid_t)pid), xdg[0] != '\0' ? xdg :
			    "unset"), xasprintf("export LIBVIRT_AUTOSTART=0 "
			    "in the login environment; stop it once it runs "
			    "no guest: kill %ld (in a directory the broker "
			    "publishes to, it retires one by itself)", pid));
		else
			doctor_add(d, "daemons", bv->answered ? DOCTOR_WARN :
			    DOCTOR_FAIL, xasprintf("pid %ld (%s) runs outside "
			    "the broker", pid, cmd), xasprintf("the broker "
			    "adopts a daemon that serves its sockets when it "
			    "starts; else stop it once it runs no guest: "
			    "kill %ld", pid));
	}
	closedir(dir);
	if (monolithic && modular)
		doctor_add(d, "daemons", DOCTOR_FAIL, xstrdup("libvirtd runs "
		    "beside modular daemons: two owners of the same guests"),
		    xstrdup(system ? "disable the distribution's libvirtd "
		    "service and stop it" : "stop libvirtd once it runs no "
		    "guest; the broker serves the modular daemons"));
	if (outside == 0 && seen.n == 0)
		doctor_add(d, "daemons", DOCTOR_OK, xstrdup("no libvirt daemon "
		    "runs outside the broker (none runs)"), NULL);
	else if (outside == 0)
		doctor_add(d, "daemons", DOCTOR_OK, xasprintf("%zu libvirt "
		    "daemon%s running, all the broker's", seen.n,
		    seen.n == 1 ? "" : "s"), NULL);
	strv_free(&seen);
	strv_free(&seen_pids);
}

/* P/name against R/name: a link to it, a socket of its own, or missing. */
static void
check_link(struct doctor *d, const char *p, const char *r, const char *name)
{
	char *lp = paths_join(p, name), *rp = paths_join(r, name);
	char target[4096];
	struct stat st;
	ssize_t n = -1;

	if (lstat(rp, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		free(lp);
		free(rp);
		return;				/* not a unit of this broker */
	}
	if (lstat(lp, &st) == 0 && S_ISLNK(st.st_mode) &&
	    (n = readlink(lp, target, sizeof(target) - 1)) > 0)
		target[n] = '\0';
	if (lstat(lp, &st) < 0)
		doctor_add(d, "runtime-dir", DOCTOR_WARN, xasprintf("%s is "
		    "missing: a client with XDG_RUNTIME_DIR set finds no "
		    "daemon there and spawns one", lp), xstrdup("keep "
		    "publish at its default in [broker] (virt-broker.conf(5)) "
		    "and the broker running: it links it"));
	else if (n > 0 && strcmp(target, rp) == 0)
		doctor_add(d, "runtime-dir", DOCTOR_OK, xasprintf("%s -> %s",
		    lp, rp), NULL);
	else if (S_ISSOCK(st.st_mode))
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf("%s is a "
		    "socket of a daemon outside the broker", lp), xstrdup(
		    "see the daemons check; once it stops the broker links "
		    "the path again"));
	else
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf("%s is "
		    "not the broker's link to %s", lp, rp), xasprintf("rm %s "
		    "(the broker links it again)", lp));
	free(lp);
	free(rp);
}

/*
 * Where a client without XDG_RUNTIME_DIR (ssh, cron) looks: libvirt then
 * uses its cache dir, XDG_CACHE_HOME/libvirt or ~/.cache/libvirt. Its
 * virtqemud-sock must be R's, the same socket (a link to it counts).
 */
static void
check_no_xdg(struct doctor *d, const char *r)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *c, *cs, *rs;
	struct stat cst, rst;

	if (cache != NULL && cache[0] == '/')
		c = paths_join(cache, PATHS_LIBVIRT_SUBDIR);
	else if (home != NULL && home[0] == '/')
		c = xasprintf("%s/.cache/%s", home, PATHS_LIBVIRT_SUBDIR);
	else
		return;
	cs = paths_join(c, "virtqemud-sock");
	rs = paths_join(r, "virtqemud-sock");
	if (lstat(rs, &rst) == 0 && S_ISSOCK(rst.st_mode)) {
		if (stat(cs, &cst) == 0 && cst.st_dev == rst.st_dev &&
		    cst.st_ino == rst.st_ino)
			doctor_add(d, "runtime-dir", DOCTOR_OK, xasprintf(
			    "clients without XDG_RUNTIME_DIR (ssh, cron) use "
			    "%s, the broker's socket", cs), NULL);
		else
			doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf(
			    "clients without XDG_RUNTIME_DIR (ssh, cron) use "
			    "%s, which is not the broker's %s: they spawn a "
			    "virtqemud of their own", cs, rs), xstrdup(
			    "remove runtime_dir from [broker] (the default is "
			    "libvirt's ~/.cache/libvirt), then restart the "
			    "broker"));
	}
	free(c);
	free(cs);
	free(rs);
}

/* 4. Where session clients look: XDG_RUNTIME_DIR and the links in it. */
static void
check_runtime_dir(struct doctor *d, const char *r)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char run_user[64];
	struct stat st;
	char *p;

	snprintf(run_user, sizeof(run_user), "/run/user/%lu",
	    (unsigned long)geteuid());
	if (xdg == NULL || xdg[0] != '/') {
		if (stat(run_user, &st) == 0 && S_ISDIR(st.st_mode) &&
		    st.st_uid == geteuid())
			doctor_add(d, "runtime-dir", DOCTOR_WARN, xasprintf(
			    "XDG_RUNTIME_DIR is unset here, while %s exists: "
			    "clients here use %s, those of a login %s/libvirt",
			    run_user, r, run_user), xasprintf("export "
			    "XDG_RUNTIME_DIR=%s   (in your shell's profile)",
			    run_user));
		else
			doctor_add(d, "runtime-dir", DOCTOR_OK, xasprintf(
			    "XDG_RUNTIME_DIR is unset and %s does not exist: "
			    "clients use %s, the broker's runtime dir",
			    run_user, r),
			    NULL);
		return;
	}
	if (lstat(xdg, &st) < 0) {
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf(
		    "XDG_RUNTIME_DIR=%s: %s", xdg, strerror(errno)),
		    xasprintf("install -d -m 0700 %s", xdg));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf(
		    "XDG_RUNTIME_DIR=%s is not a directory (a link is not "
		    "followed)", xdg), xasprintf("export XDG_RUNTIME_DIR=%s",
		    run_user));
		return;
	}
	if (st.st_uid != geteuid()) {
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf(
		    "XDG_RUNTIME_DIR=%s is uid %lu's, not yours: the broker "
		    "will not publish there and clients may reach a stranger's "
		    "daemon", xdg, (unsigned long)st.st_uid), xasprintf(
		    "export XDG_RUNTIME_DIR=%s (a directory of your own)",
		    run_user));
		return;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		doctor_add(d, "runtime-dir", DOCTOR_FAIL, xasprintf(
		    "XDG_RUNTIME_DIR=%s has mode %04o: others may replace "
		    "what clients connect to", xdg,
		    (unsigned)(st.st_mode & 07777)), xasprintf("chmod 0700 %s",
		    xdg));
		return;
	}
	p = paths_join(xdg, PATHS_LIBVIRT_SUBDIR);
	if (strcmp(p, r) != 0) {
		check_link(d, p, r, "virtqemud-sock");
		check_link(d, p, r, "libvirt-sock");
	}
	free(p);
	check_no_xdg(d, r);
}

/*
 * System: the libvirt group's access to qemu:///system. Every
 * distribution's libvirt lets group libvirt manage the system daemons
 * (unix_sock_group, or polkit with 0666 sockets); a broker left at the
 * catalog's 0600 locks them out when it replaces libvirtd.
 */
static void
check_socket_group(struct doctor *d, const char *r)
{
	struct group *g = getgrnam("libvirt");
	const char *names[] = { "virtqemud-sock", "libvirt-sock" };
	char *path = NULL, members[256] = "";
	struct stat st;

	if (g == NULL)
		return;
	for (size_t i = 0; path == NULL && i < 2; i++) {
		path = paths_join(r, names[i]);
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		return;
	for (size_t i = 0; g->gr_mem[i] != NULL; i++)
		snprintf(members + strlen(members), sizeof(members) -
		    strlen(members), "%s%s", i > 0 ? ", " : "", g->gr_mem[i]);
	if ((st.st_mode & 0006) == 0006)
		doctor_add(d, "sockets", DOCTOR_OK, xasprintf("%s is mode "
		    "%04o: the daemon decides who may (polkit)", path,
		    (unsigned)(st.st_mode & 07777)), NULL);
	else if (st.st_gid == g->gr_gid && (st.st_mode & 0060) == 0060)
		doctor_add(d, "sockets", DOCTOR_OK, xasprintf("group libvirt "
		    "(%s) may use %s (mode %04o)", members[0] != '\0' ?
		    members : "no members", path,
		    (unsigned)(st.st_mode & 07777)), NULL);
	else
		doctor_add(d, "sockets", DOCTOR_WARN, xasprintf("%s is mode "
		    "%04o, group %lu: group libvirt (%s) cannot use "
		    "qemu:///system, which the distributions' libvirt lets it",
		    path, (unsigned)(st.st_mode & 07777),
		    (unsigned long)st.st_gid, members[0] != '\0' ? members :
		    "no members yet"), xstrdup("in [broker] of "
		    VB_SYSCONFDIR "/virt-broker/virt-broker.conf: "
		    "socket_group = libvirt and socket_mode = 0660; then "
		    "virt-brokerctl --system reload (the -ro, -admin, virtlogd "
		    "and virtlockd sockets stay as they are)"));
	free(path);
}

/* 7. The holder that keeps the sockets open if the broker dies. */
static void
check_holder(struct doctor *d, const char *r)
{
	char *pidfile = paths_join(r, "virt-broker.pid");
	pid_t broker = proc_read_pidfile(pidfile);
	DIR *dir = opendir("/proc");
	struct dirent *de;
	long holder = 0;

	free(pidfile);
	if (broker <= 0 || dir == NULL) {
		if (dir != NULL)
			closedir(dir);
		return;
	}
	while (holder == 0 && (de = readdir(dir)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);

		if (pid > 0 && proc_is((pid_t)pid, "vb-holder") &&
		    (long)proc_ppid((pid_t)pid) == (long)broker)
			holder = pid;
	}
	closedir(dir);
	if (holder > 0)
		doctor_add(d, "holder", DOCTOR_OK, xasprintf("pid %ld keeps "
		    "broker %ld's sockets open should it die", holder,
		    (long)broker), NULL);
	else
		doctor_add(d, "holder", DOCTOR_WARN, xasprintf("broker %ld "
		    "has no holder: its sockets close if it dies, and "
		    "clients then spawn daemons of their own", (long)broker),
		    xstrdup("remove holder_timeout = 0 from [broker] "
		    "(virt-broker.conf(5)), then virt-brokerctl reload"));
}

int
cmd_doctor(const char *ctl_path, bool system, bool json)
{
	struct doctor d = { 0 };
	struct broker_view bv = { 0 };
	char *r = paths_dirname(ctl_path);
	int status;

	check_broker(&d, ctl_path, system, &bv);
	check_daemons(&d, system, &bv);
	if (system) {
		doctor_init_services(&d, "/");
		check_socket_group(&d, r);
	} else {
		check_runtime_dir(&d, r);
		doctor_flatpak(&d, r);
	}
	doctor_guests(&d, system);
	check_holder(&d, r);
	if (json)
		doctor_print_json(&d);
	else
		doctor_print_text(&d);
	status = doctor_exit_status(&d);
	doctor_free(&d);
	strv_free(&bv.names);
	strv_free(&bv.pids);
	free(r);
	return status;
}
