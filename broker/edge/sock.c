/* SPDX-License-Identifier: MIT */
/*
 * Edge: sockets and the directory that holds them.
 *
 * Rules (ARCHITECTURE.md "Sockets and paths"): the runtime dir must be a
 * real directory owned by us, never a symlink. A path that exists is
 * replaced only if it is a socket nobody listens on (connect refused); a
 * live socket belongs to a daemon we did not start and is left alone; a
 * symlink or any other file is an error for that unit. A socket is bound
 * under a umask that yields its mode; nothing is then done by path, since
 * the directory may let someone swap the path (a symlink to /etc/shadow)
 * between bind() and the next call: the path is opened O_PATH|O_NOFOLLOW,
 * checked to be the very inode our socket is bound to (sock_diag), and the
 * group (and a mode a default ACL widened) is set through that fd. On
 * failure and on exit we unlink a path only if it is still the inode we
 * bound.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "dirtrust.h"
#include "fd.h"
#include "log.h"
#include "paths.h"
#include "sock.h"

#define SOCK_REFUSE_MAX	256	/* connections refused per call */
#include "xalloc.h"

/* mkdir -p, creating missing components with the given mode. */
static int
mkdir_parents(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char saved = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				r = -errno;
				log_warn("create directory %s", p);
				free(p);
				return r;
			}
			*s = saved;
			if (saved == '\0')
				break;
		}
	}
	free(p);
	return r;
}

/*
 * Creates the runtime dir R (0700 in session mode, 0755 in system mode) and
 * checks that it is a directory, not a symlink, owned by us, and not
 * writable by others. Returns 0 or -errno, having said why.
 */
int
sock_prepare_dir(const char *dir, enum broker_mode mode)
{
	mode_t want = mode == BROKER_MODE_SESSION ? 0700 : 0755;
	struct stat st;
	int r;

	r = mkdir_parents(dir, want);
	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0) {
		r = -errno;
		log_warn("runtime directory %s", dir);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		log_warnx("runtime directory %s is a symlink; refusing to "
		    "follow it (remove it or set runtime_dir)", dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("runtime directory %s exists and is not a directory",
		    dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("runtime directory %s is owned by uid %ld, not by us "
		    "(uid %ld); refusing to use it", dir, (long)st.st_uid,
		    (long)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 022) {
		log_warnx("runtime directory %s is writable by group or others "
		    "(mode %04o); refusing to use it (chmod %o it)", dir,
		    (unsigned)(st.st_mode & 07777), (unsigned)want);
		return -EPERM;
	}
	return 0;
}

static int
fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 1: something listens at path; 0: nobody does (stale); -errno. */
int
sock_probe_live(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	r = fill_addr(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		r = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		r = 1;			/* backlog full: live */
	else if (errno == ECONNREFUSED)
		r = 0;
	else
		r = -errno;
	fd_close(&fd);
	return r;
}

/*
 * Clears the way for binding s->path. Returns 0 when the path is free (a
 * stale socket was removed), -EADDRINUSE when a live daemon serves it,
 * another -errno otherwise; says why in each error case.
 */
static int
clear_path(const char *unit, const char *path)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		log_warn("unit %s: %s", unit, path);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		log_warnx("unit %s: %s is a symlink we did not create; refusing "
		    "to follow or replace it", unit, path);
		return -ELOOP;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("unit %s: %s exists and is not a socket; refusing to "
		    "replace it", unit, path);
		return -EEXIST;
	}
	r = sock_probe_live(path);
	if (r < 0) {
		errno = -r;
		log_warn("unit %s: probe %s", unit, path);
		return r;
	}
	if (r == 1)
		return -EADDRINUSE;	/* the caller adopts or reports it */
	if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		log_warn("unit %s: remove stale socket %s", unit, path);
		return r;
	}
	log_debug("unit %s: removed stale socket %s", unit, path);
	return 0;
}

/* The gid of group, or -errno having said why. */
static int
lookup_group(const char *unit, const char *path, const char *group,
    gid_t *ret_gid)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		int r = errno != 0 ? -errno : -ENOENT;

		log_warnx("unit %s: %s: unknown group '%s'", unit, path, group);
		return r;
	}
	*ret_gid = gr->gr_gid;
	return 0;
}

/*
 * Is the UNIX socket fd bound at the inode st describes? Asks the kernel
 * through nfd, a NETLINK_SOCK_DIAG socket (UDIAG_SHOW_VFS): 1 yes, 0 no,
 * -errno if it cannot tell (nfd -1: no sock_diag here).
 */
