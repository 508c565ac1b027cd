/* SPDX-License-Identifier: MIT */
/*
 * Edge: inotify on a few directories and the mount table; see fswatch.h.
 * Watches vanish with their directory (IN_IGNORED) and are added again by
 * the next check, so the set of watches follows what exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fd.h"
#include "fswatch.h"
#include "log.h"

#define FSWATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR)

/* A change: the quick check now, the full one once quiet (at most MAX). */
static void
fswatch_changed(struct fswatch *w)
{
	ev_tstamp now = ev_now(w->loop), at;

	w->quick(w->arg);
	if (!ev_is_active(&w->settle))
		w->first = now;
	at = w->first + FSWATCH_SETTLE_MAX;
	if (now + FSWATCH_SETTLE < at)
		at = now + FSWATCH_SETTLE;
	ev_timer_stop(w->loop, &w->settle);
	ev_timer_set(&w->settle, at - now, 0.);
	ev_timer_start(w->loop, &w->settle);
}

static void
settle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct fswatch *w = t->data;

	(void)loop;
	(void)revents;
	w->settled(w->arg);
}

/*
 * A libvirt client's spawn lock, DAEMON.lock: every session client with
 * autostart makes one and removes it at each connect, many times a
 * second while a client polls. It changes nothing the broker checks.
 */
static bool
spawn_lock(const struct inotify_event *ev)
{
	size_t len = ev->len > 0 ? strnlen(ev->name, ev->len) : 0;

	return len > 5 && strcmp(ev->name + len - 5, ".lock") == 0;
}

static void
fswatch_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct fswatch *w = io->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	(void)loop;
	(void)revents;
	do {					/* drain: one check */
		n = read(w->fd, buf, sizeof(buf));
		for (char *at = buf; n > 0 && at < buf + n;) {
			const struct inotify_event *ev = (const void *)at;

			changed |= !spawn_lock(ev);
			at += sizeof(*ev) + ev->len;
		}
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (changed)
		fswatch_changed(w);
}

/*
 * The mount table changed (POLLERR on /proc/self/mountinfo): a tmpfs
 * mounted on /run/user/UID at login, or unmounted at logout.
 */
static void
mounts_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	fswatch_changed(io->data);
}

/*
 * The kernel flags a change of the mount table as POLLERR|POLLPRI on
 * /proc/self/mountinfo, and always reports it readable: watch it for
 * writing, which epoll reports (EV_WRITE) only with that error.
 */
static void
watch_mounts(struct fswatch *w)
{
	w->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (w->mounts_fd < 0) {
		log_warn("mounts are not watched: /proc/self/mountinfo");
		return;
	}
	ev_io_init(&w->mounts_io, mounts_cb, w->mounts_fd, EV_WRITE);
	w->mounts_io.data = w;
	ev_io_start(w->loop, &w->mounts_io);
}

int
fswatch_init(struct fswatch *w, struct ev_loop *loop, void (*quick)(void *arg),
    void (*settled)(void *arg), void *arg)
{
	w->loop = loop;
	w->quick = quick;
	w->settled = settled;
	w->arg = arg;
	w->mounts_fd = -1;
	ev_init(&w->settle, settle_cb);
	w->settle.data = w;
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0) {
		log_warn("inotify: published links and the runtime directory "
		    "are not watched");
		return -errno;
	}
	ev_io_init(&w->io, fswatch_cb, w->fd, EV_READ);
	w->io.data = w;
	ev_io_start(loop, &w->io);
	watch_mounts(w);
	return 0;
}

/* Watches dir if it exists; a missing one is watched once it appears. */
void
fswatch_add(struct fswatch *w, const char *dir)
{
	if (w->fd < 0)
		return;
	if (inotify_add_watch(w->fd, dir, FSWATCH_MASK) < 0 &&
	    errno != ENOENT && errno != ENOTDIR && errno != EACCES)
		log_warn("inotify: watch %s", dir);
}

void
fswatch_close(struct fswatch *w)
{
	ev_timer_stop(w->loop, &w->settle);
	if (w->mounts_fd >= 0) {
		ev_io_stop(w->loop, &w->mounts_io);
		fd_close(&w->mounts_fd);
	}
	if (w->fd < 0)
		return;
	ev_io_stop(w->loop, &w->io);
	fd_close(&w->fd);
}
