/* SPDX-License-Identifier: MIT */
/*
 * Edge: a unit's output. Each unit has one pipe for its whole life; every
 * daemon it starts writes stdout and stderr into it, and the broker writes
 * whole lines, timestamped, to a rotated file, syslog or its own stderr.
 */
#ifndef VB_DAEMONLOG_H
#define VB_DAEMONLOG_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define DLOG_LINE_MAX	4096	/* longer lines are split */
#define DLOG_TAIL	10	/* last lines kept for messages */
#define DLOG_TAIL_LEN	240

struct dlog {
	const char	*unit;		/* the unit's name (not owned) */
	enum daemon_log	 dest;
	char		*path;		/* dest = file */
	uint64_t	 max_size;
	unsigned	 keep;
	int		 file_fd;	/* -1: not open */
	uint64_t	 file_size;
	int		 pipe_rd;	/* the broker reads */
	int		 pipe_wr;	/* daemons write (as fds 1 and 2) */
	ev_io		 io;
	struct ev_loop	*loop;
	pid_t		 pid;		/* the daemon writing now */
	char		 line[DLOG_LINE_MAX];
	size_t		 len;		/* of the partial line */
	uint64_t	 lost;		/* lines not written since the last
					   report */
	int		 lost_errno;
	char		 tail[DLOG_TAIL][DLOG_TAIL_LEN];
	unsigned	 ntail;		/* lines ever kept; ring index */
};

void	dlog_init(struct dlog *l, struct ev_loop *loop, const char *unit,
	    enum daemon_log dest, const char *path, uint64_t max_size,
	    unsigned keep);
int	dlog_pipe(struct dlog *l);
void	dlog_close_pipe(struct dlog *l);
void	dlog_adopt_pipe(struct dlog *l, int rd, int wr);
void	dlog_set_dest(struct dlog *l, enum daemon_log dest, const char *path,
	    uint64_t max_size, unsigned keep);
void	dlog_drain(struct dlog *l);
void	dlog_tail(const struct dlog *l, unsigned n, char *buf, size_t size);
void	dlog_close(struct dlog *l);

#endif