static int
bound_at(int nfd, int fd, const struct stat *st)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} q;
	union {
		struct nlmsghdr	 nlh;
		char		 buf[1024];
	} a;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct unix_diag_msg *m;
	struct rtattr *rta;
	struct stat sst;
	ssize_t n;
	int len;

	if (nfd < 0)
		return -EAFNOSUPPORT;
	if (fstat(fd, &sst) < 0)
		return -errno;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_ino = (unsigned)sst.st_ino;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;	/* none */
	q.req.udiag_show = UDIAG_SHOW_VFS;
	if (sendto(nfd, &q, sizeof(q), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) < 0)
		return -errno;
	do
		n = recv(nfd, a.buf, sizeof(a.buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(&a.nlh, (unsigned)n))
		return -EIO;
	if (a.nlh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&a.nlh);

		return e->error < 0 ? e->error : -EIO;
	}
	if (a.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    a.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EIO;
	m = NLMSG_DATA(&a.nlh);
	len = (int)(a.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (rta = (struct rtattr *)(m + 1); RTA_OK(rta, len);
	    rta = RTA_NEXT(rta, len)) {
		const struct unix_diag_vfs *v = RTA_DATA(rta);
		dev_t dev;

		if (rta->rta_type != UNIX_DIAG_VFS ||
		    RTA_PAYLOAD(rta) < sizeof(*v))
			continue;
		/* The kernel's own dev_t: major << 20 | minor. */
		dev = makedev(v->udiag_vfs_dev >> 20,
		    v->udiag_vfs_dev & 0xfffff);
		return v->udiag_vfs_ino == st->st_ino && dev == st->st_dev;
	}
	return 0;				/* not bound to a path */
}

/*
 * Opens the path just bound without following it and checks that it is
 * our socket's inode: an fd (O_PATH) and its stat, or -errno having said
 * why. The caller keeps an fd free for it. Without sock_diag (an old or trimmed kernel) a socket owned by us
 * is accepted: another user cannot create one.
 */
static int
open_bound(const char *unit, int fd, int nfd, const char *path,
    struct stat *ret_st)
{
	struct stat st;
	int pfd, r;

	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		r = -errno;
		log_warn("unit %s: open %s after bind", unit, path);
		return r;
	}
	if (fstat(pfd, &st) < 0) {
		r = -errno;
		log_warn("unit %s: stat %s", unit, path);
		fd_close(&pfd);
		return r;
	}
	r = S_ISSOCK(st.st_mode) && st.st_uid == geteuid() ?
	    bound_at(nfd, fd, &st) : 0;
	if (r < 0) {
		log_debug("unit %s: cannot ask sock_diag about %s (%s); "
		    "trusting its owner", unit, path, strerror(-r));
		r = 1;
	}
	if (r == 0) {
		log_warnx("unit %s: %s was replaced right after bind by "
		    "something else; leaving it", unit, path);
		fd_close(&pfd);
		return -EEXIST;
	}
	*ret_st = st;
	return pfd;
}

/*
 * Mode and group through the O_PATH fd, never by path. The mode came from
 * the umask at bind; a default ACL on the directory may have widened it.
 */
static int
set_attrs(const char *unit, const char *path, int pfd, const struct stat *st,
    unsigned mode, bool set_gid, gid_t gid)
{
	char proc[64];
	int r;

	if ((st->st_mode & 07777) != mode) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
		if (chmod(proc, mode) < 0) {
			r = -errno;
			log_warn("unit %s: chmod %s", unit, path);
			return r;
		}
	}
	if (set_gid && fchownat(pfd, "", (uid_t)-1, gid, AT_EMPTY_PATH) < 0) {
		r = -errno;
		log_warn("unit %s: chown %s to gid %ld", unit, path, (long)gid);
		return r;
	}
	return 0;
}

/* Undoes a bind: unlinks path only if it still is the inode we bound. */
static void
unlink_if_same(const char *path, const struct stat *bound)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == bound->st_dev && st.st_ino == bound->st_ino)
		(void)unlink(path);
}

static bool
is_inet(const char *path)
{
	return strncmp(path, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) == 0;
}

/*
 * An inet listener (virtproxyd-tcp.socket): numeric address, SO_REUSEADDR
 * as systemd sets it. An address in use is an error for the unit (-EBUSY,
 * said), never an adoption: nothing says who holds it.
 */
