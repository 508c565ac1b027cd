/* SPDX-License-Identifier: MIT */
/*
 * Edge: readiness for init systems, and the fds the broker starts with.
 *
 * daemon_open_stdio() runs first in main(): fds 0-2 are always open; then
 * daemon_check_ready_fd() refuses a --ready-fd that was not open at start.
 *
 * daemonize() forks; the parent waits on a pipe and exits 0 only when the
 * child writes its ready newline (every socket bound), so sysvinit's and
 * OpenRC's start-stop-daemon return when clients can connect; if the child
 * dies first, the parent exits with its status, and the child's errors
 * have reached the terminal (stderr is kept until daemonize_detach()).
 * NOTIFY_SOCKET is the sd_notify(3) protocol (s6's and others' too).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemonize.h"
#include "fd.h"
#include "log.h"

/*
 * First thing in main(), before anything opens a file: a closed fd 0, 1 or
 * 2 gets /dev/null, as daemons conventionally do, or the broker's first
 * files would land there (libev aborts on that; a daemon's output would go
 * into the lock or a socket). Not CLOEXEC: stdio. Returns the fds it
 * opened, bit n for fd n.
 */
unsigned
daemon_open_stdio(void)
{
	unsigned opened = 0;
	int fd, nul;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nul = open("/dev/null", O_RDWR);	/* the lowest free: fd */
		if (nul < 0)
			fatal("open /dev/null");
		if (nul != fd) {
			if (dup2(nul, fd) < 0)
				fatal("dup2 /dev/null");
			fd_close(&nul);
		}
		opened |= 1U << fd;
	}
	return opened;
}

static const char *
file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "an unknown kind of file";
}

/*
 * --ready-fd N: N must be open when the broker starts (opened: what
 * daemon_open_stdio() put on 0-2 does not count) and be a pipe, socket or
 * character device; otherwise fatal, naming N. Returns the fd to write the
 * ready newline to, CLOEXEC: N, or for N in 0-2 a copy above 2, so that
 * closing it after the newline frees no stdio number for a later file.
 */
int
daemon_check_ready_fd(int fd, unsigned opened)
{
	struct stat st;
	int copy, r;

	if (fd <= STDERR_FILENO && (opened & (1U << fd)) != 0) {
		errno = EBADF;
		fatal("--ready-fd %d", fd);
	}
	if (fcntl(fd, F_GETFD) < 0 || fstat(fd, &st) < 0)
		fatal("--ready-fd %d", fd);
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) &&
	    !S_ISCHR(st.st_mode))
		fatalx("--ready-fd %d is %s, not a pipe, socket or character "
		    "device", fd, file_type_name(st.st_mode));
	if (fd > STDERR_FILENO) {
		if ((r = fd_set_cloexec(fd, true)) < 0) {
			errno = -r;
			fatal("--ready-fd %d", fd);
		}
		return fd;
	}
	copy = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (copy < 0)
		fatal("--ready-fd %d", fd);
	return copy;
}

/*
 * Returns, in the child, the write end of the ready pipe (to be given to
 * the ready notification); never returns in the parent.
 */
int
daemonize(void)
{
	int p[2], st;
	pid_t pid;
	char c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		fatal("daemonize: pipe");
	pid = fork();
	if (pid < 0)
		fatal("daemonize: fork");
	if (pid > 0) {
		fd_close(&p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);		/* ready */
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
			_exit(WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
		_exit(1);
	}
	fd_close(&p[0]);
	if (setsid() < 0)
		fatal("daemonize: setsid");
	return p[1];
}

/* After the ready newline: no terminal any more. */
void
daemonize_detach(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		fd_close(&fd);
}

/* --pidfile: the pid, for start-stop-daemon; not a lock (that is R's). */
int
daemon_pidfile_write(const char *path)
{
	char buf[32];
	int fd, len, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len)
		r = -EIO;
	fd_close(&fd);
	return r;
}

/*
 * Removes the pidfile if it still says exactly what daemon_pidfile_write()
 * wrote: someone else's pid (a broker started since) or anything else is
 * left alone.
 */
void
daemon_pidfile_remove(const char *path)
{
	char buf[32] = "", want[32];
	FILE *fp = fopen(path, "re");
	size_t n;

	if (fp == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	if (strcmp(buf, want) == 0)
		(void)unlink(path);
	fclose(fp);
}

/*
 * READY=1 to $NOTIFY_SOCKET (a path, or @abstract), then unset it, as
 * sd_notify(3) with unset_environment does.
 */
void
notify_socket_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	socklen_t len;
	int fd;

	if (path == NULL || path[0] == '\0')
		return;
	if (strlen(path) >= sizeof(sa.sun_path) ||
	    (path[0] != '/' && path[0] != '@')) {
		log_warnx("NOTIFY_SOCKET '%s' is not a usable socket path", path);
		goto out;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len) < 0)
		log_warn("NOTIFY_SOCKET %s", path);
	fd_close(&fd);
out:
	unsetenv("NOTIFY_SOCKET");
}
