/* SPDX-License-Identifier: MIT */
/*
 * Edge: adoption. A unit's socket that is live at start-up is served by a
 * daemon the broker did not start (one left by an earlier broker, or one
 * libvirt spawned itself): the broker watches its pid and binds the
 * sockets the moment it exits (ARCHITECTURE.md "Adoption").
 *
 * The daemon may also serve a published place rather than R: a broker from
 * before R moved to ~/.cache/libvirt kept R in $XDG_RUNTIME_DIR/libvirt,
 * and libvirt's own autospawn binds where the client looked. Then the
 * broker links R's socket names to that daemon's sockets, so that every
 * client reaches the one daemon, and removes those links when it exits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirtrust.h"
#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "retire.h"
#include "sock.h"
#include "supervise_int.h"
#include "xalloc.h"

static const char *
exec_name(const struct unit *u)
{
	const char *base = strrchr(u->spec.exec, '/');

	return base != NULL ? base + 1 : u->spec.exec;
}

/* Is pid's executable the unit's binary (or that binary, replaced)? */
static bool
runs_unit_exec(const struct unit *u, pid_t pid)
{
	char link[64], exe[PATH_MAX + 16], *want = realpath(u->spec.exec, NULL);
	ssize_t n;
	size_t len;
	bool same;

	snprintf(link, sizeof(link), "/proc/%ld/exe", (long)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (want == NULL || n <= 0) {
		free(want);
		return false;
	}
	exe[n] = '\0';
	len = strlen(want);
	/* An upgrade replaced the file under the running daemon. */
	same = strncmp(exe, want, len) == 0 && (exe[len] == '\0' ||
	    strcmp(exe + len, " (deleted)") == 0);
	free(want);
	return same;
}

/*
 * Only our own daemon is adopted (or linked to): the socket's listener
 * (SO_PEERCRED) of our uid, in a directory only we or root can change
 * (dirtrust.h: another user may own a publish place, e.g. a
 * /tmp/UID-runtime-dir someone made first), served by a process of our
 * uid running the unit's binary. Anything else is said, once per check,
 * naming the path, the uid and the pid.
 */
static bool
adopt_trusted(const struct unit *u, const char *path, pid_t pid)
{
	char why[160], proc[64];
	struct stat st;
	pid_t lpid;
	uid_t luid;

	sock_listener_cred(path, &lpid, &luid);
	snprintf(proc, sizeof(proc), "/proc/%ld", (long)pid);
	if (luid != geteuid())
		snprintf(why, sizeof(why), "its listener is uid %ld",
		    (long)luid);
	else if (!dirtrust_parent_of(path))
		snprintf(why, sizeof(why), "its directory is one that others "
		    "than us and root can change");
	else if (stat(proc, &st) < 0 || st.st_uid != geteuid())
		snprintf(why, sizeof(why), "pid %ld is not of our uid",
		    (long)pid);
	else if (!runs_unit_exec(u, pid))
		snprintf(why, sizeof(why), "pid %ld does not run %s",
		    (long)pid, u->spec.exec);
	else
		return true;
	log_warnx("unit %s: %s is served by pid %ld (listener uid %ld), not "
	    "a daemon of ours: %s; not adopted, never linked to", u->spec.name,
	    path, (long)pid, (long)luid, why);
	return false;
}

/*
 * The daemon that serves path: its libvirt pidfile (DIR/NAME.pid, or
 * /run/NAME.pid in system mode), else the socket's listener; 0 if no NAME
 * process owns it, or if it is not ours to adopt (adopt_trusted).
 */
static pid_t
adopt_find_pid(const struct unit *u, const char *dir, const char *path)
{
	const char *name = exec_name(u);
	char pidfile[4200];
	pid_t pid;

	if (u->sup->plan->mode == BROKER_MODE_SYSTEM)
		snprintf(pidfile, sizeof(pidfile), "/run/%s.pid", name);
	else
		snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", dir, name);
	pid = proc_read_pidfile(pidfile);
	if (!proc_is(pid, name) || !proc_running(pid))
		pid = sock_listener_pid(path);
	/* A zombie (an orphan a container's init never reaps) serves no one. */
	if (!proc_is(pid, name) || !proc_running(pid))
		return 0;
	return adopt_trusted(u, path, pid) ? pid : 0;
}

/* R/NAME for the unit's sockets in R that are our links to dir/NAME. */
static void
adopt_unlink_links_to(struct unit *u, const char *dir)
{
	for (size_t i = 0; i < u->spec.nsockets; i++) {
		const char *path = u->spec.sockets[i].path;
		char *target = paths_join(dir, strrchr(path, '/') + 1);

		if (sock_is_link_to(path, target) && unlink(path) < 0)
			log_warn("unit %s: remove link %s", u->spec.name, path);
		free(target);
	}
}

/* The links to the adopted dir, and the adoption's dir, gone. */
static void
adopt_unlink_ours(struct unit *u)
{
	adopt_unlink_links_to(u, u->adopted_dir);
	free(u->adopted_dir);
	u->adopted_dir = NULL;
}

/* The adopted daemon is gone: R is ours again. */
static void
adopt_gone(struct unit *u)
{
	size_t live = 0;
	int r;

	ev_io_stop(u->sup->loop, &u->adopt_io);
	ev_timer_stop(u->sup->loop, &u->adopt_timer);
	fd_close(&u->pidfd);
	log_info("unit %s: adopted pid %ld exited; binding its sockets",
	    u->spec.name, (long)u->adopted_pid);
	u->adopted_pid = 0;
	if (u->adopted_dir != NULL)
		adopt_unlink_ours(u);
	if (u->nsocks > 0 && u->socks[0].b.fd >= 0) {
		/* Adopted with its sockets held (holder.c): still ours. */
		unit_feed(u, UNIT_EV_EXIT, false, false);
		return;
	}
	if (unit_adopt_published(u))
		return;
	r = unit_bind(u, &live);
	if (r == -EADDRINUSE) {
		unit_adopt(u, live);
		return;
	}
	u->serving = r == 0;
	unit_feed(u, UNIT_EV_EXIT, false, false);
}

static void
adopt_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	adopt_gone(w->data);
}

