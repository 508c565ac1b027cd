/* SPDX-License-Identifier: MIT */
/*
 * Edge: the fd holder (see holder.h). After fork the child runs only
 * holder_main(): system calls on what the parent prepared (the sorted fd
 * list, the socket path and identity), no allocation, no stdio, no libev.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "fd.h"
#include "holder.h"
#include "inherit.h"
#include "log.h"
#include "plan.h"
#include "xalloc.h"

#define HOLDER_MAGIC	"virt-broker-holder 1"
#define HOLDER_BATCH	250		/* fds per message (SCM_MAX_FD 253) */

static char	*argv_start;		/* the process's argument strings */
static size_t	 argv_len;

/* Where main's argv lives: the holder writes its own name there. */
void
holder_set_argv(int argc, char **argv)
{
	char *lo = NULL, *hi = NULL;

	for (int i = 0; i < argc; i++) {	/* the strings, contiguous */
		char *end = argv[i] + strlen(argv[i]) + 1;

		if (lo == NULL || argv[i] < lo)
			lo = argv[i];
		if (hi == NULL || end > hi)
			hi = end;
	}
	argv_start = lo;
	argv_len = lo != NULL ? (size_t)(hi - lo) : 0;
}

/* The holder's command line, as ps and pgrep -f see it. */
static void
set_cmdline(void)
{
	static const char name[] = "virt-broker-holder";

	if (argv_start == NULL || argv_len < sizeof(name))
		return;
	memset(argv_start, 0, argv_len);
	memcpy(argv_start, name, sizeof(name));
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A sorted copy of fds, less the -1s. */
static void
sorted_fds(const int *fds, size_t nfds, int **ret, size_t *ret_n)
{
	size_t n = 0;
	int *v = xcalloc(nfds + 1, sizeof(*v));

	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			v[n++] = fds[i];
	qsort(v, n, sizeof(*v), cmp_int);
	*ret = v;
	*ret_n = n;
}

/* What each fd is (an fd number may come back as another file). */
static struct holder_id *
ids_of(const int *fds, size_t n)
{
	struct holder_id *ids = xcalloc(n + 1, sizeof(*ids));
	struct stat st;

	for (size_t i = 0; i < n; i++)
		if (fstat(fds[i], &st) == 0) {
			ids[i].dev = st.st_dev;
			ids[i].ino = st.st_ino;
		}
	return ids;
}

/* Closes every fd from 3 up that is not in keep (sorted). */
static void
close_others(const int *keep, size_t n)
{
	int from = 3;

	for (size_t i = 0; i <= n; i++) {
		int to = i < n ? keep[i] - 1 : INT32_MAX;

		if (to >= from && syscall(SYS_close_range, (unsigned)from,
		    (unsigned)to, 0) < 0)
			for (int fd = from; fd <= to && fd < 65536; fd++)
				(void)close(fd);
		if (i < n)
			from = keep[i] + 1;
	}
}

/* Sends every held fd to c, HOLDER_BATCH at a time. 0, or -1. */
static int
hand_over(int c, const int *fds, size_t n)
{
	union {
		char buf[CMSG_SPACE(HOLDER_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;

	for (size_t at = 0; at < n || at == 0; at += HOLDER_BATCH) {
		size_t k = n - at < HOLDER_BATCH ? n - at : HOLDER_BATCH;
		struct iovec iov = { .iov_base = (void *)HOLDER_MAGIC,
		    .iov_len = sizeof(HOLDER_MAGIC) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *cm;

		if (k > 0) {
			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(k * sizeof(int));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(k * sizeof(int));
			memcpy(CMSG_DATA(cm), fds + at, k * sizeof(int));
		}
		if (sendmsg(c, &mh, MSG_NOSIGNAL) < 0)
			return -1;
		if (n == 0)
			break;
	}
	return 0;
}

/* Our socket file, if the path still is it. */
static void
unlink_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		(void)unlink(path);
}

/* Hands everything to c and lets go of it: true if c has it all. */
static bool
handed(int c, const int *fds, size_t n)
{
	if (hand_over(c, fds, n) < 0)
		return false;
	/* Ours closed before the EOF the next broker waits for: then only
	 * it (or a daemon) holds them. */
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	return true;
}

/*
 * A connection of our uid before the broker's EOF is kept, not refused:
 * a dying broker's files close one by one, R's lock among them, so the
 * next broker may connect before the pipe says the broker died. It gets
 * the sockets at the EOF; a byte on the pipe (the broker stops, or a new
 * holder comes) ends it.
 */
static _Noreturn void
holder_main(int rd, int lfd, const char *path, const char *tmp, dev_t dev,
    ino_t ino, const int *fds, size_t n, unsigned timeout_s)
{
	struct pollfd p[2] = { { .fd = rd, .events = POLLIN },
	    { .fd = lfd, .events = POLLIN } };
	long deadline = -1;
	int pending = -1;		/* a next broker, early */
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int s = 1; s < 32; s++)
		if (s != SIGPIPE && s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	(void)prctl(PR_SET_NAME, "vb-holder");
	set_cmdline();
	for (;;) {
		long now = (long)clock_mono_ms();
		int wait = deadline < 0 ? -1 : (int)(deadline - now);
		char byte;
		ssize_t r;

		if (deadline >= 0 && wait <= 0)
			break;			/* no broker came back */
		if (poll(p, 2, wait) < 0)
			continue;
		if (p[0].revents != 0) {
			r = read(rd, &byte, 1);
			if (r == 1)
				break;		/* the broker goes: so do we */
			if (r == 0) {		/* the broker died */
				deadline = (long)clock_mono_ms() +
				    (long)timeout_s * 1000;
				p[0].fd = -1;
				if (pending >= 0 && handed(pending, fds, n))
					break;	/* the next broker has them */
				if (pending >= 0)
					(void)close(pending);
				pending = -1;
			}
		}
		if (p[1].revents & POLLIN) {
			struct ucred cr;
			socklen_t len = sizeof(cr);
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr,
			    &len) < 0 || cr.uid != geteuid()) {
				(void)close(c);
				continue;
			}
			if (deadline < 0) {	/* the broker lives, yet */
				if (pending >= 0)
					(void)close(pending);
				pending = c;
				continue;
			}
			if (handed(c, fds, n)) {
				(void)close(c);
				break;		/* the next broker has them */
			}
			(void)close(c);
		}
	}
	if (pending >= 0)
		(void)close(pending);
	unlink_ours(path, dev, ino);
	unlink_ours(tmp, dev, ino);	/* the broker died before its rename */
	_exit(0);
}

/*
 * A new holder, bound at PATH.new and then renamed over PATH: whenever the
 * broker dies, PATH leads to a holder that has every socket (the one
 * before this, until the rename; this one after). The caller then stops
 * the one before (holder_refresh).
 */
static void
holder_start(struct holder *h, const struct plan *plan, const int *fds,
    size_t nfds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = plan->holder_socket;
	struct stat st;
	int p[2], lfd, *keep;
	char *tmp = xasprintf("%s.new", path);
	mode_t old;
	pid_t pid;

	memset(h, 0, sizeof(*h));
	h->pipe_wr = -1;
	h->lent_wr = -1;
	if (plan->holder_timeout == 0 || strlen(tmp) >= sizeof(sa.sun_path)) {
		free(tmp);
		return;
	}
	sorted_fds(fds, nfds, &h->fds, &h->nfds);
	h->ids = ids_of(h->fds, h->nfds);
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	/* We hold R's lock: a socket here is a broker's that died here. */
	if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(tmp);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	old = umask(0177);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0 || lstat(tmp, &st) < 0) {
		umask(old);
		log_warn("holder: %s; the sockets close if the broker dies",
		    tmp);
		fd_close(&lfd);
		free(tmp);
		return;
	}
	umask(old);
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("holder: pipe");
		unlink_ours(tmp, st.st_dev, st.st_ino);
		fd_close(&lfd);
		free(tmp);
		return;
	}
	/* The child keeps the held fds, its pipe end and its socket. */
	keep = xcalloc(h->nfds + 2, sizeof(*keep));
	memcpy(keep, h->fds, h->nfds * sizeof(*keep));
	keep[h->nfds] = p[0];
	keep[h->nfds + 1] = lfd;
	qsort(keep, h->nfds + 2, sizeof(*keep), cmp_int);
	pid = fork();
	if (pid == 0) {
		close_others(keep, h->nfds + 2);
		holder_main(p[0], lfd, path, tmp, st.st_dev, st.st_ino, h->fds,
		    h->nfds, plan->holder_timeout);
	}
	free(keep);
	(void)close(p[0]);
	fd_close(&lfd);
	if (pid < 0 || rename(tmp, path) < 0) {
		log_warn(pid < 0 ? "holder: fork" : "holder: rename %s", tmp);
		if (pid > 0)
			(void)!write(p[1], "q", 1);
		unlink_ours(tmp, st.st_dev, st.st_ino);
		(void)close(p[1]);
		free(tmp);
		return;
	}
	free(tmp);
	h->pid = pid;
	h->pipe_wr = p[1];
	log_debug("holder: pid %ld holds %zu sockets", (long)pid, h->nfds);
}

