/* SPDX-License-Identifier: MIT */
/*
 * Edge: the datagram socket daemons find in NOTIFY_SOCKET (sd_notify(3));
 * each datagram, parsed (notify_msg.h), goes to the callback with the
 * sender's pid as the kernel reports it.
 */
#ifndef VB_NOTIFY_H
#define VB_NOTIFY_H

#include <ev.h>
#include <sys/types.h>

#include "notify_msg.h"

struct notify {
	int		 fd;		/* -1: none */
	char		*path;
	dev_t		 dev;		/* what bind made at path: */
	ino_t		 ino;		/* close unlinks only that */
	ev_io		 io;
	struct ev_loop	*loop;
	void		(*msg)(void *arg, pid_t pid,
			    const struct notify_msg *m);
	void		*arg;
};

int	notify_open(struct notify *n, struct ev_loop *loop, const char *path,
	    void (*msg)(void *arg, pid_t pid, const struct notify_msg *m),
	    void *arg);
void	notify_close(struct notify *n);

#endif
