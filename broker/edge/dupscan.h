/* SPDX-License-Identifier: MIT */
/*
 * Edge: daemons that clients spawned for a published dir, found by /proc
 * rather than by path. At a logout a client may make P again while logind
 * removes it, and spawn a daemon there: removed (rm -rf) or detached
 * (logind's umount) a moment later, P is out of reach of every path, and
 * its daemon serves an unlinked socket until its --timeout. What ties such
 * a daemon to P is its own environment, from which libvirt computes its
 * runtime dir: $XDG_RUNTIME_DIR/libvirt, or without it the cache dir's
 * libvirt ($XDG_CACHE_HOME or ~/.cache).
 *
 * dupscan() calls fn for each process of ours named as one of names (not a
 * daemon's forked helper, which carries its parent's name until it execs),
 * started by a client's autospawn (--timeout=), younger than max_age s,
 * whose runtime dir is one of dirs. fn decides (retire.c). A process's
 * owner and start time are asked once per window (ds keeps them between
 * looks; dupscan_free() forgets them): a look reads /proc's list and the
 * names of the user's processes younger than max_age, little else.
 */
#ifndef VB_DUPSCAN_H
#define VB_DUPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strv.h"

typedef bool (*dupscan_fn)(void *arg, const char *dir, const char *daemon,
    pid_t pid);

/* What the last look learnt: each pid's start time, -1 if not ours. */
struct dupscan_pid {
	pid_t	 pid;
	double	 start;		/* s since boot */
};

struct dupscan {
	struct dupscan_pid *pids;	/* sorted by pid */
	size_t	 n;
	size_t	 cap;
};

size_t	dupscan(struct dupscan *ds, const struct strv *names,
	    const struct strv *dirs, double max_age, dupscan_fn fn,
	    void *arg);
void	dupscan_free(struct dupscan *ds);

#endif
