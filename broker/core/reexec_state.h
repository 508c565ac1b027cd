/* SPDX-License-Identifier: MIT */
/*
 * Pure: what a broker tells the broker it re-executes, beyond the fds that
 * the new one finds by itself (inherit.h): each unit's history. A text
 * format with a version line; a broker that reads another version, or a
 * line it cannot parse, says so and starts without the history.
 *
 *   virt-broker-state 1
 *   unit NAME activations=N reloads=N ready_ms=N since=N exited=0|1
 *        last_status=N exec_ms=N adopted=PID pid=PID fails=MS,MS,...
 *
 * (adopted: the daemon the broker did not start but watched, 0 if none;
 * pid: its own daemon, 0 if none, which is how a unit without sockets (a
 * user's broker) finds its child again; a state without them, from a
 * broker before them, reads as 0).
 *
 * (one line per unit; times: monotonic ms, wall-clock seconds for since).
 */
#ifndef VB_REEXEC_STATE_H
#define VB_REEXEC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strmap.h"
#include "unit.h"

#define REEXEC_STATE_VERSION	1
#define REEXEC_STATE_ENV	"VIRT_BROKER_REEXEC_FD"

struct reexec_unit {
	char		*name;
	unsigned	 activations;
	unsigned	 reloads;
	long		 ready_ms;
	long long	 since;
	bool		 exited_once;
	int		 last_status;
	uint64_t	 exec_ms;
	pid_t		 adopted_pid;	/* 0: none */
	pid_t		 pid;		/* its daemon; 0: none */
	unsigned	 nfail;
	uint64_t	 fail_ms[UNIT_MAX_BURST];
};

struct reexec_state {
	struct reexec_unit	*units;
	size_t			 nunits;
	struct strmap		 index;		/* name -> index in units */
};

char	*reexec_state_format(const struct reexec_state *st);
int	 reexec_state_parse(const char *text, struct reexec_state *ret_st,
	    char *err, size_t errsize);
const struct reexec_unit *reexec_state_find(const struct reexec_state *st,
	    const char *name);
void	 reexec_state_add(struct reexec_state *st, const struct reexec_unit *u);
void	 reexec_state_free(struct reexec_state *st);

#endif
