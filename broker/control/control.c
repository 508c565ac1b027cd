/* SPDX-License-Identifier: MIT */
/*
 * Edge: the control socket. Each connection carries one request line; the
 * broker answers and closes. Nothing here blocks the single-threaded
 * broker: the request is read with a 2 s deadline, so a client that says
 * nothing, or too much, is dropped; the reply is queued whole (at most
 * CTL_REPLY_MAX bytes) and written as the socket takes it, and a client
 * that does not read it within CTL_REPLY_SECS is dropped too.
 *
 * A refused client (another uid) gets its refusal, then a half-close, and
 * what it sends is drained before the close: closing at once would race
 * with its request, and its write would die of SIGPIPE or its read of
 * ECONNRESET before it could say "permission denied".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "ctlproto.h"
#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "sock.h"
#include "xalloc.h"

#define CTL_READ_SECS	2.	/* to send the request line */
#define CTL_REPLY_SECS	5.	/* to read the whole reply */
#define CTL_DRAIN_SECS	2.	/* a refused client, to send and go */
#define CTL_REPLY_MAX	(1024 * 1024)	/* bytes of one reply */
#define CTL_REFUSED_MAX	16	/* refused clients lingering at once */

enum conn_phase {
	CONN_READ,		/* the request line */
	CONN_WRITE,		/* the queued reply */
	CONN_DRAIN,		/* refused: discard its input until EOF */
};

struct ctl_conn {
	struct control	*ctl;
	LIST_ENTRY(ctl_conn) entry;
	int		 fd;
	ev_io		 io;
	ev_timer	 timer;
	enum conn_phase	 phase;
	bool		 refused;
	bool		 too_big;	/* over CTL_REPLY_MAX */
	char		 buf[CTLPROTO_MAX_LINE];
	size_t		 len;
	char		*out;		/* the reply; from outoff: unsent */
	size_t		 outlen, outoff, outcap;
	size_t		 drained;
	uid_t		 uid;
	pid_t		 pid;
};

static void
conn_free(struct ctl_conn *k)
{
	ev_io_stop(k->ctl->loop, &k->io);
	ev_timer_stop(k->ctl->loop, &k->timer);
	if (k->refused)
		k->ctl->nrefused--;
	LIST_REMOVE(k, entry);
	fd_close(&k->fd);
	free(k->out);
	free(k);
}

/* Waits for events on the connection, until secs from now. */
static void
conn_arm(struct ctl_conn *k, int events, double secs)
{
	ev_io_stop(k->ctl->loop, &k->io);
	ev_io_set(&k->io, k->fd, events);
	ev_io_start(k->ctl->loop, &k->io);
	if (secs > 0.) {
		ev_timer_stop(k->ctl->loop, &k->timer);
		ev_timer_set(&k->timer, secs, 0.);
		ev_timer_start(k->ctl->loop, &k->timer);
	}
}

/* Queues s for the reply; past CTL_REPLY_MAX the reply becomes an ERR. */
static void
conn_write(struct ctl_conn *k, const char *s)
{
	size_t len = strlen(s);

	if (k->too_big)
		return;
	if (len > CTL_REPLY_MAX - k->outlen) {
		k->too_big = true;
		return;
	}
	if (k->outlen + len > k->outcap) {
		k->outcap = (k->outlen + len) * 2;
		k->out = xreallocarray(k->out, k->outcap, 1);
	}
	memcpy(k->out + k->outlen, s, len);
	k->outlen += len;
}

/* Refused: half-close, then drain what the client still sends. */
static void
conn_linger(struct ctl_conn *k)
{
	(void)shutdown(k->fd, SHUT_WR);
	k->phase = CONN_DRAIN;
	conn_arm(k, EV_READ, CTL_DRAIN_SECS);
}

