/* SPDX-License-Identifier: MIT */
/*
 * Edge: clone/exec with socket activation (README "Architecture").
 *
 * Everything that allocates is built before the child starts; the child
 * only makes async-signal-safe calls. It resets the signal dispositions
 * (libev catches signals), starts a new session, sets the resource
 * limits, closes every fd it will not pass on, lifts the listening fds
 * above 3+n and then dup2()s them down to 3.. (one pass could clobber a
 * source that sits in the target range: the broker's own sockets are low
 * fds), clears O_NONBLOCK, points stdin at /dev/null and stdout/stderr at
 * the unit's log pipe, closes the rest, gives back the open file limit
 * the broker was started with (it raised its own), writes LISTEN_PID (its
 * own pid), unblocks every signal and execs. An exec failure travels back
 * through a CLOEXEC pipe as an errno; EOF on that pipe means exec worked.
 *
 * The child comes from clone(CLONE_VM | CLONE_VFORK) on a small stack of
 * its own, not from fork(): fork() copies the page tables of the whole
 * broker and leaves every page copy-on-write behind it, so with 1000
 * units (13 MiB, 3000 fds) each activation took 2.4 times as long as with
 * 10. CLONE_VM shares the memory instead, and CLONE_VFORK suspends the
 * broker until the child has exec'd or exited. The price is that until
 * execve the child runs in the broker's memory: spawn_child() says what
 * that forbids.
 *
 * The fd table: a plain clone copies all of it and the child then closes
 * all but a few, each close a file put: with 3000 sockets that was most of
 * an activation. So the broker keeps a few low fd slots (spawn_reserve_low
 * at start-up), copies what the daemon gets into them, and clones with
 * CLONE_FILES too; the child's first act, close_range(low end, ~0,
 * CLOSE_RANGE_UNSHARE), gives it a table of its own made of the slots
 * below the low end only. Where that is not possible (no slots, a unit of
 * many sockets, valgrind, which refuses CLONE_FILES with CLONE_VM) the
 * child gets a copy of the whole table, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_VALGRIND_H		/* CMake: check_include_file */
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

#include "fd.h"
#include "listenfds.h"
#include "nosan.h"
#include "spawn.h"

#define SPAWN_MAX_FDS 64
#define SPAWN_STACK_SIZE (64 * 1024)	/* the child uses a few KiB */

/* What the child reads: all of it made, and owned, by spawn_daemon(). */
struct spawn_args {
	const struct spawn_req	*req;
	int			 status_fd;	/* write end, CLOEXEC */
	const int		*keep;		/* sorted ascending */
	size_t			 nkeep;
	const struct rlimit	*restore_nofile; /* NULL: leave it */
	sigset_t		 all;		/* to block */
	sigset_t		 none;		/* the daemon's mask */
	int			 unshare_from;	/* > 0: fd table shared (above) */
};

/*
 * Low fd slots (spawn_reserve_low), each a /dev/null until a spawn puts
 * a daemon's fd there for the time of the clone; every fd below low_end
 * is copied into the child's own table.
 */
#define SPAWN_LOW 16
static int	low[SPAWN_LOW];
static size_t	nlow;
static int	low_end;
static int	low_null = -1;
static bool	last_shared;	/* the last spawn shared the fd table */

/*
 * The RLIMIT_NOFILE soft limit the broker was started with, before it
 * raised its own: daemons without limit_nofile get this one back, as if
 * started without the broker. Written once at start-up.
 */
static bool	inherited_nofile_set;
static rlim_t	inherited_nofile;

/*
 * Top of the child's stack, below it SPAWN_STACK_SIZE bytes and a guard
 * page. Mapped at the first spawn and kept: CLONE_VFORK hands it back only
 * once the child has exec'd or exited, so one is enough.
 */
static char	*child_stack_top;

/*
 * Takes the lowest free fd slots, at start-up, before the sockets are
 * bound. Only where the open file limit leaves room for it: a broker short
 * of fds needs them for sockets more than for fast spawns.
 */
