/* SPDX-License-Identifier: MIT */
/*
 * Edge: trusted directories (dirtrust.h).
 *
 * A directory is trusted when every component from / down to it is a
 * real directory (no symlink) owned by root or by us, and writable by
 * nobody else: no group or other write bit, unless the sticky bit is set
 * (as on /tmp), where others may add names but not rename or remove ours,
 * and the next component is ours or root's anyway. Nobody but root and
 * us can then change the chain, so it cannot turn untrusted under us;
 * only root or we can. The last answer is cached with the directory's
 * identity and kept while one lstat() still finds that directory, owned
 * and moded as before: binding 3000 sockets in R walks the path once.
 *
 * Anything unexpected (a symlink, an error, a path too long) is "not
 * trusted": sock.c then checks every bind with sock_diag, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirtrust.h"
#include "fd.h"

static struct {
	char	dir[PATH_MAX];
	dev_t	dev;
	ino_t	ino;
	uid_t	uid;
	mode_t	mode;
	bool	valid;
} cache;

/* Owned by root or us, and only the owner may change its entries. */
static bool
safe(const struct stat *st, uid_t me)
{
	if (!S_ISDIR(st->st_mode))
		return false;
	if (st->st_uid != 0 && st->st_uid != me)
		return false;
	return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    (st->st_mode & S_ISVTX) != 0;
}

/* Walks dir (absolute) component by component, never following links. */
static bool
walk(const char *dir, uid_t me, struct stat *ret_st)
{
	char buf[PATH_MAX];
	char *p, *next;
	int dfd, nfd;
	bool ok = false;

	if (dir[0] != '/' || strlen(dir) >= sizeof(buf))
		return false;
	memcpy(buf, dir, strlen(dir) + 1);
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	if (fstat(dfd, ret_st) < 0 || !safe(ret_st, me))
		goto out;
	for (p = buf + 1; *p != '\0'; p = next) {
		next = strchr(p, '/');
		if (next != NULL)
			*next++ = '\0';
		else
			next = p + strlen(p);
		if (*p == '\0')
			continue;			/* "//" */
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			goto out;
		nfd = openat(dfd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd < 0)
			goto out;
		fd_close(&dfd);
		dfd = nfd;
		if (fstat(dfd, ret_st) < 0 || !safe(ret_st, me))
			goto out;
	}
	ok = true;
out:
	fd_close(&dfd);
	return ok;
}

bool
dirtrust_parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;
	size_t len;

	if (slash == NULL || path[0] != '/')
		return false;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof(dir))
		return false;
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (cache.valid && strcmp(cache.dir, dir) == 0 &&
	    lstat(dir, &st) == 0 && st.st_dev == cache.dev &&
	    st.st_ino == cache.ino && st.st_uid == cache.uid &&
	    st.st_mode == cache.mode)
		return true;
	cache.valid = false;
	if (!walk(dir, geteuid(), &st))
		return false;
	memcpy(cache.dir, dir, len + 1);
	cache.dev = st.st_dev;
	cache.ino = st.st_ino;
	cache.uid = st.st_uid;
	cache.mode = st.st_mode;
	cache.valid = true;
	return true;
}
