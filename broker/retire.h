/* SPDX-License-Identifier: MIT */
/*
 * Edge: retiring duplicates. A live socket in a published dir P that the
 * broker did not bind is served by a second daemon, which clients that
 * look in P reach instead of the broker's. One that is safe to stop is
 * stopped, and P gets its links:
 *   - of the broker's uid (SO_PEERCRED of the socket), named as the unit's
 *     daemon, running;
 *   - started by libvirt's client autospawn (its command line has
 *     libvirt's `--timeout=N`; one started by hand is the user's);
 *   - running no guest of its own: its runtime dir, P, holds no domain
 *     status (P/qemu/run/NAME.xml).
 * It is stopped under the clients' spawn lock P/DAEMON.lock (SIGTERM
 * through a pidfd, SIGKILL after RETIRE_KILL_AFTER s), so that a client
 * that comes meanwhile waits, and is released once the links are back.
 * Anything else is left alone and reported (publish.c): a duplicate that
 * runs guests holds them, and stopping it is the user's call.
 */
#ifndef VB_RETIRE_H
#define VB_RETIRE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#define RETIRE_KILL_AFTER	10.	/* s from SIGTERM to SIGKILL */

struct retiring;

struct retirer {
	struct ev_loop	*loop;
	struct retiring	*list;		/* being stopped */
	unsigned long	 retired;	/* since start-up, for status */
	pid_t		 warned[8];	/* duplicates with guests, said */
	void		(*done)(void *arg);	/* one exited: link again */
	void		*arg;
};

void	retire_init(struct retirer *r, struct ev_loop *loop,
	    void (*done)(void *arg), void *arg);
bool	retire_consider(void *retirer, const char *dir, const char *daemon,
	    const char *path, pid_t pid, uid_t uid);
bool	retire_wanted(pid_t pid, uid_t uid, const char *daemon,
	    const char *dir);
void	retire_free(struct retirer *r);

#endif