static int
sock_bind_inet(const char *unit, const struct sock_spec *s, unsigned backlog,
    struct bound_sock *ret_b)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	}, *ai = NULL;
	char host[64], port[8];
	unsigned p;
	int fd = -1, one = 1, r;

	if (cfg_parse_inet(s->path, host, sizeof(host), &p) < 0) {
		log_warnx("unit %s: %s: not an inet address", unit, s->path);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", p);
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		log_warnx("unit %s: %s: %s", unit, s->path, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, backlog > 0 ? (int)backlog : SOMAXCONN) < 0) {
		r = errno == EADDRINUSE ? -EBUSY : -errno;
		log_warn("unit %s: bind %s", unit, s->path);
		fd_close(&fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	ret_b->fd = fd;
	ret_b->dev = 0;
	ret_b->ino = 0;
	return 0;
}

/* bind() with the file's mode from the umask: 0 or -errno. */
static int
bind_with_mode(int fd, const struct sockaddr_un *sa, unsigned mode)
{
	mode_t old = umask(~(mode_t)mode & 0777);
	int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));

	r = r < 0 ? -errno : 0;
	umask(old);
	return r;
}

/*
 * The socket just bound at path, in a directory only root and we can
 * change (dirtrust.c): nobody else can have swapped the path, so a look
 * without following it is enough; the O_PATH fd (for set_attrs) is opened
 * only when the mode or group must change. Returns 0 with *ret_pfd that
 * fd or -1 (none needed), or -errno having said why.
 */
static int
open_bound_trusted(const char *unit, const char *path, unsigned mode,
    bool set_gid, struct stat *ret_st, int *ret_pfd)
{
	struct stat st;
	int pfd, r;

	*ret_pfd = -1;
	if (lstat(path, ret_st) < 0) {
		r = -errno;
		log_warn("unit %s: stat %s after bind", unit, path);
		return r;
	}
	if (!S_ISSOCK(ret_st->st_mode) || ret_st->st_uid != geteuid()) {
		log_warnx("unit %s: %s is not the socket just bound; leaving "
		    "it", unit, path);
		return -EEXIST;
	}
	if ((ret_st->st_mode & 07777) == mode && !set_gid)
		return 0;
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		r = -errno;
		log_warn("unit %s: open %s after bind", unit, path);
		return r;
	}
	if (fstat(pfd, &st) < 0 || st.st_dev != ret_st->st_dev ||
	    st.st_ino != ret_st->st_ino) {
		log_warnx("unit %s: %s changed right after bind; leaving it",
		    unit, path);
		fd_close(&pfd);
		return -EEXIST;
	}
	*ret_pfd = pfd;
	return 0;
}

/*
 * Binds and listens on s->path. Returns 0 with ret_b filled, or -errno,
 * having said why, except -EADDRINUSE: a live daemon we did not start
 * serves the path, which the caller adopts or reports.
 */
int
sock_bind(const char *unit, const struct sock_spec *s, unsigned backlog,
    struct bound_sock *ret_b)
{
	struct sockaddr_un sa;
	struct stat st = { 0 };	/* open_bound fills it */
	bool set_gid = false, trusted, said = false;
	gid_t gid = 0;
	int fd, nfd = -1, spare = -1, pfd = -1, r;

