/* SPDX-License-Identifier: MIT */
/*
 * Edge: the spawn guard. libvirt's client spawns `DAEMON --timeout=120`
 * when it finds no socket where it looks, and that daemon, started with
 * the client's XDG_RUNTIME_DIR, takes the pidfile P/DAEMON.pid in the
 * published dir P before it binds anything (libvirt's remote_daemon.c:
 * virPidFileAcquirePath, a non-blocking fcntl lock on byte 0). The broker
 * holds that lock (an open file description lock, which conflicts with
 * libvirt's record lock) in every published dir it links into, for as long
 * as the dir is there, taken before the links are made (a dir the broker
 * makes is put in place with it, publish.c): a duplicate that a client
 * spawns in a race exits at once with "Failed to acquire pid file", before
 * it has touched a socket, and the client's own retries (every 10 ms, 500
 * times) find the broker's link. The broker's daemons never use P (their
 * runtime dir is R), so nothing of ours ever wants that lock. Where a
 * pidfile came back (a client made P again while a logout removes it),
 * guard_recheck() locks the one there without creating any, and names the
 * daemon that holds one, to be retired.
 *
 * Around the making of links it also holds the clients' spawn locks,
 * P/DAEMON.lock (virNetSocketNewConnectUNIX takes one, blocking, before
 * it connects and spawns): a client that comes meanwhile waits, then
 * connects to the link instead of spawning.
 *
 * Files are opened from a dir fd with O_NOFOLLOW and must be regular files
 * of ours; nothing is chmod-ed or chown-ed, and only a pidfile the broker
 * created is removed, at a clean stop.
 */
#ifndef VB_SPAWNGUARD_H
#define VB_SPAWNGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strv.h"

struct guard_dir {
	int		*pid_fds;	/* per name: P/NAME.pid, locked, or -1 */
	bool		*pid_made;	/* per name: we created that file */
	int		*lock_fds;	/* per name: P/NAME.lock held, or -1 */
};

struct spawnguard {
	struct strv	 names;		/* daemon names: virtqemud, ... */
	struct guard_dir *dirs;		/* one per published dir */
	size_t		 ndirs;
};

void	guard_set(struct spawnguard *g, size_t ndirs,
	    const struct strv *names);
size_t	guard_pidfiles(struct spawnguard *g, size_t i, int dirfd);
void	guard_recheck(struct spawnguard *g, size_t i, int dirfd,
	    pid_t *holders);
void	guard_spawn_hold(struct spawnguard *g, size_t i, int dirfd);
void	guard_spawn_release(struct spawnguard *g, size_t i);
int	guard_take(int dirfd, const char *name, const char *ext,
	    bool *made);
void	guard_remove(struct spawnguard *g, size_t i, int dirfd);
void	guard_drop(struct spawnguard *g, size_t i);
void	guard_free(struct spawnguard *g);

#endif
