/* SPDX-License-Identifier: MIT */
/*
 * Edge: a unit's output. A daemon's stdout and stderr are a pipe the broker
 * reads; it writes whole lines, timestamped, to a rotated file, syslog or
 * its own stderr, and keeps the last few for messages and status.
 *
 * A unit that never started has no pipe and no buffers. The pipe is made
 * at a start, and only the daemon (and whatever it leaves behind) keeps the
 * write end: the broker gives its own away, so EOF says that no process
 * writes any more. Then the pipe and the log file are closed and the last
 * partial line written; what stays is the last lines, each kept at its own
 * length, since status and the "gave up" message show them after the exit.
 * A start while a process the last daemon left still writes shares the
 * pipe with it.
 */
#ifndef VB_DAEMONLOG_H
#define VB_DAEMONLOG_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define DLOG_LINE_MAX	4096	/* longer lines are split */
#define DLOG_TAIL	10	/* last lines kept for messages */
#define DLOG_TAIL_LEN	240	/* bytes kept of each, with NUL */

struct dlog {
	const char	*unit;		/* the unit's name (not owned) */
	enum daemon_log	 dest;
	char		*path;		/* dest = file */
	uint64_t	 max_size;
	unsigned	 keep;
	int		 file_fd;	/* -1: not open */
	uint64_t	 file_size;
	int		 pipe_rd;	/* the broker reads; -1: no pipe */
	int		 pipe_wr;	/* until a daemon has it; else -1 */
	ev_io		 io;
	struct ev_loop	*loop;
	pid_t		 pid;		/* the daemon writing now */
	char		*line;		/* a partial line; NULL: none */
	size_t		 len;		/* of the partial line */
	uint64_t	 lost;		/* lines not written since the last
					   report */
	int		 lost_errno;
	char		**tail;		/* DLOG_TAIL lines, a ring; NULL */
	unsigned	 ntail;		/* lines ever kept; ring index */
};

void	dlog_init(struct dlog *l, struct ev_loop *loop, const char *unit,
	    enum daemon_log dest, const char *path, uint64_t max_size,
	    unsigned keep);
int	dlog_pipe(struct dlog *l);
int	dlog_reopen_wr(struct dlog *l);
void	dlog_handed_over(struct dlog *l);
void	dlog_close_pipe(struct dlog *l);
void	dlog_adopt_pipe(struct dlog *l, int rd);
void	dlog_set_dest(struct dlog *l, const char *unit, enum daemon_log dest,
	    const char *path, uint64_t max_size, unsigned keep);
void	dlog_drain(struct dlog *l);
unsigned dlog_tail_count(const struct dlog *l);
const char *dlog_tail_line(const struct dlog *l, unsigned i);
void	dlog_tail(const struct dlog *l, unsigned n, char *buf, size_t size);
void	dlog_close(struct dlog *l);

#endif