void
spawn_reserve_low(void)
{
	struct rlimit rl;

	if (low_null >= 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    rl.rlim_max < 1024 || RUNNING_ON_VALGRIND)
		return;
	low_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (low_null < 0)
		return;
	low_end = low_null + 1;
	for (nlow = 0; nlow < SPAWN_LOW; nlow++) {
		int fd = fcntl(low_null, F_DUPFD_CLOEXEC, 3);

		if (fd < 0)
			break;
		low[nlow] = fd;
		if (fd + 1 > low_end)
			low_end = fd + 1;
	}
}

/* For the tests: did the last spawn clone with CLONE_FILES? */
bool
spawn_last_was_shared(void)
{
	return last_shared;
}

void
spawn_set_inherited_nofile(rlim_t soft)
{
	inherited_nofile = soft;
	inherited_nofile_set = true;
}

/* Closes fds in [lo, hi]; close_range(2), else one by one. */
static NOSAN void
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
static NOSAN void
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

/* The child's end: errno e to the broker (EOF means exec worked). */
static NOSAN noreturn void
child_fail(int status_fd, int e)
{
	(void)!write(status_fd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);		/* tini's exit codes */
}

/*
 * Runs in the child. Until execve it shares the broker's memory (CLONE_VM)
 * while the broker waits (CLONE_VFORK), on a stack of its own
 * (child_stack()); so:
 * - It writes only that stack, the pid slot, and errno, which is the
 *   broker's (same thread pointer, same TLS: spawn_daemon() puts it back).
 *   It calls nothing that allocates, takes a lock or touches stdio: a
 *   malloc or stdio lock taken here would be the broker's.
 * - It starts with every signal blocked (spawn_daemon() blocked them all
 *   for the clone), so no handler of the broker's can run here: libev's
 *   would write the broker's pending flags and wake its loop. Every
 *   disposition goes back to SIG_DFL first (the child has its own copy of
 *   the table: clone without CLONE_SIGHAND copies it; SIG_IGN would survive
 *   execve, so the ignored ones too), and the empty mask the daemon gets is
 *   set last, just before execve.
 * - It never returns: the frame it would return to is the broker's. Any
 *   failure writes errno to the status pipe and _exit()s.
 * - ASan does not know this stack: NOSAN leaves this, its helpers above
 *   and lfd_format_pid() uninstrumented; the libc calls are plain
 *   syscalls or ASan's interceptors, which only read shadow memory.
 * The fork() fallback runs it too, where the same care costs nothing.
 */