	if (is_inet(s->path))
		return sock_bind_inet(unit, s, backlog, ret_b);
	r = fill_addr(s->path, &sa);
	if (r < 0) {
		log_warnx("unit %s: %s: path too long for a UNIX socket", unit,
		    s->path);
		return r;
	}
	if (s->group != NULL) {
		r = lookup_group(unit, s->path, s->group, &gid);
		if (r < 0)
			return r;
		set_gid = true;
	}
	trusted = dirtrust_parent_of(s->path);
	/*
	 * Every fd needed after bind is had before it (the sock_diag socket;
	 * a spare slot for the O_PATH fd), so running out of fds (EMFILE)
	 * never leaves a path bound that we cannot identify. In a trusted
	 * directory the path needs no identifying (open_bound_trusted).
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!trusted || fd < 0) {
		nfd = fd < 0 ? -1 : socket(AF_NETLINK, SOCK_DGRAM |
		    SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (fd >= 0 && nfd < 0 && errno != EMFILE &&
		    errno != ENFILE && errno != ENOMEM && errno != ENOBUFS)
			errno = 0;	/* no sock_diag: see open_bound() */
		spare = fd < 0 || (nfd < 0 && errno != 0) ? -1 :
		    fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	if (fd < 0 || (!trusted && spare < 0)) {
		r = -errno;
		log_warn("unit %s: socket", unit);
		fd_close(&nfd);
		fd_close(&fd);
		return r;
	}
	/*
	 * bind() first: it never follows or replaces what is at the path
	 * (EADDRINUSE, whatever it is), so only then is the path looked at
	 * (clear_path: a stale socket removed, anything else said) and the
	 * bind tried again. A fresh start looks up each path once less.
	 */
	r = bind_with_mode(fd, &sa, s->mode);
	if (r == -EADDRINUSE) {
		r = clear_path(unit, s->path);	/* says why, if it fails */
		said = r < 0;
		if (r == 0)
			r = bind_with_mode(fd, &sa, s->mode);
	}
	if (r < 0) {
		if (!said) {
			errno = -r;
			log_warn("unit %s: bind %s", unit, s->path);
		}
		fd_close(&spare);
		fd_close(&nfd);
		fd_close(&fd);
		return r;
	}
	fd_close(&spare);
	if (trusted)
		r = open_bound_trusted(unit, s->path, s->mode, set_gid, &st,
		    &pfd);
	else
		r = pfd = open_bound(unit, fd, nfd, s->path, &st);
	fd_close(&nfd);
	if (r < 0) {
		fd_close(&fd);		/* not knowing what is there: leave it */
		return r;
	}
	/* The path is ours: undo the bind on any error. */
	r = set_attrs(unit, s->path, pfd, &st, s->mode, set_gid, gid);
	if (r < 0)
		goto fail;
	if (listen(fd, backlog > 0 ? (int)backlog : SOMAXCONN) < 0) {
		r = -errno;
		log_warn("unit %s: listen %s", unit, s->path);
		goto fail;
	}
	fd_close(&pfd);
	ret_b->fd = fd;
	ret_b->dev = st.st_dev;
	ret_b->ino = st.st_ino;
	return 0;
fail:
	unlink_if_same(s->path, &st);
	fd_close(&pfd);
	fd_close(&fd);
	return r;
}

/* Removes path only if it still is the socket inode we bound. */
void
sock_unlink_ours(const char *path, const struct bound_sock *b)
{
	struct stat st;

	if (is_inet(path) || lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode) || st.st_dev != b->dev ||
	    st.st_ino != b->ino) {
		log_warnx("%s was replaced by something the broker did not "
		    "bind; leaving it", path);
		return;
	}
	if (unlink(path) < 0)
		log_warn("remove %s", path);
}

/* Is path a symlink to exactly target? */
bool
sock_is_link_to(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	return n > 0 && (size_t)n == strlen(target) &&
	    memcmp(buf, target, (size_t)n) == 0;
}

/* Is a client queued on any of these listening sockets? */
bool
sock_any_pending(const int *fds, size_t n)
{
	struct pollfd pfd[16];

	for (size_t i = 0; i < n; i += 16) {
		size_t m = n - i < 16 ? n - i : 16;

		for (size_t j = 0; j < m; j++) {
			pfd[j].fd = fds[i + j];
			pfd[j].events = POLLIN;
			pfd[j].revents = 0;
		}
		if (poll(pfd, m, 0) > 0)
			for (size_t j = 0; j < m; j++)
				if (pfd[j].revents & POLLIN)
					return true;
	}
	return false;
}

/*
 * Accepts and closes every queued connection, so clients of a failed unit
 * get an error at once instead of hanging. The socket may be blocking (a
 * daemon cleared O_NONBLOCK on the shared file description), so poll first.
 */
unsigned
sock_refuse_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned n = 0;

	/* Bounded: a storm must not hold the loop; the rest come next time. */
	while (n < SOCK_REFUSE_MAX && poll(&pfd, 1, 0) > 0 &&
	    (pfd.revents & POLLIN)) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		fd_close(&c);
		n++;
	}
	return n;
}

/*
 * The pid that called listen() on the socket at path (SO_PEERCRED of a
 * connection to it), or 0. For an activated daemon that is whoever bound
 * the socket, not the daemon: prefer the daemon's pidfile.
 */
void
sock_listener_cred(const char *path, pid_t *ret_pid, uid_t *ret_uid)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	*ret_pid = 0;
	*ret_uid = (uid_t)-1;
	if (fill_addr(path, &sa) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		*ret_pid = cred.pid;
		*ret_uid = cred.uid;
	}
	fd_close(&fd);
}

pid_t
sock_listener_pid(const char *path)
{
	pid_t pid;
	uid_t uid;

	sock_listener_cred(path, &pid, &uid);
	return pid;
}
