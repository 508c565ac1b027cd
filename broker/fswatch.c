/* SPDX-License-Identifier: MIT */
/*
 * Edge: inotify on a few directories; see fswatch.h. Watches vanish with
 * their directory (IN_IGNORED) and are added again by the next check, so
 * the set of watches follows what exists.
 */
#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fd.h"
#include "fswatch.h"
#include "log.h"

#define FSWATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void
fswatch_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct fswatch *w = io->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)loop;
	(void)revents;
	do
		n = read(w->fd, buf, sizeof(buf));	/* drain: one check */
	while (n > 0 || (n < 0 && errno == EINTR));
	w->cb(w->arg);
}

int
fswatch_init(struct fswatch *w, struct ev_loop *loop, void (*cb)(void *arg),
    void *arg)
{
	w->loop = loop;
	w->cb = cb;
	w->arg = arg;
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0) {
		log_warn("inotify: published links and the runtime directory "
		    "are not watched");
		return -errno;
	}
	ev_io_init(&w->io, fswatch_cb, w->fd, EV_READ);
	w->io.data = w;
	ev_io_start(loop, &w->io);
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
	if (w->fd < 0)
		return;
	ev_io_stop(w->loop, &w->io);
	fd_close(&w->fd);
}
