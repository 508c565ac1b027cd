/* SPDX-License-Identifier: MIT */
/*
 * Edge: the datagram socket daemons find in NOTIFY_SOCKET; libvirt's
 * daemons send READY=1 there once they serve (sd_notify(3)).
 */
#ifndef VB_NOTIFY_H
#define VB_NOTIFY_H

#include <ev.h>
#include <sys/types.h>

struct notify {
	int		 fd;		/* -1: none */
	char		*path;
	dev_t		 dev;		/* what bind made at path: */
	ino_t		 ino;		/* close unlinks only that */
	ev_io		 io;
	struct ev_loop	*loop;
	void		(*ready)(void *arg, pid_t pid);
	void		*arg;
};

int	notify_open(struct notify *n, struct ev_loop *loop, const char *path,
	    void (*ready)(void *arg, pid_t pid), void *arg);
void	notify_close(struct notify *n);

#endif
