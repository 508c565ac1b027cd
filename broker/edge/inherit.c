/* SPDX-License-Identifier: MIT */
/*
 * Edge: the fds a reexec left open (see inherit.h). A table of what was
 * found at start-up; each take removes its entry, so an fd is given once.
 * Listening UNIX sockets and pipe ends are found through a hash of keys
 * ("s TYPE PATH", "p ACCMODE INO"): a broker of 3000 sockets takes them
 * all in linear time. Should two entries share a key (a path bound
 * again after an unlink), lookups fall back to a scan of the table.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "sock.h"
#include "strmap.h"
#include "xalloc.h"

enum inh_kind { INH_SOCKET, INH_FILE, INH_PIPE };

struct inh {
	int		 fd;
	enum inh_kind	 kind;
	int		 type;		/* SOCK_STREAM, SOCK_DGRAM */
	bool		 listening;
	dev_t		 dev;		/* a file's device */
	ino_t		 ino;		/* a file's, socket's or pipe's inode */
	int		 accmode;	/* O_RDONLY, O_WRONLY (pipes) */
	char		*path;		/* bound path, or the file's */
	struct sockaddr_storage inet;	/* an inet listener's address */
	socklen_t	 inet_len;	/* 0: not inet */
	char		*key;		/* in index, or NULL */
};

static struct inh	*table;
static size_t		 ntable;
static struct strmap	 by_key;		/* key -> index in table */
static bool		 by_key_dups;	/* a key was seen twice */

static char *
socket_key(int type, const char *path)
{
	return xasprintf("s %d %s", type, path);
}

static char *
pipe_key(int accmode, ino_t ino)
{
	return xasprintf("p %d %llu", accmode, (unsigned long long)ino);
}

/* The entry whose key this is, found by the index, else by a scan. */
static bool
find_key(const char *key, size_t *ret_i)
{
	if (strmap_get(&by_key, key, ret_i))
		return true;
	if (!by_key_dups)
		return false;
	for (size_t i = 0; i < ntable; i++)
		if (table[i].key != NULL && strcmp(table[i].key, key) == 0) {
			*ret_i = i;
			return true;
		}
	return false;
}

static void
scan_fd(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	struct inh e = { .fd = fd };
	char link[64], target[PATH_MAX];
	ssize_t n;
	int v = 0;
	socklen_t vl = sizeof(v);

	if (fstat(fd, &st) < 0)
		return;
	e.dev = st.st_dev;
	e.ino = st.st_ino;
	if (S_ISSOCK(st.st_mode)) {
		memset(&sa, 0, sizeof(sa));
		e.inet_len = sizeof(e.inet);
		if (getsockname(fd, (struct sockaddr *)&e.inet,
		    &e.inet_len) == 0 && (e.inet.ss_family == AF_INET ||
		    e.inet.ss_family == AF_INET6)) {
			e.kind = INH_SOCKET;
			e.type = SOCK_STREAM;
			e.listening = getsockopt(fd, SOL_SOCKET,
			    SO_ACCEPTCONN, &v, &vl) == 0 && v != 0;
			e.path = xstrdup("");
			goto add;
		}
		e.inet_len = 0;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
		    sa.sun_family != AF_UNIX || len <= sizeof(sa_family_t) ||
		    sa.sun_path[0] == '\0')
			return;		/* not a UNIX socket at a path */
		e.kind = INH_SOCKET;
		(void)getsockopt(fd, SOL_SOCKET, SO_TYPE, &e.type, &vl);
		vl = sizeof(v);
		e.listening = e.type == SOCK_DGRAM ||
		    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 &&
		    v != 0);
		e.path = xstrndup(sa.sun_path, len - sizeof(sa_family_t));
	} else if (S_ISFIFO(st.st_mode)) {
		e.kind = INH_PIPE;
		e.accmode = fcntl(fd, F_GETFL) & O_ACCMODE;
	} else if (S_ISREG(st.st_mode)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		e.kind = INH_FILE;
		e.path = xstrdup(target);	/* for messages */
	} else {
		return;
	}
