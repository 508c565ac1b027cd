/* SPDX-License-Identifier: MIT */
/*
 * Edge: see bootmark.h. Every path is opened relative to R's fd, without
 * following symlinks: the broker only removes regular files named
 * "autostarted" one or two directories below R (R/qemu/run, R/network/lib,
 * R/storage/run in libvirt 9 to 11).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootmark.h"
#include "fd.h"
#include "log.h"

#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"
#define BOOT_ID_MAX	64

/* Reads at most size-1 bytes of a small file, newline stripped; -errno. */
static int
read_small(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	fd_close(&fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int
write_record(int rfd, const char *boot_id)
{
	static const char tmp[] = BOOTMARK_FILE ".new";
	int fd, r = 0;
	size_t len = strlen(boot_id);

	(void)unlinkat(rfd, tmp, 0);
	fd = openat(rfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, boot_id, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		r = errno != 0 ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(rfd, tmp, rfd, BOOTMARK_FILE) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(rfd, tmp, 0);
	return r;
}

/* Removes dirfd/autostarted if it is a regular file; 1 if removed. */
static int
remove_marker(int dirfd, const char *where)
{
	struct stat st;

	if (fstatat(dirfd, BOOTMARK_MARKER, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	if (unlinkat(dirfd, BOOTMARK_MARKER, 0) < 0) {
		log_warn("new boot: remove %s/" BOOTMARK_MARKER, where);
		return 0;
	}
	log_info("new boot: removed %s/" BOOTMARK_MARKER " so that libvirt "
	    "autostarts again", where);
	return 1;
}

/* The markers in dirfd's subdirectories, depth levels down. */
static int
remove_markers_below(int dirfd, const char *where, int depth)
{
	DIR *d;
	struct dirent *e;
	int n = 0;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[4200];
		int sfd;

		if (e->d_name[0] == '.' || (e->d_type != DT_DIR &&
		    e->d_type != DT_UNKNOWN))
			continue;
		sfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", where, e->d_name);
		n += remove_marker(sfd, sub);
		if (depth > 1)
			n += remove_markers_below(sfd, sub, depth - 1);
		close(sfd);
	}
	closedir(d);
	return n;
}

void
bootmark_check(const char *runtime_dir, bool same_boot)
{
	char now[BOOT_ID_MAX], then[BOOT_ID_MAX] = "";
	int rfd, r;

	r = read_small(AT_FDCWD, BOOT_ID_PATH, now, sizeof(now));
	if (r < 0 || now[0] == '\0') {
		log_warnx("%s: %s; autostart markers in %s are left alone",
		    BOOT_ID_PATH, r < 0 ? strerror(-r) : "empty", runtime_dir);
		return;
	}
	rfd = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (rfd < 0) {
		log_warn("%s", runtime_dir);
		return;
	}
	(void)read_small(rfd, BOOTMARK_FILE, then, sizeof(then));
	if (strcmp(now, then) != 0) {
		if (same_boot)
			log_info("%s: a daemon of this boot runs; autostart "
			    "markers kept", runtime_dir);
		else
			(void)remove_markers_below(rfd, runtime_dir, 2);
		r = write_record(rfd, now);
		if (r < 0)
			log_warnx("%s/%s: %s", runtime_dir, BOOTMARK_FILE,
			    strerror(-r));
	}
	close(rfd);
}