/* Tells the holder to exit: the broker stops, or a new holder comes. */
void
holder_stop(struct holder *h)
{
	if (h->pid > 0 && h->pipe_wr >= 0) {
		(void)!write(h->pipe_wr, "q", 1);
		fd_close(&h->pipe_wr);
	}
	if (h->lent_wr >= 0) {
		(void)!write(h->lent_wr, "q", 1);
		fd_close(&h->lent_wr);
	}
	free(h->fds);
	free(h->ids);
	h->fds = NULL;
	h->ids = NULL;
	h->nfds = 0;
	h->pid = 0;
}

/*
 * A reexec (on) lends the holder's pipe to the new image: it survives the
 * exec, its number in HOLDER_ENV; undone (!on) if the exec failed.
 */
void
holder_lend(struct holder *h, bool on)
{
	char num[16];

	if (h->pid <= 0 || h->pipe_wr < 0)
		return;
	(void)fd_set_cloexec(h->pipe_wr, !on);
	snprintf(num, sizeof(num), "%d", h->pipe_wr);
	if (on)
		setenv(HOLDER_ENV, num, 1);
	else
		unsetenv(HOLDER_ENV);
}

/*
 * In the new image, after the inherited fds were scanned: the pipe lent,
 * kept until holder_refresh has a new holder (it then ends the old one).
 */