add:
	(void)fd_set_cloexec(fd, true);
	if (e.kind == INH_SOCKET && e.inet_len == 0 && e.listening)
		e.key = socket_key(e.type, e.path);
	else if (e.kind == INH_PIPE)
		e.key = pipe_key(e.accmode, e.ino);
	table = xgrow(table, ntable, sizeof(*table));
	table[ntable] = e;
	if (e.key != NULL && !strmap_add(&by_key, e.key, ntable, NULL))
		by_key_dups = true;
	ntable++;
}

/* One fd received from elsewhere (the holder), as if inherited. */
void
inherit_add(int fd)
{
	size_t before = ntable;

	scan_fd(fd);
	if (ntable == before)
		(void)close(fd);	/* not a socket we could use */
}

/* Every fd from 3 up but skip_fd, as /proc/self/fd lists them. */
void
inherit_scan(int skip_fd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int *fds = NULL;	/* all of them: 10 000 units have 30 000 */
	size_t n = 0;

	if (d == NULL) {
		log_warn("reexec: /proc/self/fd");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd < 3 ||
		    fd == skip_fd || fd == dirfd(d))
			continue;
		fds = xgrow(fds, n, sizeof(*fds));
		fds[n++] = (int)fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		scan_fd(fds[i]);
	free(fds);
}

size_t
inherit_count(void)
{
	return ntable;
}

/* Was a listening socket bound to path left to us? */
bool
inherit_has_listener(const char *path)
{
	char *key = socket_key(SOCK_STREAM, path);
	size_t i;
	bool found = ntable > 0 && find_key(key, &i);

	free(key);
	return found;
}

/* Removes entry i; the last one takes its place (and its index). */
static void
drop(size_t i)
{
	size_t at;

	if (table[i].key != NULL && strmap_get(&by_key, table[i].key, &at) &&
	    at == i)
		strmap_del(&by_key, table[i].key);
	free(table[i].key);
	free(table[i].path);
	table[i] = table[--ntable];
	if (i < ntable && table[i].key != NULL &&
	    strmap_get(&by_key, table[i].key, &at) && at == ntable)
		strmap_set(&by_key, table[i].key, i);
}

/*
 * The listening socket of this type bound to path, if it was left to us
 * and the path still names a socket: 0 with ret_b filled (the path's
 * identity), -ENOENT otherwise.
 */
/* An inet listener (CFG_TCP_PREFIX path) left open at that address. */
static int
take_inet(const char *path, struct bound_sock *ret_b)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	}, *ai = NULL;
	char host[64], port[8];
	unsigned p;
	int r = -ENOENT;

	if (cfg_parse_inet(path, host, sizeof(host), &p) < 0)
		return -ENOENT;
	snprintf(port, sizeof(port), "%u", p);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -ENOENT;
	for (size_t i = 0; i < ntable && r < 0; i++) {
		struct inh *e = &table[i];

		if (e->kind != INH_SOCKET || e->inet_len == 0 ||
		    !e->listening || e->inet_len != ai->ai_addrlen ||
		    memcmp(&e->inet, ai->ai_addr, ai->ai_addrlen) != 0)
			continue;
		ret_b->fd = e->fd;
		ret_b->dev = 0;
		ret_b->ino = 0;
		drop(i);
		r = 0;
	}
	freeaddrinfo(ai);
	return r;
}

int
inherit_take_listener(const char *path, int type, struct bound_sock *ret_b)
{
	struct stat st;

	char *key;
	size_t i;
	bool found;

	if (strncmp(path, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) == 0)
		return take_inet(path, ret_b);
	if (ntable == 0)
		return -ENOENT;
	key = socket_key(type, path);
	found = find_key(key, &i);
	free(key);
	if (!found)
		return -ENOENT;
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOENT;		/* gone: inherit_close_rest */
	ret_b->fd = table[i].fd;
	ret_b->dev = st.st_dev;
	ret_b->ino = st.st_ino;
	drop(i);
	return 0;
}

/* The fd of the regular file at path (the same file, by identity), or -1. */
int
inherit_take_file(const char *path)
{
	struct stat st;

	if (ntable == 0 || stat(path, &st) < 0)
		return -1;
	for (size_t i = 0; i < ntable; i++)
		if (table[i].kind == INH_FILE && table[i].dev == st.st_dev &&
		    table[i].ino == st.st_ino) {
			int fd = table[i].fd;

			drop(i);
			return fd;
		}
	return -1;
}

