/* SPDX-License-Identifier: MIT */
/* Edge: what virt-brokerctl trusts of the broker it talks to (trust.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "trust.h"

struct trust_peer trust_broker;

static int
peer_of(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	*uid = cr.uid;
	*pid = cr.pid;
	return 0;
}

/* fd is connected to the control socket: who is the broker? 0 or -errno. */
int
trust_note_broker(int fd)
{
	int r = peer_of(fd, &trust_broker.uid, &trust_broker.pid);

	if (r < 0)
		return r;
	trust_broker.known = true;
	trust_broker.foreign = geteuid() != trust_broker.uid;
	return 0;
}

/* The catalog's and a config section's names: [A-Za-z0-9._@+-], 1-64. */
bool
trust_unit_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._@+-", *p) != NULL))
			return false;
	return true;
}

/*
 * May the admin socket at path be connected to? Its listener must be the
 * broker (which bound it) or the unit's daemon, of the owner's uid; a link
 * in R is never followed. false with why said.
 */
bool
trust_admin_socket(const char *path, pid_t daemon, char *why, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	uid_t uid = 0;
	pid_t pid = 0;
	int fd;

	if (!trust_broker.known) {
		snprintf(why, size, "the broker's peer is unknown");
		return false;
	}
	if (lstat(path, &st) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, size, "%s is %s", path, S_ISLNK(st.st_mode) ?
		    "a symlink" : "not a socket");
		return false;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, size, "%s: path too long", path);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    peer_of(fd, &uid, &pid) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	if (uid != trust_broker.uid || (pid != trust_broker.pid &&
	    pid != daemon)) {
		snprintf(why, size, "%s is served by pid %ld of uid %ld, not "
		    "by the broker (pid %ld) or its daemon (pid %ld) of uid %ld",
		    path, (long)pid, (long)uid, (long)trust_broker.pid,
		    (long)daemon, (long)trust_broker.uid);
		return false;
	}
	return true;
}

/*
 * path opened for reading, without following a link, as a regular file
 * of the broker's owner if the caller is foreign: an fd, or -errno.
 */
int
trust_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (trust_broker.foreign && st.st_uid != trust_broker.uid)) {
		close(fd);
		return -EPERM;
	}
	(void)fcntl(fd, F_SETFL, 0);
	return fd;
}
