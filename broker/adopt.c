/* SPDX-License-Identifier: MIT */
/*
 * Edge: adoption. A unit's socket that is live at start-up is served by a
 * daemon the broker did not start (one left by an earlier broker, or one
 * libvirt spawned itself): the broker watches its pid and binds the
 * sockets the moment it exits (ARCHITECTURE.md "Adoption").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"
#include "proc.h"
#include "sock.h"
#include "supervise_int.h"

/* libvirt's pidfile for a daemon: R/NAME.pid, or /run/NAME.pid (system). */
static pid_t
adopt_read_pidfile(const struct unit *u, const char *name)
{
	char path[4200];

	if (u->sup->plan->mode == BROKER_MODE_SYSTEM)
		snprintf(path, sizeof(path), "/run/%s.pid", name);
	else
		snprintf(path, sizeof(path), "%s/%s.pid",
		    u->sup->plan->runtime_dir, name);
	return proc_read_pidfile(path);
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
 * A live socket in R at start-up belongs to a daemon we did not start: one
 * left by an earlier broker, or one libvirt spawned itself. Its pidfile
 * (libvirt locks it: one daemon per R) names it; watch that pid with a
 * pidfd, leave the paths alone, and bind them the moment it exits. Without
 * a pid to watch, the unit is not served, and we say so.
 */
void
unit_adopt(struct unit *u, size_t live)
{
	const char *path = u->socks[live].spec->path;
	const char *base = strrchr(u->spec.exec, '/');
	const char *name = base != NULL ? base + 1 : u->spec.exec;
	pid_t pid = adopt_read_pidfile(u, name);
	int fd;

	if (!proc_is(pid, name))
		pid = sock_listener_pid(path);
	if (!proc_is(pid, name)) {
		log_warnx("unit %s: %s is served by a daemon the broker did not "
		    "start, and no %s process owns it (pidfile %s.pid); not "
		    "serving this unit", u->spec.name, path, name, name);
		return;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 && errno != ENOSYS) {
		log_warn("unit %s: %s is served by pid %ld, which the broker did "
		    "not start and cannot watch (pidfd_open); not serving this "
		    "unit", u->spec.name, path, (long)pid);
		return;
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
}
