/* SPDX-License-Identifier: MIT */
/*
 * Edge: one inotify fd for the directories the broker cares about (R, the
 * published dirs and their parents). Any change calls one callback, which
 * re-checks everything: simple, idempotent, and no polling or timers.
 */
#ifndef VB_FSWATCH_H
#define VB_FSWATCH_H

#include <ev.h>

struct fswatch {
	int		 fd;		/* -1: inotify unavailable */
	ev_io		 io;
	struct ev_loop	*loop;
	void		(*cb)(void *arg);
	void		*arg;
};

int	fswatch_init(struct fswatch *w, struct ev_loop *loop,
	    void (*cb)(void *arg), void *arg);
void	fswatch_add(struct fswatch *w, const char *dir);
void	fswatch_close(struct fswatch *w);

#endif