/* The end (accmode O_RDONLY or O_WRONLY) of the pipe ino, or -1. */
int
inherit_take_pipe(ino_t ino, int accmode)
{
	char *key;
	size_t i;
	bool found;
	int fd;

	if (ntable == 0)
		return -1;
	key = pipe_key(accmode, ino);
	found = find_key(key, &i);
	free(key);
	if (!found)
		return -1;
	fd = table[i].fd;
	drop(i);
	return fd;
}

/* What no one took: closed (a removed unit's socket, an idle log pipe). */
void
inherit_close_rest(void)
{
	while (ntable > 0) {
		log_debug("reexec: closing fd %d%s%s, which no unit took",
		    table[0].fd, table[0].path ? " " : "",
		    table[0].path ? table[0].path : "");
		fd_close(&table[0].fd);
		drop(0);
	}
	free(table);
	table = NULL;
	strmap_clear(&by_key);
	by_key_dups = false;
}

/* This process's children (their pids), as /proc says: at most max. */
size_t
inherit_children(pid_t *ret, size_t max)
{
	char path[64], buf[64];
	pid_t self = getpid();
	size_t n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		long pid = strtol(de->d_name, NULL, 10);
		FILE *fp;
		long ppid = 0;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		while (fgets(buf, sizeof(buf), fp) != NULL)
			if (sscanf(buf, "PPid: %ld", &ppid) == 1)
				break;
		fclose(fp);
		if (ppid == (long)self)
			ret[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* The inode of the socket or pipe that pid has as fd, or 0. */
static ino_t
fd_ino(pid_t pid, int fd, const char *kind)
{
	char path[64], target[64];
	unsigned long long ino;
	size_t klen = strlen(kind);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	/* "socket:[123]", "pipe:[456]" */
	if (strncmp(target, kind, klen) != 0 || target[klen] != ':' ||
	    target[klen + 1] != '[' ||
	    sscanf(target + klen + 2, "%llu", &ino) != 1)
		return 0;
	return (ino_t)ino;
}

ino_t
inherit_fd_pipe_ino(pid_t pid, int fd)
{
	return fd_ino(pid, fd, "pipe");
}

/* Is pid a holder (holder.c names itself so)? */
static bool
is_holder(pid_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	comm[n > 0 ? n : 0] = '\0';
	(void)close(fd);
	return strcmp(comm, "vb-holder\n") == 0;
}

/*
 * Which of the children holds sock_fd's socket (an activated daemon has it
 * as one of its fds from 3 up): its pid, or 0. A holder is not a daemon.
 */
pid_t
inherit_child_holding(int sock_fd, pid_t *children, size_t n)
{
	struct stat st;

	if (fstat(sock_fd, &st) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char dir[64];
		DIR *d;
		struct dirent *de;
		bool found = false;

		if (is_holder(children[i]))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)children[i]);
		if ((d = opendir(dir)) == NULL)
			continue;
		while (!found && (de = readdir(d)) != NULL) {
			long fd = strtol(de->d_name, NULL, 10);

			found = fd >= 3 && fd_ino(children[i], (int)fd,
			    "socket") == st.st_ino;
		}
		closedir(d);
		if (found)
			return children[i];
	}
	return 0;
}

/* Does pid hold the socket whose inode is ino (as one of its fds)? */
static bool
holds_socket(pid_t pid, ino_t ino)
{
	char dir[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		long fd = strtol(de->d_name, NULL, 10);

		found = fd >= 0 && fd_ino(pid, (int)fd, "socket") == ino;
	}
	closedir(d);
	return found;
}

/*
 * A process other than this one (and a holder, "vb-holder") that holds
 * sock_fd's socket: a daemon a dead broker started on it. Its pid, or 0.
 */
pid_t
inherit_process_holding(int sock_fd)
{
	pid_t self = getpid(), found = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fstat(sock_fd, &st) < 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);

		if (pid <= 0 || pid == (long)self || is_holder((pid_t)pid))
			continue;
		if (holds_socket((pid_t)pid, st.st_ino))
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}
