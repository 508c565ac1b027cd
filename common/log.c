/* SPDX-License-Identifier: MIT */
/*
 * Edge: the broker's own messages. The only static state in the project is
 * here: what log_init() writes once (ident, level, destination), and the
 * ring of the last warnings (log_keep).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "virt-broker";
static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_syslog;
static struct {
	time_t	when;
	char	text[LOG_RECENT_LEN];
} log_ring[LOG_RECENT];
static unsigned log_ring_n;	/* warnings ever kept; next slot mod */

unsigned
log_recent_count(void)
{
	return log_ring_n < LOG_RECENT ? log_ring_n : LOG_RECENT;
}

const char *
log_recent(unsigned i, time_t *ret_when)
{
	unsigned first = log_ring_n < LOG_RECENT ? 0 : log_ring_n % LOG_RECENT;
	unsigned slot = (first + i) % LOG_RECENT;

	if (ret_when != NULL)
		*ret_when = log_ring[slot].when;
	return log_ring[slot].text;
}

void
log_recent_clear(void)
{
	log_ring_n = 0;
}

static void
log_keep(const char *line)
{
	unsigned slot = log_ring_n++ % LOG_RECENT;

	log_ring[slot].when = time(NULL);
	snprintf(log_ring[slot].text, sizeof(log_ring[slot].text), "%s",
	    line);
}

void
log_init(const char *ident, enum log_level level, bool to_syslog)
{
	log_ident = ident;
	log_level = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/*
 * All of iov to fd, as one writev() unless it is cut short. Not stdio:
 * fprintf() to the unbuffered stderr formats through an 8 KiB buffer on
 * the stack, whose pages the idle broker would keep for nothing.
 */
static void
write_iov(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

static void
log_emit(enum log_level level, const char *line)
{
	static const int prio[LOG_LEVEL_MAX] = {
		[LOG_LEVEL_ERR] = LOG_ERR,
		[LOG_LEVEL_WARN] = LOG_WARNING,
		[LOG_LEVEL_INFO] = LOG_INFO,
		[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	};
	struct iovec iov[] = {		/* "ident: line\n" */
		{ (char *)log_ident, strlen(log_ident) },
		{ (char *)": ", 2 },
		{ (char *)line, strlen(line) },
		{ (char *)"\n", 1 },
	};

	if (level <= LOG_LEVEL_WARN)
		log_keep(line);
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	write_iov(STDERR_FILENO, iov, sizeof(iov) / sizeof(iov[0]));
}

/*
 * One line to syslog under another ident (a daemon's "name[pid]"), then
 * back to the broker's own. openlog() only records the ident here.
 */
void
log_syslog_as(const char *ident, enum log_level level, const char *line)
{
	static const int prio[LOG_LEVEL_MAX] = {
		[LOG_LEVEL_ERR] = LOG_ERR,
		[LOG_LEVEL_WARN] = LOG_WARNING,
		[LOG_LEVEL_INFO] = LOG_INFO,
		[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	};

	openlog(ident, 0, LOG_DAEMON);
	syslog(prio[level], "%s", line);
	openlog(log_ident, LOG_PID, LOG_DAEMON);
}

void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;

	if (log_enabled(level)) {
		vsnprintf(line, sizeof(line), fmt, ap);
		log_emit(level, line);
	}
	errno = saved;
}

/* The message, then ": " and the text of errno e, as OpenBSD's log_warn(). */
static void
vlog_errno(enum log_level level, int e, const char *fmt, va_list ap)
	LOG_PRINTF(3, 0);

static void
vlog_errno(enum log_level level, int e, const char *fmt, va_list ap)
{
	char msg[1536], line[2048];

	if (log_enabled(level)) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		snprintf(line, sizeof(line), "%s: %s", msg, strerror(e));
		log_emit(level, line);
	}
	errno = e;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_LEVEL_WARN, e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_LEVEL_ERR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