/* Without pidfd_open (valgrind, Linux < 5.3): a once-a-second look. */
static void
adopt_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct unit *u = w->data;

	(void)loop;
	(void)revents;
	if (!proc_running(u->adopted_pid))
		adopt_gone(u);
}

/*
 * Watches pid (a pidfd, else a timer). 1 watching; 0 the pid is already
 * gone (exited between the probe and now: the caller binds); -1 it cannot
 * be watched (said).
 */
static int
adopt_watch(struct unit *u, pid_t pid, const char *path)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && errno == ESRCH)
		return 0;
	if (fd < 0 && errno != ENOSYS) {
		log_warn("unit %s: %s is served by pid %ld, which the broker did "
		    "not start and cannot watch (pidfd_open); not serving this "
		    "unit", u->spec.name, path, (long)pid);
		return -1;
	}
	if (!proc_is(pid, exec_name(u)) || !proc_running(pid)) {
		/* gone (a zombie too), or its pid reused */
		fd_close(&fd);
		return 0;
	}
	u->adopted_pid = pid;
	if (fd >= 0) {
		u->pidfd = fd;
		ev_io_init(&u->adopt_io, adopt_cb, fd, EV_READ);
		u->adopt_io.data = u;
		ev_io_start(u->sup->loop, &u->adopt_io);
	} else {
		ev_timer_init(&u->adopt_timer, adopt_timer_cb, 1., 1.);
		u->adopt_timer.data = u;
		ev_timer_start(u->sup->loop, &u->adopt_timer);
	}
	unit_set_state(u, UNIT_ADOPTED);
	log_info("unit %s: adopted pid %ld, which serves %s; its sockets are "
	    "bound again when it exits", u->spec.name, (long)pid, path);
	return 1;
}

/*
 * A live socket in R belongs to a daemon we did not start. Its pidfile
 * (libvirt locks it: one daemon per R) names it; watch that pid with a
 * pidfd, leave the paths alone, and bind them the moment it exits. Without
 * a pid to watch, the unit is not served, and we say so.
 */
void
unit_adopt(struct unit *u, size_t live)
{
	const char *path = u->socks[live].spec->path;
	pid_t pid = adopt_find_pid(u, u->sup->plan->runtime_dir, path);
	size_t at = 0;

	if (pid <= 0) {
		log_warnx("unit %s: %s is served by a daemon the broker did not "
		    "start, and no %s process owns it (pidfile %s.pid); not "
		    "serving this unit", u->spec.name, path, exec_name(u),
		    exec_name(u));
		return;
	}
	if (adopt_watch(u, pid, path) != 0)
		return;
	log_info("unit %s: pid %ld, which served %s, exited meanwhile; "
	    "binding its sockets", u->spec.name, (long)pid, path);
	u->serving = unit_bind(u, &at) == 0;	/* once: no loop */
	if (u->serving)
		unit_set_state(u, UNIT_LISTENING);
	else
		log_warnx("unit %s: %s is still live; not serving this unit",
		    u->spec.name, path);
}

/*
 * The daemon pid, which a dead broker started, serves the unit's sockets,
 * which the broker holds too (taken back from the holder): adopted, its
 * sockets kept bound and unwatched until it exits.
 */
void
unit_adopt_held(struct unit *u, pid_t pid)
{
	const char *path = u->spec.sockets[0].path;

	if (adopt_watch(u, pid, path) == 1)
		return;
	log_info("unit %s: pid %ld holds %s but is not %s; serving the unit",
	    u->spec.name, (long)pid, path, exec_name(u));
}

