/* SPDX-License-Identifier: MIT */
/*
 * Edge: the control socket. Each connection carries one request line; the
 * broker answers and closes. A connection is non-blocking while the
 * request is read, with a 2 s deadline, so a client that says nothing, or
 * too much, never holds the single-threaded broker; a malformed request
 * gets an ERR reply. Replies are written with a send timeout for the same
 * reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "ctlproto.h"
#include "fd.h"
#include "log.h"
#include "xalloc.h"

struct ctl_conn {
	struct control	*ctl;
	int		 fd;
	ev_io		 io;
	ev_timer	 timer;
	char		 buf[CTLPROTO_MAX_LINE];
	size_t		 len;
	uid_t		 uid;
};

static void
conn_free(struct ctl_conn *k)
{
	ev_io_stop(k->ctl->loop, &k->io);
	ev_timer_stop(k->ctl->loop, &k->timer);
	fd_close(&k->fd);
	free(k);
}

/* Writes all of s (the reply is small; a stuck client hits SO_SNDTIMEO). */
static void
conn_write(struct ctl_conn *k, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(k->fd, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void
conn_line(struct ctl_conn *k, const char *kind, const char *const *kv,
    size_t n)
{
	char *body = ctlproto_join(kv, n), *line;

	line = xasprintf("%s %s\n", kind, body);
	conn_write(k, line);
	free(line);
	free(body);
}

static void
conn_err(struct ctl_conn *k, const char *msg)
{
	char *e = ctlproto_escape(msg), *line = xasprintf("ERR %s\n", e);

	conn_write(k, line);
	free(line);
	free(e);
}

static void
reply_unit(struct ctl_conn *k, const struct unit *u, bool detail)
{
	char pid[24], since[24], acts[24], ready[24], last[128], *f[8];
	pid_t p = u->pid > 0 ? u->pid : u->adopted_pid;

	snprintf(pid, sizeof(pid), "pid=%ld", (long)p);
	snprintf(since, sizeof(since), "since=%lld", (long long)u->since);
	snprintf(acts, sizeof(acts), "activations=%u", u->activations);
	snprintf(ready, sizeof(ready), "ready_ms=%ld", u->ready_ms);
	unit_describe_exit(u, last, sizeof(last));
	f[0] = xasprintf("name=%s", u->spec.name);
	f[1] = xasprintf("state=%s", !u->serving && u->adopted_pid <= 0 ?
	    "unserved" : unit_state_name(u->sm.state));
	f[2] = pid;
	f[3] = since;
	f[4] = acts;
	f[5] = xasprintf("last=%s", last);
	f[6] = ready;
	conn_line(k, "unit", (const char *const *)f, 7);
	free(f[0]);
	free(f[1]);
	free(f[5]);
	if (!detail)
		return;
	for (size_t i = 0; i < u->spec.nsockets; i++) {
		char *s[3];

		s[0] = xasprintf("unit=%s", u->spec.name);
		s[1] = xasprintf("name=%s", u->spec.sockets[i].name);
		s[2] = xasprintf("path=%s", u->spec.sockets[i].path);
		conn_line(k, "socket", (const char *const *)s, 3);
		for (size_t j = 0; j < 3; j++)
			free(s[j]);
	}
	{
		char *argv = strv_join(&u->spec.argv, " "), *e[3];

		e[0] = xasprintf("unit=%s", u->spec.name);
		e[1] = xasprintf("argv=%s", argv);
		conn_line(k, "exec", (const char *const *)e, 2);
		free(e[1]);
		e[1] = xasprintf("dest=%s", daemon_log_name(u->spec.log));
		e[2] = xasprintf("path=%s", u->spec.log_path != NULL ?
		    u->spec.log_path : "-");
		conn_line(k, "log", (const char *const *)e, 3);
		for (size_t j = 0; j < 3; j++)
			free(e[j]);
		free(argv);
	}
	{
		unsigned have = u->log.ntail < DLOG_TAIL ? u->log.ntail :
		    DLOG_TAIL;

		for (unsigned i = 0; i < have; i++) {
			char *t = xasprintf("line=%s", u->log.tail[
			    (u->log.ntail - have + i) % DLOG_TAIL]);

			conn_line(k, "tail", (const char *const *)&t, 1);
			free(t);
		}
	}
}

static void
do_status(struct ctl_conn *k, const struct strv *args)
{
	struct supervisor *sup = *k->ctl->sup;

	for (size_t i = 1; i < args->n; i++)
		if (sup_unit(sup, args->v[i]) == NULL) {
			char msg[128];

			snprintf(msg, sizeof(msg), "unknown unit '%s'",
			    args->v[i]);
			conn_err(k, msg);
			return;
		}
	if (args->n == 1)
		for (size_t i = 0; i < sup->nunits; i++)
			reply_unit(k, sup->units[i], false);
	for (size_t i = 1; i < args->n; i++)
		reply_unit(k, sup_unit(sup, args->v[i]), true);
	conn_write(k, "OK\n");
}

static void
do_reload(struct ctl_conn *k)
{
	struct strv errors = { 0 };
	int r = k->ctl->reload(k->ctl->arg, &errors);

	for (size_t i = 0; i < errors.n; i++) {
		char *e = xasprintf("text=%s", errors.v[i]);

		conn_line(k, "error", (const char *const *)&e, 1);
		free(e);
	}
	strv_free(&errors);
	if (r < 0)
		conn_err(k, "the configuration has errors; the running one "
		    "stays");
	else
		conn_write(k, "OK\n");
}

static void
conn_request(struct ctl_conn *k, const char *line)
{
	struct strv args = { 0 };
	const char *msg = NULL;
	struct unit *u;
	int r = ctlproto_parse_request(line, &args);

	if (r == -EPROTO)
		conn_err(k, "unsupported protocol version (this broker speaks "
		    CTLPROTO_VERSION ")");
	else if (r < 0)
		conn_err(k, "malformed request");
	else if (strcmp(args.v[0], "status") == 0)
		do_status(k, &args);
	else if (strcmp(args.v[0], "reload") == 0 && args.n == 1)
		do_reload(k);
	else if ((strcmp(args.v[0], "start") == 0 ||
	    strcmp(args.v[0], "stop") == 0 ||
	    strcmp(args.v[0], "restart") == 0 ||
	    strcmp(args.v[0], "reset") == 0) && args.n == 2) {
		u = sup_unit(*k->ctl->sup, args.v[1]);
		if (u == NULL) {
			char m[128];

			snprintf(m, sizeof(m), "unknown unit '%s'", args.v[1]);
			conn_err(k, m);
		} else if (sup_unit_command(u, args.v[0], &msg) < 0) {
			conn_err(k, msg);
		} else {
			log_info("control: %s %s (uid %ld)", args.v[0],
			    args.v[1], (long)k->uid);
			conn_write(k, "OK\n");
		}
	} else {
		conn_err(k, "unknown command or wrong arguments");
	}
	strv_free(&args);
}

static void
conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_free(w->data);
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn *k = w->data;
	ssize_t n;
	char *nl;

	(void)loop;
	(void)revents;
	n = read(k->fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(k);
		return;
	}
	k->len += (size_t)n;
	k->buf[k->len] = '\0';
	nl = strchr(k->buf, '\n');
	if (nl == NULL && k->len < sizeof(k->buf) - 1)
		return;
	ev_io_stop(k->ctl->loop, &k->io);
	(void)fd_set_nonblock(k->fd, false);	/* SO_SNDTIMEO bounds it */
	if (nl == NULL)
		conn_err(k, "request too long");
	else {
		*nl = '\0';
		conn_request(k, k->buf);
	}
	conn_free(k);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = w->data;
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn *k;
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		static const char refuse[] = "ERR permission%20denied\n";

		log_warnx("control: refused a request from uid %ld (pid %ld)",
		    (long)cred.uid, (long)cred.pid);
		(void)!write(fd, refuse, sizeof(refuse) - 1);
		fd_close(&fd);
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	k = xcalloc(1, sizeof(*k));
	k->ctl = c;
	k->fd = fd;
	k->uid = cred.uid;
	ev_io_init(&k->io, conn_read_cb, fd, EV_READ);
	k->io.data = k;
	ev_io_start(loop, &k->io);
	ev_timer_init(&k->timer, conn_timeout_cb, 2., 0.);
	k->timer.data = k;
	ev_timer_start(loop, &k->timer);
}

int
control_open(struct control *c, struct ev_loop *loop, const char *path,
    struct supervisor **sup, int (*reload)(void *, struct strv *), void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* We hold R's lock: a socket here is a dead broker's. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old = umask(0177);
	r = c->fd < 0 ? -1 : bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(c->fd, 16) < 0) {
		r = -errno;
		log_warn("control socket %s; virt-brokerctl cannot reach this "
		    "broker", path);
		fd_close(&c->fd);
		return r;
	}
	c->path = xstrdup(path);
	c->loop = loop;
	c->sup = sup;
	c->reload = reload;
	c->arg = arg;
	ev_io_init(&c->io, accept_cb, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	return 0;
}

void
control_close(struct control *c)
{
	if (c->fd < 0)
		return;
	ev_io_stop(c->loop, &c->io);
	fd_close(&c->fd);
	(void)unlink(c->path);
	free(c->path);
	c->path = NULL;
}
