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
 *
 * Memory follows the pipe (daemonlog.h): complete lines are written from
 * the read buffer itself, only a partial line waiting for its end is
 * copied (into a buffer made for it, freed once the line is out), and the
 * tail keeps each line at its own length.
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
	char **slot;

	if (len >= DLOG_TAIL_LEN)
		len = DLOG_TAIL_LEN - 1;
	if (l->tail == NULL)
		l->tail = xcalloc(DLOG_TAIL, sizeof(*l->tail));
	slot = &l->tail[l->ntail % DLOG_TAIL];
	*slot = xreallocarray(*slot, len + 1, 1);
	memcpy(*slot, line, len);
	(*slot)[len] = '\0';
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

static struct dlog_out *
dlog_out_new(void)
{
	struct dlog_out *o = xmalloc(sizeof(*o));

	o->len = 0;
	o->lines = 0;
	dlog_stamp(o);
	return o;
}

/* Adds data[0..n-1] to the partial line (it fits: len + n <= the max). */
static void
dlog_hold(struct dlog *l, const char *data, size_t n)
{
	if (n == 0)
		return;
	l->line = xreallocarray(l->line, l->len + n, 1);
	memcpy(l->line + l->len, data, n);
	l->len += n;
}

static void
dlog_forget_line(struct dlog *l)
{
	free(l->line);
	l->line = NULL;
	l->len = 0;
}

/*
 * Splits what was read into lines of at most DLOG_LINE_MAX bytes: at a
 * newline, or where a longer line reaches the max (the next byte, if not
 * a newline, starts the next line). A partial line is kept for later.
 */
static void
dlog_feed(struct dlog *l, struct dlog_out *o, const char *data, size_t n)
{
	while (n > 0) {
		size_t room = DLOG_LINE_MAX - l->len;
		size_t scan = n < room + 1 ? n : room + 1;
		const char *nl = memchr(data, '\n', scan);
		size_t take, eat;

		if (nl != NULL) {
			take = (size_t)(nl - data);
			eat = take + 1;
		} else if (n > room) {
			take = eat = room;	/* full: cut here */
		} else {
			dlog_hold(l, data, n);	/* waits for its end */
			return;
		}
		if (l->len > 0) {
			dlog_hold(l, data, take);
			dlog_line(l, o, l->line, l->len);
			dlog_forget_line(l);
		} else {
			dlog_line(l, o, data, take);
		}
		data += eat;
		n -= eat;
	}
}

/* The last partial line, as a line of its own. */
static void
dlog_write_partial(struct dlog *l)
{
	struct dlog_out *o;

	if (l->len == 0)
		return;
	o = dlog_out_new();
	dlog_line(l, o, l->line, l->len);
	dlog_forget_line(l);
	dlog_flush(l, o);
	free(o);
}

/* What a dlog_read() ended at. */
enum dlog_read_end {
	DLOG_READ_EMPTY,	/* nothing to read now (or an error) */
	DLOG_READ_MORE,		/* the budget ran out: more may wait */
	DLOG_READ_EOF,		/* no process writes any more */
};

/* Reads about budget bytes (a read may pass it by one buffer). */
static enum dlog_read_end
dlog_read(struct dlog *l, size_t budget)
{
	struct dlog_out *o = dlog_out_new();
	char buf[16384];
	size_t total = 0;
	enum dlog_read_end end = DLOG_READ_EMPTY;

	while (total < budget) {
		ssize_t n = read(l->pipe_rd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			end = DLOG_READ_EOF;
		if (n <= 0)
			break;
		dlog_feed(l, o, buf, (size_t)n);
		total += (size_t)n;
	}
	if (total >= budget)
		end = DLOG_READ_MORE;
	dlog_flush(l, o);
	free(o);
	return end;
}

/*
 * No process writes any more: the last partial line goes out, the pipe and
 * the log file are closed. The tail stays.
 */
static void
dlog_finish(struct dlog *l)
{
	dlog_write_partial(l);
	ev_io_stop(l->loop, &l->io);
	fd_close(&l->pipe_rd);
	fd_close(&l->pipe_wr);
	fd_close(&l->file_fd);
	log_debug("unit %s: output pipe closed: no process writes to it",
	    l->unit);
}

static void
dlog_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dlog *l = w->data;

	(void)loop;
	(void)revents;
	if (dlog_read(l, DLOG_READ_BUDGET) == DLOG_READ_EOF)
		dlog_finish(l);
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
	dlog_set_dest(l, unit, dest, path, max_size, keep);
}

