/* SPDX-License-Identifier: MIT */
/*
 * Edge: a unit's output, line by line (see daemonlog.h).
 *
 * The pipe is made large (1 MiB where allowed) and read eagerly, a bounded
 * amount per wake-up so that a flooding daemon cannot starve the other
 * units. Lines are formatted into one buffer and written with one write()
 * per batch. A line that cannot be written (disk full, I/O error) is
 * counted, and the count is reported when writing works again, so a burst
 * is never lost silently. Files rotate at max_size: name.log.1 .. .keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemonlog.h"
#include "fd.h"
#include "log.h"
#include "paths.h"
#include "xalloc.h"

#define DLOG_READ_BUDGET	(256 * 1024)	/* per wake-up */
#define DLOG_OUT_SIZE		(64 * 1024)
#define DLOG_PIPE_SIZE		(1024 * 1024)

struct dlog_out {
	char	 buf[DLOG_OUT_SIZE];
	size_t	 len;
	unsigned lines;
	char	 stamp[32];
};

static void
mkdir_p(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(p, mode);
		*s = '/';
	}
	(void)mkdir(p, mode);
	free(p);
}

static int
dlog_open_file(struct dlog *l)
{
	struct stat st;
	char *dir;

	if (l->file_fd >= 0)
		return 0;
	dir = paths_dirname(l->path);
	mkdir_p(dir, geteuid() == 0 ? 0755 : 0700);
	free(dir);
	l->file_fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (l->file_fd < 0)
		return -errno;
	l->file_size = fstat(l->file_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* name.log -> name.log.1 -> ... -> name.log.keep (dropped beyond). */
static void
dlog_rotate(struct dlog *l)
{
	char from[4200], to[4200];

	fd_close(&l->file_fd);
	if (l->keep == 0) {
		(void)unlink(l->path);
	} else {
		for (unsigned i = l->keep; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", l->path, i);
			(void)rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", l->path);
		(void)rename(l->path, to);
	}
	l->file_size = 0;
	(void)dlog_open_file(l);
}

static void
dlog_lost(struct dlog *l, unsigned lines, int e)
{
	if (l->lost == 0)
		log_warnx("unit %s: cannot write its output (%s); counting "
		    "lost lines", l->unit, strerror(e));
	l->lost += lines;
	l->lost_errno = e;
}

static void
dlog_flush(struct dlog *l, struct dlog_out *o)
{
	int fd = l->dest == DAEMON_LOG_FILE ? l->file_fd : STDERR_FILENO;
	size_t off = 0;

	if (o->len == 0)
		return;
	if (l->dest == DAEMON_LOG_FILE && fd < 0) {
		int r = dlog_open_file(l);

		fd = l->file_fd;
		if (r < 0) {
			dlog_lost(l, o->lines, -r);
			goto done;
		}
	}
	while (off < o->len) {
		ssize_t n = write(fd, o->buf + off, o->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			unsigned lines = 0;

			for (size_t i = off; i < o->len; i++)
				lines += o->buf[i] == '\n';
			dlog_lost(l, lines, n < 0 ? errno : EIO);
			goto done;
		}
		off += (size_t)n;
	}
	if (l->lost > 0) {
		log_warnx("unit %s: %llu line%s of its output lost (%s)",
		    l->unit, (unsigned long long)l->lost, l->lost == 1 ? "" :
		    "s", strerror(l->lost_errno));
		l->lost = 0;
	}
done:
	o->len = 0;
	o->lines = 0;
}

static void
dlog_keep_tail(struct dlog *l, const char *line, size_t len)
{
	char *slot = l->tail[l->ntail % DLOG_TAIL];

	if (len >= DLOG_TAIL_LEN)
		len = DLOG_TAIL_LEN - 1;
	memcpy(slot, line, len);
	slot[len] = '\0';
	l->ntail++;
}

/* One complete line (without its newline) to the destination. */
static void
dlog_line(struct dlog *l, struct dlog_out *o, const char *line, size_t len)
{
	char prefix[128];
	int plen;
	size_t need;

	dlog_keep_tail(l, line, len);
	if (l->dest == DAEMON_LOG_SYSLOG) {
		char ident[96], *copy = xstrndup(line, len);

		snprintf(ident, sizeof(ident), "%s[%ld]", l->unit,
		    (long)l->pid);
		log_syslog_as(ident, LOG_LEVEL_INFO, copy);
		free(copy);
		return;
	}
	if (l->dest == DAEMON_LOG_FILE)
		plen = snprintf(prefix, sizeof(prefix), "%s %s[%ld]: ",
		    o->stamp, l->unit, (long)l->pid);
	else
		plen = snprintf(prefix, sizeof(prefix), "%s[%ld]: ", l->unit,
		    (long)l->pid);
	need = (size_t)plen + len + 1;
	if (o->len + need > sizeof(o->buf))
		dlog_flush(l, o);
	if (l->dest == DAEMON_LOG_FILE && l->file_size > 0 &&
	    l->file_size + o->len + need > l->max_size) {
		dlog_flush(l, o);
		dlog_rotate(l);
	}
	if (need > sizeof(o->buf))
		need = sizeof(o->buf);	/* cannot happen: line <= 4 KiB */
	memcpy(o->buf + o->len, prefix, (size_t)plen);
	memcpy(o->buf + o->len + (size_t)plen, line, need - (size_t)plen - 1);
	o->len += need;
	o->buf[o->len - 1] = '\n';
	o->lines++;
	if (l->dest == DAEMON_LOG_FILE)
		l->file_size += need;
}

static void
dlog_stamp(struct dlog_out *o)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(o->stamp, sizeof(o->stamp), "%.19s.%03d", base,
	    (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Splits what was read into lines; keeps a partial line for later. */
static void
dlog_feed(struct dlog *l, struct dlog_out *o, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = data[i];

		if (c == '\n' || l->len == sizeof(l->line)) {
			dlog_line(l, o, l->line, l->len);
			l->len = 0;
			if (c == '\n')
				continue;
		}
		l->line[l->len++] = c;
	}
}

/*
 * Reads about budget bytes (a read may pass it by one buffer); returns 0
 * at EAGAIN or EOF, 1 if more may wait.
 */
static int
dlog_read(struct dlog *l, size_t budget)
{
	struct dlog_out *o = xmalloc(sizeof(*o));
	char buf[16384];
	size_t total = 0;
	int more = 0;

	o->len = 0;
	o->lines = 0;
	dlog_stamp(o);
	while (total < budget) {
		ssize_t n = read(l->pipe_rd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		dlog_feed(l, o, buf, (size_t)n);
		total += (size_t)n;
	}
	if (total >= budget)
		more = 1;
	dlog_flush(l, o);
	free(o);
	return more;
}

static void
dlog_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)dlog_read(w->data, DLOG_READ_BUDGET);
}

/* Sets up l; the pipe itself is made at the first start (dlog_pipe). */
void
dlog_init(struct dlog *l, struct ev_loop *loop, const char *unit,
    enum daemon_log dest, const char *path, uint64_t max_size, unsigned keep)
{
	memset(l, 0, sizeof(*l));
	l->file_fd = -1;
	l->pipe_rd = l->pipe_wr = -1;
	l->unit = unit;
	l->loop = loop;
	dlog_set_dest(l, dest, path, max_size, keep);
}

/*
 * The write end daemons get as stdout and stderr: made once, kept for the
 * unit's life, so that idle units cost no fds. -errno if it cannot be.
 */
int
dlog_pipe(struct dlog *l)
{
	int p[2];

	if (l->pipe_wr >= 0)
		return l->pipe_wr;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	l->pipe_rd = p[0];
	l->pipe_wr = p[1];
	(void)fcntl(l->pipe_wr, F_SETPIPE_SZ, DLOG_PIPE_SIZE);
	(void)fd_set_nonblock(l->pipe_rd, true);
	ev_io_init(&l->io, dlog_cb, l->pipe_rd, EV_READ);
	l->io.data = l;
	ev_io_start(l->loop, &l->io);
	return l->pipe_wr;
}

/* A running daemon's pipe, inherited across a reexec (reexec.c). */
void
dlog_adopt_pipe(struct dlog *l, int rd, int wr)
{
	dlog_close_pipe(l);
	l->pipe_rd = rd;
	l->pipe_wr = wr;
	(void)fd_set_nonblock(l->pipe_rd, true);
	ev_io_init(&l->io, dlog_cb, l->pipe_rd, EV_READ);
	l->io.data = l;
	ev_io_start(l->loop, &l->io);
}

/* Gives the pipe back (e.g. the broker ran out of fds); see dlog_pipe. */
void
dlog_close_pipe(struct dlog *l)
{
	if (l->pipe_rd < 0)
		return;
	dlog_drain(l);
	ev_io_stop(l->loop, &l->io);
	fd_close(&l->pipe_rd);
	fd_close(&l->pipe_wr);
}

/* A new destination (reload): takes effect from the next line. */
void
dlog_set_dest(struct dlog *l, enum daemon_log dest, const char *path,
    uint64_t max_size, unsigned keep)
{
	fd_close(&l->file_fd);
	free(l->path);
	l->dest = dest;
	l->path = path != NULL ? xstrdup(path) : NULL;
	if (dest == DAEMON_LOG_FILE && l->path == NULL)
		l->dest = DAEMON_LOG_STDERR;
	l->max_size = max_size;
	l->keep = keep;
}

/* Bytes waiting in the pipe, 0 if none or unknown. */
static size_t
dlog_pending(const struct dlog *l)
{
	int n = 0;

	if (ioctl(l->pipe_rd, FIONREAD, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

/*
 * What is in the pipe now, e.g. a dead daemon's last words: at most the
 * pipe's size, never "until it is empty", since a child the daemon left
 * behind may keep writing to it for ever; the watcher reads the rest, a
 * budget per wake-up. A last line without newline is written only if
 * nothing follows it yet.
 */
void
dlog_drain(struct dlog *l)
{
	size_t n;

	if (l->pipe_rd < 0)
		return;
	n = dlog_pending(l);
	if (n > DLOG_PIPE_SIZE)
		n = DLOG_PIPE_SIZE;
	if (n > 0)
		(void)dlog_read(l, n);
	if (l->len > 0 && dlog_pending(l) == 0) {
		struct dlog_out *o = xmalloc(sizeof(*o));

		o->len = 0;
		o->lines = 0;
		dlog_stamp(o);
		dlog_line(l, o, l->line, l->len);
		l->len = 0;
		dlog_flush(l, o);
		free(o);
	}
}

/* The last n lines, oldest first, joined with " | ". */
void
dlog_tail(const struct dlog *l, unsigned n, char *buf, size_t size)
{
	unsigned have = l->ntail < DLOG_TAIL ? l->ntail : DLOG_TAIL;
	size_t len = 0;

	buf[0] = '\0';
	if (n > have)
		n = have;
	for (unsigned i = 0; i < n; i++) {
		const char *s = l->tail[(l->ntail - n + i) % DLOG_TAIL];
		int w = snprintf(buf + len, size - len, "%s%s",
		    i > 0 ? " | " : "", s);

		if (w < 0 || (size_t)w >= size - len)
			break;
		len += (size_t)w;
	}
}

void
dlog_close(struct dlog *l)
{
	dlog_close_pipe(l);
	fd_close(&l->file_fd);
	free(l->path);
	l->path = NULL;
}