void
holder_take_lent(struct holder *h)
{
	const char *v = getenv(HOLDER_ENV);
	struct stat st;
	long fd;

	h->lent_wr = -1;
	if (v == NULL)
		return;
	fd = strtol(v, NULL, 10);
	unsetenv(HOLDER_ENV);		/* not for the daemons */
	if (fd >= 3 && fd <= INT32_MAX && fstat((int)fd, &st) == 0 &&
	    S_ISFIFO(st.st_mode))
		h->lent_wr = inherit_take_pipe(st.st_ino, O_WRONLY);
	if (h->lent_wr >= 0)
		(void)fd_set_cloexec(h->lent_wr, true);
}

/*
 * A new holder if the set of listening sockets (or guarded pidfiles)
 * changed: other fds, or the same numbers for other files (a pidfile
 * opened again after a logout).
 */
void
holder_refresh(struct holder *h, const struct plan *plan, const int *fds,
    size_t nfds)
{
	struct holder before;
	struct holder_id *ids;
	int *now;
	size_t n;
	bool same;

	sorted_fds(fds, nfds, &now, &n);
	ids = ids_of(now, n);
	same = h->pid > 0 && n == h->nfds && h->ids != NULL &&
	    memcmp(now, h->fds, n * sizeof(*now)) == 0 &&
	    memcmp(ids, h->ids, n * sizeof(*ids)) == 0;
	free(now);
	free(ids);
	if (same)
		return;
	before = *h;		/* it holds on until the new one has PATH */
	holder_start(h, plan, fds, nfds);
	holder_stop(&before);
}

/*
 * At start-up: a dead broker's holder hands its sockets over, which then
 * serve as if a reexec had left them (inherit.c); or, !keep, a holder in a
 * place now published (an older layout's R) is ended and its sockets
 * closed, so that only a daemon still serving one keeps it live. The
 * number of sockets taken, 0 if there is no holder, -errno.
 */
int
holder_collect(const char *path, bool keep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int c, taken = 0;

	if (strlen(path) >= sizeof(sa.sun_path) || lstat(path, &st) < 0 ||
	    !S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		log_debug("holder: none at %s", path);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_debug("holder: %s: %s (a dead holder's socket)", path,
		    strerror(errno));
		fd_close(&c);
		return 0;
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    cr.uid != geteuid()) {
		log_warnx("holder: %s is served by uid %ld, not this broker's; "
		    "ignored", path, (long)cr.uid);
		fd_close(&c);
		return -EPERM;
	}
	for (;;) {
		union {
			char buf[CMSG_SPACE(HOLDER_BATCH * sizeof(int))];
			struct cmsghdr align;
		} u;
		char magic[sizeof(HOLDER_MAGIC)];
		struct iovec iov = { .iov_base = magic, .iov_len = sizeof(magic) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		struct pollfd p = { .fd = c, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0)
			break;
		r = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
		if (r <= 0)
			break;		/* EOF: the holder closed its copies */
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(int));
				if (!keep || (size_t)r != sizeof(HOLDER_MAGIC) ||
				    memcmp(magic, HOLDER_MAGIC, r) != 0) {
					(void)close(fd);
					taken += !keep;
					continue;
				}
				inherit_add(fd);
				taken++;
			}
		}
	}
	fd_close(&c);
	if (taken == 0)
		log_debug("holder: pid %ld at %s handed nothing over", (long)cr.pid,
		    path);
	if (taken > 0 && keep)
		log_info("holder: took %d socket%s back, held since the broker "
		    "before this one (pid %ld) died", taken, taken == 1 ? "" :
		    "s", (long)cr.pid);
	else if (taken > 0)
		log_info("holder: %s: closed the %d socket%s a dead broker of "
		    "another runtime directory held", path, taken,
		    taken == 1 ? "" : "s");
	return taken;
}
