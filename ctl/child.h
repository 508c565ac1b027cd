/* SPDX-License-Identifier: MIT */
/*
 * Edge: work that may hang, done in child processes with one deadline.
 * Each child runs a function that writes lines to a pipe; the parent
 * collects them and kills whatever has not finished when the deadline
 * passes, so a daemon that never answers costs the deadline, not a hang.
 */
#ifndef VB_CHILD_H
#define VB_CHILD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Runs in the child; returns its exit status. */
typedef int child_fn(void *arg, FILE *out);

struct child {
	pid_t	 pid;		/* 0: not started */
	int	 fd;		/* read end; -1 once at EOF */
	char	*out;		/* what the child wrote, NUL-ended */
	size_t	 len;
	int	 status;	/* exit status; -1 if killed or failed */
	int	 signo;		/* the signal that killed it, or 0 */
	bool	 timed_out;
};

int	child_start(struct child *c, child_fn *fn, void *arg);
void	child_wait(struct child *c, size_t n, int timeout_ms);
void	child_free(struct child *c);

#endif
