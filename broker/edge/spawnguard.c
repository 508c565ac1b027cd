/* SPDX-License-Identifier: MIT */
/* Edge: the spawn guard (see spawnguard.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "spawnguard.h"
#include "xalloc.h"

static void
close_all(int *fds, size_t n)
{
	for (size_t k = 0; k < n; k++)
		fd_close(&fds[k]);
}

static int *
new_fds(size_t n)
{
	int *fds = xcalloc(n + 1, sizeof(*fds));

	for (size_t k = 0; k < n; k++)
		fds[k] = -1;
	return fds;
}

void
guard_set(struct spawnguard *g, size_t ndirs, const struct strv *names)
{
	guard_free(g);
	strv_copy(&g->names, names);
	g->ndirs = ndirs;
	g->dirs = xcalloc(ndirs + 1, sizeof(*g->dirs));
	for (size_t i = 0; i < ndirs; i++) {
		g->dirs[i].pid_fds = new_fds(names->n);
		g->dirs[i].lock_fds = new_fds(names->n);
		g->dirs[i].pid_made = xcalloc(names->n + 1,
		    sizeof(*g->dirs[i].pid_made));
	}
}

/*
 * dir/NAME.EXT, a regular file of ours opened without following a link;
 * *made tells whether this call created it.
 */
static int
open_ours(int dirfd, const char *name, const char *ext, mode_t mode,
    bool *made)
{
	char file[300];
	struct stat st;
	int fd, flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

	if ((size_t)snprintf(file, sizeof(file), "%s.%s", name, ext) >=
	    sizeof(file))
		return -1;
	fd = openat(dirfd, file, flags | O_CREAT | O_EXCL, mode);
	*made = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = openat(dirfd, file, flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		fd_close(&fd);
	return fd;
}

/* libvirt's virFileLock(fd, false, 0, 1, ...): a write lock on byte 0. */
static bool
lock_byte0(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

/* dir/NAME.pid if it is there as a regular file of ours, or -1. */
static int
open_existing(int dirfd, const char *name)
{
	char file[300];
	struct stat st;
	int fd;

	if ((size_t)snprintf(file, sizeof(file), "%s.pid", name) >=
	    sizeof(file))
		return -1;
	fd = openat(dirfd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()))
		fd_close(&fd);
	return fd;
}

/* Who holds a record lock on fd's byte 0 (libvirt's daemons do), or 0. */
static pid_t
lock_holder(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };

	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid > 0 ? fl.l_pid : 0;
}

/*
 * dir/NAME.EXT opened and locked (byte 0), or -1: someone holds it.
 * *made (if not NULL): we created the file.
 */
int
guard_take(int dirfd, const char *name, const char *ext, bool *made)
{
	bool m = false;
	int fd = open_ours(dirfd, name, ext, strcmp(ext, "pid") == 0 ?
	    0644 : 0600, &m);

	if (fd >= 0 && !lock_byte0(fd))
		fd_close(&fd);
	if (made != NULL)
		*made = fd >= 0 && m;
	return fd;
}

/* Is fd still the file dir/NAME.pid (not unlinked, not replaced)? */
static bool
still_there(int fd, int dirfd, const char *name)
{
	char file[300];
	struct stat a, b;

	snprintf(file, sizeof(file), "%s.pid", name);
	return fstat(fd, &a) == 0 && a.st_nlink > 0 &&
	    fstatat(dirfd, file, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * The pidfiles of dir i (dirfd) locked, those held kept: how many names
 * are guarded. A name whose lock a daemon holds is not (that daemon is
 * the duplicate, or one the broker adopted), and is tried again next time.
 */
size_t
guard_pidfiles(struct spawnguard *g, size_t i, int dirfd)
{
	struct guard_dir *d = &g->dirs[i];
	size_t held = 0;

	for (size_t k = 0; k < g->names.n; k++) {
		int *fd = &d->pid_fds[k];

		if (*fd >= 0 && !still_there(*fd, dirfd, g->names.v[k]))
			fd_close(fd);
		if (*fd < 0)
			*fd = guard_take(dirfd, g->names.v[k], "pid",
			    &d->pid_made[k]);
		held += *fd >= 0;
	}
	return held;
}

/*
 * Those pidfiles of dir i that exist locked, nothing created (a dir being
 * removed is not filled again); for each name whose lock another process
 * holds, its pid in holders[k] (0 if none, or not known).
 */
void
guard_recheck(struct spawnguard *g, size_t i, int dirfd, pid_t *holders)
{
	struct guard_dir *d = &g->dirs[i];

	for (size_t k = 0; k < g->names.n; k++) {
		int *fd = &d->pid_fds[k];

		holders[k] = 0;
		if (*fd >= 0 && !still_there(*fd, dirfd, g->names.v[k]))
			fd_close(fd);
		if (*fd >= 0)
			continue;
		*fd = open_existing(dirfd, g->names.v[k]);
		if (*fd >= 0 && lock_byte0(*fd)) {
			d->pid_made[k] = false;
			continue;
		}
		if (*fd >= 0)
			holders[k] = lock_holder(*fd);
		fd_close(fd);
	}
}

/*
 * The clients' spawn locks of dir i, each taken if free: a client that
 * holds one is between its connect and its spawn, which the pidfile lock
 * answers.
 */
void
guard_spawn_hold(struct spawnguard *g, size_t i, int dirfd)
{
	struct guard_dir *d = &g->dirs[i];

	for (size_t k = 0; k < g->names.n; k++) {
		if (d->lock_fds[k] < 0)
			d->lock_fds[k] = guard_take(dirfd, g->names.v[k],
			    "lock", NULL);
	}
}

/* The waiting clients go on (and find the links). */
void
guard_spawn_release(struct spawnguard *g, size_t i)
{
	close_all(g->dirs[i].lock_fds, g->names.n);
}

/*
 * At a clean stop: the pidfiles we made and hold in dir i removed (one that
 * was there before us stays), then let go.
 */
void
guard_remove(struct spawnguard *g, size_t i, int dirfd)
{
	struct guard_dir *d = &g->dirs[i];
	char file[300];

	for (size_t k = 0; k < g->names.n; k++) {
		snprintf(file, sizeof(file), "%s.pid", g->names.v[k]);
		if (d->pid_fds[k] >= 0 && d->pid_made[k] &&
		    still_there(d->pid_fds[k], dirfd, g->names.v[k]))
			(void)unlinkat(dirfd, file, 0);
	}
	guard_drop(g, i);
}

/* Dir i is gone or not ours: nothing of it is held. */
void
guard_drop(struct spawnguard *g, size_t i)
{
	close_all(g->dirs[i].pid_fds, g->names.n);
	close_all(g->dirs[i].lock_fds, g->names.n);
}

void
guard_free(struct spawnguard *g)
{
	for (size_t i = 0; i < g->ndirs; i++) {
		guard_drop(g, i);
		free(g->dirs[i].pid_fds);
		free(g->dirs[i].lock_fds);
		free(g->dirs[i].pid_made);
	}
	free(g->dirs);
	strv_free(&g->names);
	g->dirs = NULL;
	g->ndirs = 0;
}
