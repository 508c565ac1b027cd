/* SPDX-License-Identifier: MIT */
/*
 * Edge: NOTIFY_SOCKET for the daemons. The sender is known by its
 * credentials (SO_PASSCRED), not by what it claims (MAINPID= is ignored),
 * so a message counts only for the pid the broker started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "sock.h"
#include "notify.h"
#include "xalloc.h"

static void
notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct notify *n = w->data;
	char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct notify_msg m;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	pid_t pid = 0;
	ssize_t len;

	(void)loop;
	(void)revents;
	len = recvmsg(n->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (len < 0)
		return;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			pid = cred.pid;
		}
	if (pid <= 0 || (mh.msg_flags & MSG_TRUNC))
		return;		/* no sender, or over 4 KiB: not libvirt's */
	notify_msg_parse(buf, (size_t)len, &m);
	if (!notify_msg_empty(&m))
		n->msg(n->arg, pid, &m);
}

/* Binds path (a stale socket of an earlier broker is replaced). */
int
notify_open(struct notify *n, struct ev_loop *loop, const char *path,
    void (*msg)(void *arg, pid_t pid, const struct notify_msg *m), void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bound_sock ib;
	struct stat st;
	mode_t old;
	int one = 1, r;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("notify socket %s: the path is %zu bytes, over the "
		    "%zu a UNIX socket address holds; daemons' readiness is "
		    "not reported", path, strlen(path),
		    sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (inherit_take_listener(path, SOCK_DGRAM, &ib) == 0) {
		n->fd = ib.fd;		/* left open by a reexec */
		st.st_dev = ib.dev;
		st.st_ino = ib.ino;
		goto bound;
	}
	/* We hold R's lock: a socket here is a dead broker's. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old = umask(0177);	/* born 0600: a chmod after bind leaves a window */
	r = n->fd < 0 || setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)) < 0 ? -1 : bind(n->fd, (struct sockaddr *)&sa,
	    sizeof(sa));
	umask(old);
	if (r < 0 || lstat(path, &st) < 0) {
		r = -errno;
		log_warn("notify socket %s: daemons' readiness is not "
		    "tracked", path);
		fd_close(&n->fd);
		return r;
	}
bound:
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->path = xstrdup(path);
	n->loop = loop;
	n->msg = msg;
	n->arg = arg;
	ev_io_init(&n->io, notify_cb, n->fd, EV_READ);
	n->io.data = n;
	ev_io_start(loop, &n->io);
	return 0;
}

void
notify_close(struct notify *n)
{
	if (n->fd < 0)
		return;
	ev_io_stop(n->loop, &n->io);
	fd_close(&n->fd);
	sock_unlink_ours(n->path, &(struct bound_sock){ .dev = n->dev,
	    .ino = n->ino });
	free(n->path);
	n->path = NULL;
}