/* R/NAME -> dir/NAME for each of the unit's sockets the daemon serves. */
static int
adopt_link_into_r(struct unit *u, const char *dir)
{
	for (size_t i = 0; i < u->spec.nsockets; i++) {
		const char *path = u->spec.sockets[i].path;
		char *target = paths_join(dir, strrchr(path, '/') + 1);
		struct stat st;
		int r = 0;

		if (lstat(target, &st) < 0 || !S_ISSOCK(st.st_mode))
			goto next;		/* a socket it does not serve */
		if (lstat(path, &st) == 0) {
			if (sock_is_link_to(path, target))
				goto next;	/* the earlier broker's link */
			if (!S_ISSOCK(st.st_mode) || sock_probe_live(path) == 1 ||
			    unlink(path) < 0) {
				log_warnx("unit %s: %s is in the way of a link to "
				    "%s; not adopting", u->spec.name, path,
				    target);
				r = -EEXIST;
				goto next;
			}
		}
		if (symlink(target, path) < 0) {
			log_warn("unit %s: link %s", u->spec.name, path);
			r = -errno;
		}
next:
		free(target);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A broker of the earlier layout published links into what is R now
 * (R/NAME -> P/NAME, P one of today's published places). Links to a dead
 * socket are that broker's leftovers: removed, so that R can be bound.
 * Links to a live one are the adoption's business (below).
 */
static void
adopt_clear_old_links(struct unit *u)
{
	const struct plan *plan = u->sup->plan;

	for (size_t i = 0; i < u->spec.nsockets; i++) {
		const char *path = u->spec.sockets[i].path;
		struct stat st;

		if (path[0] != '/' || lstat(path, &st) < 0 ||
		    !S_ISLNK(st.st_mode) || sock_probe_live(path) == 1)
			continue;
		for (size_t j = 0; j < plan->publish.n; j++) {
			char *target = paths_join(plan->publish.v[j],
			    strrchr(path, '/') + 1);
			bool old = sock_is_link_to(path, target);

			free(target);
			if (!old)
				continue;
			if (unlink(path) < 0)
				log_warn("unit %s: remove %s", u->spec.name, path);
			else
				log_info("unit %s: removed %s, an earlier "
				    "broker's link to a dead socket",
				    u->spec.name, path);
			break;
		}
	}
}

/*
 * Before binding R: is the unit served in a published place by a daemon
 * of its own (an earlier layout's R, or libvirt's autospawn)? Then adopt
 * it, with links from R, rather than start a second daemon. true: adopted.
 */
bool
unit_adopt_published(struct unit *u)
{
	const struct plan *plan = u->sup->plan;
	const char *first;
	struct stat st;

	/* Nowhere published (publish = none): nothing to clear or adopt. */
	if (u->spec.nsockets == 0 || plan->mode != BROKER_MODE_SESSION ||
	    plan->publish.n == 0)
		return false;
	adopt_clear_old_links(u);
	first = u->spec.sockets[0].path;
	if (first[0] != '/' || (lstat(first, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && sock_probe_live(first) == 1))
		return false;		/* R's own live socket: unit_adopt */
	for (size_t i = 0; i < plan->publish.n; i++) {
		const char *dir = plan->publish.v[i];
		char *sock = paths_join(dir, strrchr(first, '/') + 1);
		pid_t pid = 0;

		if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    sock_probe_live(sock) == 1)
			pid = adopt_find_pid(u, dir, sock);
		/* A client's duplicate with no guest: retired (publish.c). */
		if (pid > 0 && retire_wanted(pid, geteuid(), exec_name(u), dir,
		    sock)) {
			log_info("unit %s: %s is served by pid %ld, a duplicate "
			    "that a client's autospawn started: not adopted",
			    u->spec.name, sock, (long)pid);
			pid = 0;
		}
		/* Not (or no longer) adopted: an earlier adoption's links
		 * from R to it would keep R from being bound. */
		if (pid <= 0)
			adopt_unlink_links_to(u, dir);
		if (pid > 0 && adopt_link_into_r(u, dir) == 0) {
			u->adopted_dir = xstrdup(dir);
			log_info("unit %s: a daemon serves %s (an earlier "
			    "runtime directory): linked from %s", u->spec.name,
			    sock, plan->runtime_dir);
			if (adopt_watch(u, pid, sock) == 1) {
				free(sock);
				return true;
			}
			adopt_unlink_ours(u);
		}
		free(sock);
	}
	return false;
}

/*
 * After a holder's handover: a unit whose socket a live process other
 * than our child holds is served by a daemon the broker did not start
 * (the dead broker's): adopted, its socket kept.
 */
void
sup_adopt_running(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];
		pid_t pid = 0;

		for (size_t j = 0; j < u->nsocks && pid == 0; j++)
			if (u->socks[j].b.fd >= 0 && u->adopted_pid <= 0 &&
			    u->pid <= 0)
				pid = inherit_process_holding(u->socks[j].b.fd);
		if (pid > 0)
			unit_adopt_held(u, pid);
	}
}
