/* SPDX-License-Identifier: MIT */
/*
 * Pure: a unit's state machine. unit_next() is the transition function:
 * (state, event, now, policy) -> (next state, actions, timer). It makes no
 * syscall; the lifecycle (lifecycle/supervise.c) feeds it events and carries
 * out its actions.
 */
#ifndef VB_UNIT_H
#define VB_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum unit_state {
	UNIT_LISTENING,		/* no process; sockets watched */
	UNIT_STARTING,		/* forked; exec not yet confirmed */
	UNIT_RUNNING,		/* exec'd; the daemon owns accept() */
	UNIT_STOPPING,		/* SIGTERM sent; SIGKILL at the timer */
	UNIT_BACKOFF,		/* after a failed start; waits, then retries */
	UNIT_FAILED,		/* start limit hit; connections refused */
	UNIT_ADOPTED,		/* a daemon we did not start serves R */
	UNIT_STATE_MAX
};

enum unit_event {
	UNIT_EV_CONNECT,	/* a listening socket became readable */
	UNIT_EV_LAUNCH,		/* start now: at-launch, or an operator */
	UNIT_EV_EXEC_OK,	/* EOF on the exec-status pipe */
	UNIT_EV_EXEC_FAILED,	/* an errno came through that pipe */
	UNIT_EV_EXIT,		/* the daemon's pid was reaped */
	UNIT_EV_TIMER,		/* the unit's timer fired */
	UNIT_EV_STOP,		/* stop the daemon, keep the sockets */
	UNIT_EV_RESET,		/* leave failed, forget past failures */
	UNIT_EV_MAX
};

enum unit_action {
	UNIT_ACT_SPAWN		= 1 << 0,	/* fork and exec the daemon */
	UNIT_ACT_TERM		= 1 << 1,	/* SIGTERM its pid */
	UNIT_ACT_KILL		= 1 << 2,	/* SIGKILL its pid */
	UNIT_ACT_REFUSE		= 1 << 3,	/* accept and close pending */
	UNIT_ACT_GAVE_UP	= 1 << 4,	/* say why the unit failed */
};

#define UNIT_MAX_BURST 64

struct unit_policy {
	enum start_policy	 start;
	enum restart_policy	 restart;
	unsigned		 start_limit_burst;	/* <= UNIT_MAX_BURST */
	uint64_t		 start_limit_interval_ms;
	uint64_t		 failed_cooldown_ms;
	uint64_t		 stop_timeout_ms;
	uint64_t		 backoff_min_ms;
	uint64_t		 backoff_max_ms;
	uint64_t		 backoff_reset_ms;	/* lived this long: reset */
};

/* The part of a unit the transition function reads and writes. */
struct unit_sm {
	enum unit_state	 state;
	bool		 exec_failed;	/* this start's exec failed */
	bool		 relaunch;	/* BACKOFF ends in a start */
	uint64_t	 started_ms;	/* last spawn */
	uint64_t	 backoff_ms;	/* next delay; 0: policy minimum */
	unsigned	 nfail;		/* failures recorded, ring below */
	uint64_t	 fail_ms[UNIT_MAX_BURST];
};

struct unit_input {
	enum unit_event	 ev;
	uint64_t	 now_ms;	/* monotonic */
	bool		 pending;	/* EXIT: a client is still queued */
	bool		 exit_failed;	/* EXIT: non-zero status or signal */
};

struct unit_step {
	enum unit_state	 next;
	unsigned	 actions;	/* enum unit_action bits */
	uint64_t	 timer_ms;	/* > 0: (re)arm the timer */
};

void		 unit_policy_default(struct unit_policy *p);
void		 unit_sm_init(struct unit_sm *sm);
int		 unit_next(struct unit_sm *sm, const struct unit_policy *p,
		    const struct unit_input *in, struct unit_step *ret_step);
unsigned	 unit_recent_failures(const struct unit_sm *sm,
		    const struct unit_policy *p, uint64_t now_ms);
const char	*unit_state_name(enum unit_state s);
const char	*unit_event_name(enum unit_event e);

#endif
