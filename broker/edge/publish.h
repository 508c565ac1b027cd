/* SPDX-License-Identifier: MIT */
/*
 * Edge: publishing. Clients compute libvirt's runtime dir from their own
 * environment, so besides R the broker keeps, in every other place a client
 * may look (plan->publish), one symlink per socket to the real socket in R.
 */
#ifndef VB_PUBLISH_H
#define VB_PUBLISH_H

#include <stdint.h>
#include <sys/types.h>

#include "fswatch.h"
#include "spawnguard.h"
#include "strv.h"

/* Which directory a published dir's parent is: a login makes a new one. */
struct publish_id {
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 btime_ns;	/* birth, where the fs keeps it */
};

/* Live sockets in published places that the broker did not bind. */
struct publish_dups {
	struct strv	 paths;
	struct strv	 pids;		/* the listener's, "0" if unknown */
};

/* The parent directories a published dir has had (a few, newest first). */
#define PUBLISH_SEEN	4
struct publish_seen {
	struct publish_id id[PUBLISH_SEEN];
};

/*
 * A live socket at path in published dir dir that the broker did not bind,
 * served by pid of uid, for the daemon named daemon: true if it is being
 * retired (retire.c), so that it is not reported as a duplicate.
 */
typedef bool (*publish_foreign_fn)(void *arg, const char *dir,
    const char *daemon, const char *path, pid_t pid, uid_t uid);

/*
 * A process pid that holds dir/daemon.pid's lock, where the spawn guard
 * wanted it: a daemon a client spawned in dir, found before it serves.
 * True if it is being retired.
 */
typedef bool (*publish_starting_fn)(void *arg, const char *dir,
    const char *daemon, pid_t pid);

struct publisher {
	struct strv	 dirs;		/* the libvirt dirs we publish in */
	struct strv	 names;		/* socket file names in R */
	struct strv	 owners;	/* per name: its daemon (virtqemud) */
	char		*runtime_dir;	/* R, the links' target dir */
	mode_t		 dir_mode;	/* of a dir we make: R's, 0700 or 0755 */
	struct strv	 made;		/* links we made: dir/name */
	struct strv	 said;		/* problems reported once */
	struct publish_seen *parents;	/* per dir: parents linked into */
	struct publish_seen sockets;	/* sockets new_sockets() looked at */
	bool		 incomplete;	/* links were missing at the last look */
	struct publish_dups dups;	/* shown by virt-brokerctl status */
	struct spawnguard guard;	/* libvirt's locks held in dirs */
	publish_foreign_fn foreign;	/* NULL: report only */
	publish_starting_fn starting;	/* NULL: wait until it serves */
	void		*foreign_arg;	/* of both */
};

void	publish_init(struct publisher *p, const char *runtime_dir,
	    const struct strv *dirs);
void	publish_set(struct publisher *p, const struct strv *dirs,
	    const struct strv *names, const struct strv *owners);
void	publish_sync(struct publisher *p, struct fswatch *w);
void	publish_sync_logins(struct publisher *p, struct fswatch *w);
void	publish_remove(struct publisher *p, const struct strv *keep);
void	publish_free(struct publisher *p);

#endif
