/* SPDX-License-Identifier: MIT */
/*
 * Edge: the broker's pidfile, locked with flock() for as long as the broker
 * runs, like libvirt's own daemons lock R/<daemon>.pid. A second broker for
 * the same runtime dir finds the lock taken and names the holder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "inherit.h"
#include "pidfile.h"
#include "xalloc.h"

static pid_t
pidfile_read(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/*
 * Returns 0 with the lock held, -EWOULDBLOCK with *reterr_holder set to the
 * pid written by the broker that holds it (0 if unknown), or -errno.
 */
int
pidfile_acquire(const char *path, struct pidfile *ret_pf,
    pid_t *reterr_holder)
{
	char buf[32];
	int fd, r, len;

	/* A reexec keeps its lock open: the same open file, so flock()
	 * succeeds on it where a new open() of the file would conflict. */
	fd = inherit_take_file(path);
	if (fd < 0)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			*reterr_holder = pidfile_read(fd);
		fd_close(&fd);
		return r;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		r = -errno;
		fd_close(&fd);
		return r;
	}
	ret_pf->path = xstrdup(path);
	ret_pf->fd = fd;
	return 0;
}

/* Unlinks the pidfile while still holding the lock, then closes it. */
void
pidfile_release(struct pidfile *pf)
{
	if (pf->fd >= 0) {
		(void)unlink(pf->path);
		fd_close(&pf->fd);
	}
	free(pf->path);
	pf->path = NULL;
}
