/* SPDX-License-Identifier: MIT */
/*
 * Edge: one inotify fd for the directories the broker cares about (R, the
 * published dirs and their parents), plus the mount table. Any change calls
 * one callback, which re-checks everything: simple and idempotent.
 *
 * When: a directory that appears or changes owner (/run/user/UID at login,
 * made by root, then given to the user) or a change of mounts (logind mounts a tmpfs on it after making it, and unmounts it at
 * logout) is checked at once, so that links are there before the session's
 * first client; anything else (rm -rf by pam_rundir, a link deleted by
 * hand, files coming and going) is checked once the directories have been
 * quiet for FSWATCH_SETTLE, so the broker never puts links back into a
 * directory that is being removed. Idle, nothing runs: the settle timer is
 * one-shot. Changes to libvirt clients' spawn locks (DAEMON.lock), which
 * polling clients make and remove at each connect, are not changes here.
 */
#ifndef VB_FSWATCH_H
#define VB_FSWATCH_H

#include <ev.h>
#include <stdbool.h>

#define FSWATCH_SETTLE		0.25	/* s of quiet after a removal */
#define FSWATCH_SETTLE_MAX	2.0	/* s after the first, at most */

struct fswatch {
	int		 fd;		/* -1: inotify unavailable */
	int		 mounts_fd;	/* /proc/self/mountinfo, or -1 */
	ev_io		 io;
	ev_io		 mounts_io;
	ev_timer	 settle;
	ev_tstamp	 first;		/* of the removals being settled */
	struct ev_loop	*loop;
	void		(*quick)(void *arg);
	void		(*settled)(void *arg);
	void		*arg;
};

int	fswatch_init(struct fswatch *w, struct ev_loop *loop,
	    void (*quick)(void *arg), void (*settled)(void *arg), void *arg);
void	fswatch_add(struct fswatch *w, const char *dir);
void	fswatch_close(struct fswatch *w);

#endif