static NOSAN noreturn void
spawn_child(const struct spawn_args *a)
{
	const struct spawn_req *req = a->req;
	struct sigaction sa;
	sigset_t pending;
	int tmp[SPAWN_MAX_FDS], top = LFD_START + (int)req->nfds, e, flags;
	int status_fd = a->status_fd, out_fd = req->out_fd;
	int null_fd = req->null_fd, fd;

	/*
	 * Sharing the broker's fd table (CLONE_FILES): a table of our own
	 * before anything else, of the fds below unshare_from only (the
	 * broker waits, so the table holds still). An older kernel without
	 * CLOSE_RANGE_UNSHARE copies it all.
	 */
	if (a->unshare_from > 0 &&
	    syscall(SYS_close_range, (unsigned)a->unshare_from, ~0U,
	    CLOSE_RANGE_UNSHARE) < 0 && unshare(CLONE_FILES) < 0)
		child_fail(status_fd, errno);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	if (setsid() < 0)
		goto fail;
	/*
	 * What is pending came for the broker's process group before setsid
	 * (a terminal's SIGINT, a kill -HUP -PGID): not for the daemon, which
	 * starts in a session of its own, and fatal once unblocked with
	 * SIG_DFL. Ignoring a pending signal discards it (POSIX sigaction).
	 */
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < NSIG; sig++) {
			if (sigismember(&pending, sig) != 1)
				continue;
			sa.sa_handler = SIG_IGN;
			(void)sigaction(sig, &sa, NULL);
			sa.sa_handler = SIG_DFL;
			(void)sigaction(sig, &sa, NULL);
		}
	if (req->set_nofile && setrlimit(RLIMIT_NOFILE, &req->nofile) < 0)
		goto fail;
	if (req->set_memlock && setrlimit(RLIMIT_MEMLOCK, &req->memlock) < 0)
		goto fail;
	close_all_but(a->keep, a->nkeep);
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
	if (a->restore_nofile != NULL &&
	    setrlimit(RLIMIT_NOFILE, a->restore_nofile) < 0)
		goto fail;
	/*
	 * Root's last act: the user's groups and ids, by raw system calls,
	 * which change this task alone (glibc's wrappers would signal the
	 * broker's threads, with which a vfork child shares memory). Then
	 * the home, entered as the user.
	 */
	if (req->creds != NULL) {
		const struct spawn_creds *c = req->creds;

		if (syscall(SYS_setgroups, c->ngroups, c->groups) < 0 ||
		    syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0 ||
		    syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
			goto fail;
		if (getuid() != c->uid || geteuid() != c->uid ||
		    getegid() != c->gid) {
			errno = EPERM;
			goto fail;
		}
		if (c->dir == NULL || chdir(c->dir) < 0)
			(void)!chdir("/");
	}
	if (req->pid_slot != NULL)
		lfd_format_pid(req->pid_slot, (long)getpid());
	(void)sigprocmask(SIG_SETMASK, &a->none, NULL);
	execve(req->argv[0], req->argv, req->envp);
	e = errno;
	/* Unblocked and SIG_DFL, a signal could end us before the errno. */
	(void)sigprocmask(SIG_SETMASK, &a->all, NULL);
	child_fail(status_fd, e);
fail:
	child_fail(status_fd, errno);
}

/* clone()'s entry point: spawn_child() on the child's stack. */
static NOSAN int
spawn_child_clone(void *arg)
{
	spawn_child(arg);
}

/* The top of the child's stack, mapped once; NULL if it cannot be. */
static char *
child_stack(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	if (child_stack_top != NULL)
		return child_stack_top;
	if (page <= 0)
		page = 4096;
	p = mmap(NULL, SPAWN_STACK_SIZE + (size_t)page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, (size_t)page, PROT_NONE) < 0) {	/* the guard */
		(void)munmap(p, SPAWN_STACK_SIZE + (size_t)page);
		return NULL;
	}
	child_stack_top = p + page + SPAWN_STACK_SIZE;	/* grows down */
	return child_stack_top;
}

/*
 * Starts spawn_child(a) with every signal blocked (see there), and returns
 * the child's pid, or -1 with errno.
 */
static pid_t
spawn_start(struct spawn_args *a)
{
	char *stack = child_stack();
	pid_t pid;

	if (stack != NULL && a->unshare_from > 0) {
		pid = clone(spawn_child_clone, stack,
		    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, (void *)a);
		if (pid >= 0 || (errno != ENOSYS && errno != EINVAL))
			return pid;
	}
	a->unshare_from = 0;	/* whatever comes next copies the table */
	if (stack != NULL) {
		pid = clone(spawn_child_clone, stack,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)a);
		if (pid >= 0 || (errno != ENOSYS && errno != EINVAL))
			return pid;
	}
	/*
	 * fork(), slower but with the same result, if the stack could not be
	 * mapped or clone refused these flags: a seccomp filter may answer
	 * ENOSYS, an emulator (qemu-user) EINVAL for CLONE_VM without
	 * CLONE_THREAD. Valgrind runs the clone as a fork by itself.
	 */
	pid = fork();
	if (pid == 0)
		spawn_child(a);
	return pid;
}

/*
 * Starts the daemon. Returns 0 with its pid and the read end of the
 * exec-status pipe (CLOEXEC), or -errno if it could not start a process.
 * With CLONE_VFORK the child has exec'd or failed by the time this
 * returns, but the status is left to spawn_read_status() as with fork().
 */
