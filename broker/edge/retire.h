/* SPDX-License-Identifier: MIT */
/*
 * Edge: retiring duplicates. A live socket in a published dir P that the
 * broker did not bind is served by a second daemon, which clients that
 * look in P reach instead of the broker's. One that is safe to stop is
 * stopped, and P gets its links:
 *   - a socket in P itself (not a link), P a directory only we or root can
 *     change, its listener (SO_PEERCRED) of the broker's uid, named as the
 *     unit's daemon, running, and holding P/DAEMON.pid's lock (which ties
 *     it to P as its runtime dir);
 *   - started by libvirt's client autospawn (its command line has
 *     libvirt's `--timeout=N`; one started by hand is the user's);
 *   - running no guest of its own: its runtime dir, P, holds no status
 *     file of any driver (P/DRIVER/run/NAME.xml).
 * It is stopped under the clients' spawn lock P/DAEMON.lock (SIGTERM
 * through a pidfd, SIGKILL after RETIRE_KILL_AFTER s, or at the broker's
 * stop), so that a client that comes meanwhile waits, and is released once
 * the links are back. A busy spawn lock (a client connecting) is tried
 * again after RETIRE_RETRY s. A duplicate that started less than
 * RETIRE_FRESH s ago (one found as its socket appears) is still starting
 * up: it gets SIGKILL at once, without waiting for the lock.
 * Anything else is left alone and reported (publish.c): a duplicate that
 * runs guests holds them, and stopping it is the user's call.
 *
 * Before it serves: retire_starting() takes a daemon that holds P's pidfile
 * (found by the spawn guard) or whose environment makes P its runtime dir
 * (found by dupscan.c, which also finds one whose P a logout removed or
 * detached, out of reach of any path): one still starting up gets SIGKILL.
 * While a published dir lacks links (a login, a logout: publish.c's
 * incomplete), retire_scan_soon() has /proc looked at at once and every
 * RETIRE_SCAN_EVERY s, for RETIRE_SCAN_FOR s after the last such moment.
 */
#ifndef VB_RETIRE_H
#define VB_RETIRE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dupscan.h"
#include "strv.h"

#define RETIRE_KILL_AFTER	10.	/* s from SIGTERM to SIGKILL */
#define RETIRE_RETRY		0.1	/* s, after a busy spawn lock */
#define RETIRE_FRESH		5.	/* s: younger ones get SIGKILL at once */
#define RETIRE_SCAN_EVERY	0.02	/* s between looks at /proc ... */
#define RETIRE_SCAN_GAP		0.005	/* s at least, when a change asks */
#define RETIRE_SCAN_FOR		0.25	/* s ... after links were missing */

struct retiring;

struct retirer {
	struct ev_loop	*loop;
	struct retiring	*list;		/* being stopped */
	unsigned long	 retired;	/* since start-up, for status */
	ev_timer	 retry;		/* a spawn lock was busy */
	pid_t		 warned[8];	/* duplicates with guests, said */
	struct strv	 names;		/* daemons, for dupscan() */
	struct strv	 dirs;		/* published dirs, for dupscan() */
	ev_timer	 scan;		/* dupscan() while links are missing */
	struct dupscan	 ds;
	ev_tstamp	 scan_until;
	ev_tstamp	 scanned;	/* the last look (ev_time()) */
	void		(*done)(void *arg);	/* one exited: link again */
	void		*arg;
};

void	retire_init(struct retirer *r, struct ev_loop *loop,
	    void (*done)(void *arg), void *arg);
bool	retire_consider(void *retirer, const char *dir, const char *daemon,
	    const char *path, pid_t pid, uid_t uid);
bool	retire_starting(void *retirer, const char *dir, const char *daemon,
	    pid_t pid);
bool	retire_wanted(pid_t pid, uid_t uid, const char *daemon,
	    const char *dir, const char *path);
void	retire_set_scope(struct retirer *r, const struct strv *names,
	    const struct strv *dirs);
void	retire_scan_soon(struct retirer *r);
void	retire_free(struct retirer *r);

#endif
