/* SPDX-License-Identifier: MIT */
/*
 * Edge: fork/exec with socket activation (ARCHITECTURE.md "Spawning").
 *
 * Everything that allocates is built before fork(); the child only makes
 * async-signal-safe calls. It resets the signal mask and dispositions (libev
 * blocks and catches signals), starts a new session, sets the resource
 * limits, closes every fd it will not pass on, lifts the listening fds
 * above 3+n and then dup2()s them down to 3.. (one pass could clobber a
 * source that sits in the target range: the broker's own sockets are low
 * fds), clears O_NONBLOCK, points stdin at /dev/null and stdout/stderr at
 * the unit's log pipe, closes the rest, gives back the open file limit
 * the broker was started with (it raised its own), writes LISTEN_PID (its
 * own pid) and execs. An exec failure travels back
 * through a CLOEXEC pipe as an errno; EOF on that pipe means exec worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "listenfds.h"
#include "spawn.h"

#define SPAWN_MAX_FDS 64

/*
 * The RLIMIT_NOFILE soft limit the broker was started with, before it
 * raised its own: daemons without limit_nofile get this one back, as if
 * started without the broker. Written once at start-up.
 */
static bool	inherited_nofile_set;
static rlim_t	inherited_nofile;

void
spawn_set_inherited_nofile(rlim_t soft)
{
	inherited_nofile = soft;
	inherited_nofile_set = true;
}

/* Closes fds in [lo, hi]; close_range(2), else one by one. */
static void
close_fds(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	if (hi > 65535)
		hi = 65535;
	for (unsigned fd = lo; fd <= hi; fd++)
		(void)close((int)fd);
}

/*
 * Closes every fd >= 3 but those in keep[0..n-1] (sorted ascending), so
 * that the moves below find free slots even when the broker ran close to
 * its fd limit.
 */
static void
close_all_but(const int *keep, size_t n)
{
	unsigned lo = 3;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > lo)
			close_fds(lo, (unsigned)keep[i] - 1);
		lo = (unsigned)keep[i] + 1;
	}
	close_fds(lo, ~0U);
}

static void
sort_fds(int *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static noreturn void
spawn_child(const struct spawn_req *req, int status_fd, int *keep,
    size_t nkeep, const struct rlimit *restore_nofile)
{
	struct sigaction sa;
	sigset_t none;
	int tmp[SPAWN_MAX_FDS], top = LFD_START + (int)req->nfds, e, flags;
	int out_fd = req->out_fd, null_fd = req->null_fd, fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);	/* SIG_IGN survives exec */
	if (setsid() < 0)
		goto fail;
	if (req->set_nofile && setrlimit(RLIMIT_NOFILE, &req->nofile) < 0)
		goto fail;
	if (req->set_memlock && setrlimit(RLIMIT_MEMLOCK, &req->memlock) < 0)
		goto fail;
	close_all_but(keep, nkeep);
	/* Out of the way of 3..top-1 first: the status pipe, /dev/null. */
	if ((fd = fcntl(status_fd, F_DUPFD_CLOEXEC, top)) < 0)
		goto fail;		/* status_fd stays, for the errno */
	status_fd = fd;
	if ((null_fd = fcntl(null_fd, F_DUPFD_CLOEXEC, top)) < 0 ||
	    (out_fd >= 0 && (out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, top)) < 0))
		goto fail;
	for (size_t i = 0; i < req->nfds; i++)		/* 1: lift */
		if ((tmp[i] = fcntl(req->fds[i], F_DUPFD_CLOEXEC, top)) < 0)
			goto fail;
	for (size_t i = 0; i < req->nfds; i++) {	/* 2: place */
		fd = LFD_START + (int)i;
		if (dup2(tmp[i], fd) < 0)		/* clears FD_CLOEXEC */
			goto fail;
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
			goto fail;
	}
	if (dup2(null_fd, STDIN_FILENO) < 0)
		goto fail;
	if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0))
		goto fail;
	/* Everything else goes, but the status pipe until exec. */
	close_fds((unsigned)top, (unsigned)status_fd - 1);
	close_fds((unsigned)status_fd + 1, ~0U);
	/* Last: a lower limit must not get in the way of the fd moves. */
	if (restore_nofile != NULL &&
	    setrlimit(RLIMIT_NOFILE, restore_nofile) < 0)
		goto fail;
	lfd_format_pid(req->pid_slot, (long)getpid());
	execve(req->argv[0], req->argv, req->envp);
fail:
	e = errno;
	(void)!write(status_fd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);
}

/*
 * Forks the daemon. Returns 0 with its pid and the read end of the
 * exec-status pipe (CLOEXEC), or -errno if it could not fork.
 */
int
spawn_daemon(const struct spawn_req *req, pid_t *ret_pid, int *ret_status_fd)
{
	int pfd[2] = { -1, -1 }, keep[SPAWN_MAX_FDS + 3];
	struct rlimit nofile;
	bool restore = false;
	size_t nkeep = 0;
	pid_t pid;
	int r;

	if (req->nfds > SPAWN_MAX_FDS)
		return -E2BIG;
	if (!req->set_nofile && inherited_nofile_set &&
	    getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur != inherited_nofile) {
		nofile.rlim_cur = inherited_nofile;
		if (nofile.rlim_max != RLIM_INFINITY &&
		    nofile.rlim_cur > nofile.rlim_max)
			nofile.rlim_cur = nofile.rlim_max;
		restore = true;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	for (size_t i = 0; i < req->nfds; i++)
		keep[nkeep++] = req->fds[i];
	keep[nkeep++] = pfd[1];
	keep[nkeep++] = req->null_fd;
	if (req->out_fd >= 0)
		keep[nkeep++] = req->out_fd;
	sort_fds(keep, nkeep);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		fd_close(&pfd[0]);
		fd_close(&pfd[1]);
		return r;
	}
	if (pid == 0)
		spawn_child(req, pfd[1], keep, nkeep,
		    restore ? &nofile : NULL);
	fd_close(&pfd[1]);
	*ret_pid = pid;
	*ret_status_fd = pfd[0];
	return 0;
}

/*
 * Reads the exec-status pipe: 1 with *ret_errno set if exec failed, 0 on
 * EOF (exec succeeded), -EAGAIN if nothing is there yet, -errno on error.
 */
int
spawn_read_status(int status_fd, int *ret_errno)
{
	int e;
	ssize_t n;

	do
		n = read(status_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(e))
		return -EIO;
	*ret_errno = e;
	return 1;
}