static void
dlog_watch(struct dlog *l)
{
	(void)fd_set_nonblock(l->pipe_rd, true);
	ev_io_init(&l->io, dlog_cb, l->pipe_rd, EV_READ);
	l->io.data = l;
	ev_io_start(l->loop, &l->io);
}

/*
 * A write end for the pipe others write to (opened again through /proc),
 * until dlog_handed_over(); -errno if there is no pipe or it cannot be.
 */
int
dlog_reopen_wr(struct dlog *l)
{
	char path[32];

	if (l->pipe_wr >= 0)
		return l->pipe_wr;
	if (l->pipe_rd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", l->pipe_rd);
	l->pipe_wr = open(path, O_WRONLY | O_CLOEXEC);
	return l->pipe_wr >= 0 ? l->pipe_wr : -errno;
}

/*
 * The write end a daemon about to start gets as stdout and stderr, until
 * dlog_handed_over(); -errno if it cannot be made. A pipe that a process
 * the last daemon left behind still writes to is shared with it (else
 * that process would lose it).
 */
int
dlog_pipe(struct dlog *l)
{
	int p[2];

	if (l->pipe_rd >= 0) {
		if (dlog_reopen_wr(l) >= 0)
			return l->pipe_wr;
		dlog_close_pipe(l);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	l->pipe_rd = p[0];
	l->pipe_wr = p[1];
	(void)fcntl(l->pipe_wr, F_SETPIPE_SZ, DLOG_PIPE_SIZE);
	dlog_watch(l);
	return l->pipe_wr;
}

/*
 * The daemon has the write end now (or none will: its spawn failed). The
 * broker closes its own, so that EOF comes once no process writes.
 */
void
dlog_handed_over(struct dlog *l)
{
	fd_close(&l->pipe_wr);
}

/* A running daemon's pipe, inherited across a reexec (reexec.c). */
void
dlog_adopt_pipe(struct dlog *l, int rd)
{
	dlog_close_pipe(l);
	l->pipe_rd = rd;
	dlog_watch(l);
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

/*
 * A new destination (reload): takes effect from the next line. unit is the
 * name in the unit's new spec: the old spec's string is freed.
 */
void
dlog_set_dest(struct dlog *l, const char *unit, enum daemon_log dest,
    const char *path, uint64_t max_size, unsigned keep)
{
	l->unit = unit;
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
 * budget per wake-up. Then EOF, if no process writes any more, closes the
 * pipe (dlog_finish). A last line without newline is written only if
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
	if (dlog_pending(l) > 0)
		return;
	if (dlog_read(l, 1) == DLOG_READ_EOF)	/* EAGAIN while one writes */
		dlog_finish(l);
	else if (dlog_pending(l) == 0)
		dlog_write_partial(l);
}

/* How many of the last lines are kept (at most DLOG_TAIL). */
unsigned
dlog_tail_count(const struct dlog *l)
{
	return l->ntail < DLOG_TAIL ? l->ntail : DLOG_TAIL;
}

/* Kept line i, 0 the oldest, i < dlog_tail_count(). */
const char *
dlog_tail_line(const struct dlog *l, unsigned i)
{
	return l->tail[(l->ntail - dlog_tail_count(l) + i) % DLOG_TAIL];
}

/* The last n lines, oldest first, joined with " | ". */
void
dlog_tail(const struct dlog *l, unsigned n, char *buf, size_t size)
{
	unsigned have = dlog_tail_count(l);
	size_t len = 0;

	buf[0] = '\0';
	if (n > have)
		n = have;
	for (unsigned i = 0; i < n; i++) {
		const char *s = dlog_tail_line(l, have - n + i);
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
	dlog_forget_line(l);
	for (unsigned i = 0; l->tail != NULL && i < DLOG_TAIL; i++)
		free(l->tail[i]);
	free(l->tail);
	l->tail = NULL;
	l->ntail = 0;
}