/*
 * Copies req's fds into the low slots (low[0..]): 0 with *lreq the same
 * request naming them, or -1 if they do not fit (the caller then spawns
 * with req as it is). *nused: slots to give back (low_restore).
 */
static int
low_place(const struct spawn_req *req, int status_fd, struct spawn_req *lreq,
    int *lfds, int *ret_status_fd, size_t *nused)
{
	*nused = 0;
	if (nlow < req->nfds + 2 + (req->out_fd >= 0))
		return -1;
	*lreq = *req;
	for (size_t i = 0; i < req->nfds; i++) {
		if (dup3(req->fds[i], low[*nused], O_CLOEXEC) < 0)
			return -1;	/* the caller gives back *nused */
		lfds[i] = low[(*nused)++];
	}
	lreq->fds = lfds;
	if (dup3(status_fd, low[*nused], O_CLOEXEC) < 0)
		return -1;
	*ret_status_fd = low[(*nused)++];
	if (dup3(req->null_fd, low[*nused], O_CLOEXEC) < 0)
		return -1;
	lreq->null_fd = low[(*nused)++];
	if (req->out_fd >= 0) {
		if (dup3(req->out_fd, low[*nused], O_CLOEXEC) < 0)
			return -1;
		lreq->out_fd = low[(*nused)++];
	}
	return 0;
}

/* The low slots back to /dev/null: the broker keeps no copy of a fd. */
static void
low_restore(size_t nused)
{
	for (size_t i = 0; i < nused; i++)
		(void)dup3(low_null, low[i], O_CLOEXEC);
}

int
spawn_daemon(const struct spawn_req *req, pid_t *ret_pid, int *ret_status_fd)
{
	int pfd[2] = { -1, -1 }, keep[SPAWN_MAX_FDS + 3];
	int lfds[SPAWN_MAX_FDS], status_fd;
	struct spawn_args a = { .req = req };
	struct spawn_req lreq;
	struct rlimit nofile;
	sigset_t saved;
	size_t nkeep = 0, nused = 0;
	pid_t pid;
	int r, saved_errno;

	if (req->nfds > SPAWN_MAX_FDS)
		return -E2BIG;
	if (!req->set_nofile && inherited_nofile_set &&
	    getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur != inherited_nofile) {
		nofile.rlim_cur = inherited_nofile;
		if (nofile.rlim_max != RLIM_INFINITY &&
		    nofile.rlim_cur > nofile.rlim_max)
			nofile.rlim_cur = nofile.rlim_max;
		a.restore_nofile = &nofile;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	status_fd = pfd[1];
	if (low_place(req, pfd[1], &lreq, lfds, &status_fd, &nused) == 0) {
		a.req = req = &lreq;
		a.unshare_from = low_end;
	} else {
		low_restore(nused);
		nused = 0;
		status_fd = pfd[1];
	}
	for (size_t i = 0; i < req->nfds; i++)
		keep[nkeep++] = req->fds[i];
	keep[nkeep++] = status_fd;
	keep[nkeep++] = req->null_fd;
	if (req->out_fd >= 0)
		keep[nkeep++] = req->out_fd;
	sort_fds(keep, nkeep);
	a.status_fd = status_fd;
	a.keep = keep;
	a.nkeep = nkeep;
	sigfillset(&a.all);
	sigemptyset(&a.none);
	/*
	 * Every signal blocked across the clone, so that the child starts
	 * with them blocked (glibc keeps its two internal ones, which only
	 * its own threads send each other). A signal for the broker waits
	 * here, pending, until the mask comes back.
	 */
	(void)sigprocmask(SIG_SETMASK, &a.all, &saved);
	saved_errno = errno;
	pid = spawn_start(&a);
	r = pid < 0 ? -errno : 0;	/* then there was no child */
	last_shared = pid > 0 && a.unshare_from > 0;
	errno = saved_errno;		/* else the child's last errno */
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
	low_restore(nused);
	fd_close(&pfd[1]);
	if (r < 0) {
		fd_close(&pfd[0]);
		return r;
	}
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