/* Writes what the socket takes; done, the connection ends or lingers. */
static void
conn_flush(struct ctl_conn *k)
{
	while (k->outoff < k->outlen) {
		ssize_t n = send(k->fd, k->out + k->outoff,
		    k->outlen - k->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EV_WRITE brings us back */
		if (n <= 0) {
			conn_free(k);		/* the client has gone */
			return;
		}
		k->outoff += (size_t)n;
	}
	if (k->refused)
		conn_linger(k);
	else
		conn_free(k);
}

/* The reply is complete: send it, as the client reads it. */
static void
conn_send(struct ctl_conn *k)
{
	if (k->too_big) {
		char *e = ctlproto_escape("the reply is too large"), *line;

		line = xasprintf("ERR %s\n", e);
		k->outlen = 0;
		k->too_big = false;
		conn_write(k, line);
		free(line);
		free(e);
	}
	k->phase = CONN_WRITE;
	conn_arm(k, EV_WRITE, CTL_REPLY_SECS);
	conn_flush(k);
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
	char pid[24], since[24], acts[24], ready[24], reloads[24], last[128];
	char *f[10];
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
	snprintf(reloads, sizeof(reloads), "reloads=%u", u->reloads);
	f[7] = reloads;
	f[8] = xasprintf("phase=%s", unit_phase_name(u->phase));
	f[9] = xasprintf("status=%s", u->status_text != NULL ?
	    u->status_text : "");
	conn_line(k, "unit", (const char *const *)f, 10);
	free(f[0]);
	free(f[1]);
	free(f[5]);
	free(f[8]);
	free(f[9]);
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
	for (unsigned i = 0; i < dlog_tail_count(&u->log); i++) {
		char *t = xasprintf("line=%s", dlog_tail_line(&u->log, i));

		conn_line(k, "tail", (const char *const *)&t, 1);
		free(t);
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
	for (size_t i = 0; args->n == 1 && k->ctl->dups != NULL &&
	    i < k->ctl->dups->paths.n; i++) {
		char *d[2];

		d[0] = xasprintf("path=%s", k->ctl->dups->paths.v[i]);
		d[1] = xasprintf("pid=%s", k->ctl->dups->pids.v[i]);
		conn_line(k, "duplicate", (const char *const *)d, 2);
		free(d[0]);
		free(d[1]);
	}
	if (args->n == 1 && k->ctl->retired != NULL) {
		char *d = xasprintf("count=%lu", *k->ctl->retired);

		conn_line(k, "retired", (const char *const *)&d, 1);
		free(d);
	}
	for (unsigned i = 0; args->n == 1 && i < log_recent_count(); i++) {
		time_t when;
		const char *text = log_recent(i, &when);
		char *w[2];

		w[0] = xasprintf("time=%lld", (long long)when);
		w[1] = xasprintf("text=%s", text);
		conn_line(k, "warning", (const char *const *)w, 2);
		free(w[0]);
		free(w[1]);
	}
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
do_reexec(struct ctl_conn *k)
{
	char err[512];

	if (k->ctl->reexec == NULL)
		conn_err(k, "this broker cannot re-execute");
	else if (k->ctl->reexec(k->ctl->arg, err, sizeof(err)) < 0)
		conn_err(k, err);
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
	else if (strcmp(args.v[0], "shutdown") == 0 && args.n == 1) {
		conn_write(k, "OK\n");		/* then the loop winds down */
		log_info("virt-brokerctl stop --shutdown: the host shuts down");
		sup_shutdown_for_host(*k->ctl->sup);
	} else if (strcmp(args.v[0], "reexec") == 0 && args.n == 1)
		do_reexec(k);
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
	struct ctl_conn *k = w->data;

	(void)loop;
	(void)revents;
	if (k->phase == CONN_WRITE && !k->refused)
		log_warnx("control: dropped a client that did not read its "
		    "reply within %.0f s (uid %ld, pid %ld)", CTL_REPLY_SECS,
		    (long)k->uid, (long)k->pid);
	conn_free(k);
}

static void
conn_read(struct ctl_conn *k)
{
	ssize_t n;
	char *nl;

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
	if (nl == NULL)
		conn_err(k, "request too long");
	else {
		*nl = '\0';
		conn_request(k, k->buf);
	}
	conn_send(k);
}

/* Refused: discards input until EOF, a whole request line, or too much. */
static void
conn_drain(struct ctl_conn *k)
{
	char buf[512];
	ssize_t n = read(k->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		k->drained += (size_t)n;
	if (n <= 0 || memchr(buf, '\n', (size_t)n) != NULL ||
	    k->drained >= CTLPROTO_MAX_LINE)
		conn_free(k);
}

static void
conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn *k = w->data;

	(void)loop;
	(void)revents;
	switch (k->phase) {
	case CONN_READ:
		conn_read(k);
		break;
	case CONN_WRITE:
		conn_flush(k);
		break;
	case CONN_DRAIN:
		conn_drain(k);
		break;
	}
}

static struct ctl_conn *
conn_new(struct control *c, int fd, const struct ucred *cred)
{
	struct ctl_conn *k = xcalloc(1, sizeof(*k));

	k->ctl = c;
	k->fd = fd;
	k->uid = cred->uid;
	k->pid = cred->pid;
	LIST_INSERT_HEAD(&c->conns, k, entry);
	ev_io_init(&k->io, conn_io_cb, fd, EV_READ);
	k->io.data = k;
	ev_timer_init(&k->timer, conn_timeout_cb, 0., 0.);
	k->timer.data = k;
	return k;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static const char refuse[] = "ERR permission%20denied\n";
	struct control *c = w->data;
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	struct ctl_conn *k;
	int fd;

	(void)loop;
	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.uid = (uid_t)-1;
	if (cred.uid == geteuid() || cred.uid == 0) {
		k = conn_new(c, fd, &cred);
		k->phase = CONN_READ;
		conn_arm(k, EV_READ, CTL_READ_SECS);
		return;
	}
	log_warnx("control: refused a request from uid %ld (pid %ld)",
	    (long)cred.uid, (long)cred.pid);
	if (c->nrefused >= CTL_REFUSED_MAX) {
		/* A flood of them must not cost us our fds: no courtesy. */
		(void)send(fd, refuse, sizeof(refuse) - 1, MSG_NOSIGNAL);
		fd_close(&fd);
		return;
	}
	k = conn_new(c, fd, &cred);
	k->refused = true;
	c->nrefused++;
	conn_write(k, refuse);
	conn_send(k);
}

int
control_open(struct control *c, struct ev_loop *loop, const char *path,
    struct supervisor **sup, int (*reload)(void *, struct strv *), void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bound_sock ib;
	struct stat st;
	mode_t old;
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	LIST_INIT(&c->conns);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("control socket %s: the path is %zu bytes, over the "
		    "%zu a UNIX socket address holds; virt-brokerctl cannot "
		    "reach this broker", path, strlen(path),
		    sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (inherit_take_listener(path, SOCK_STREAM, &ib) == 0) {
		c->fd = ib.fd;		/* left open by a reexec */
		(void)fd_set_nonblock(c->fd, true);
		st.st_dev = ib.dev;
		st.st_ino = ib.ino;
		goto bound;
	}
	/* We hold R's lock: a socket here is a dead broker's. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old = umask(0177);
	r = c->fd < 0 ? -1 : bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(c->fd, 16) < 0 || lstat(path, &st) < 0) {
		r = -errno;
		log_warn("control socket %s; virt-brokerctl cannot reach this "
		    "broker", path);
		fd_close(&c->fd);
		return r;
	}
bound:
	c->dev = st.st_dev;
	c->ino = st.st_ino;
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
	while (!LIST_EMPTY(&c->conns))
		conn_free(LIST_FIRST(&c->conns));
	ev_io_stop(c->loop, &c->io);
	fd_close(&c->fd);
	sock_unlink_ours(c->path, &(struct bound_sock){ .dev = c->dev,
	    .ino = c->ino });
	free(c->path);
	c->path = NULL;
}
