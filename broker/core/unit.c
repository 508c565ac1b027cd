/* SPDX-License-Identifier: MIT */
/*
 * Pure: the unit state machine.
 *
 *   LISTENING --CONNECT|LAUNCH--> STARTING --EXEC_OK--> RUNNING
 *   STARTING|RUNNING --EXIT--> LISTENING       clean exit, nobody queued
 *                          \-> BACKOFF         a failure (below)
 *                          \-> FAILED          start limit, or exec failed
 *   STARTING|RUNNING --STOP--> STOPPING --TIMER--> (SIGKILL) --EXIT-->
 *   LISTENING
 *   BACKOFF --TIMER--> LISTENING, or STARTING when it must relaunch
 *   FAILED --TIMER (cool-down)|RESET--> LISTENING; FAILED --CONNECT--> refuse
 *   ADOPTED --EXIT--> LISTENING   the adopted daemon is gone, R is ours
 *
 * A failure is an exit that leaves a client queued, whatever its status
 * (LIBVIRT.md: a daemon can exit 0 without serving anyone, or exit 6 over
 * unclaimed fds, and the queued client keeps the socket readable), a
 * non-zero exit or a signal, or any exit of an at-launch unit that must be
 * restarted. start_limit_burst failures within start_limit_interval make
 * the unit FAILED, so a broken daemon is never respawned in a tight loop.
 * STARTING takes EXIT too: ev_child runs at EV_MAXPRI and can beat the
 * exec pipe's EOF.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"

static const char *const unit_state_names[UNIT_STATE_MAX] = {
	[UNIT_LISTENING] = "listening",
	[UNIT_STARTING] = "starting",
	[UNIT_RUNNING] = "running",
	[UNIT_STOPPING] = "stopping",
	[UNIT_BACKOFF] = "backoff",
	[UNIT_FAILED] = "failed",
	[UNIT_ADOPTED] = "adopted",
};

static const char *const unit_event_names[UNIT_EV_MAX] = {
	[UNIT_EV_CONNECT] = "connect",
	[UNIT_EV_LAUNCH] = "launch",
	[UNIT_EV_EXEC_OK] = "exec-ok",
	[UNIT_EV_EXEC_FAILED] = "exec-failed",
	[UNIT_EV_EXIT] = "exit",
	[UNIT_EV_TIMER] = "timer",
	[UNIT_EV_STOP] = "stop",
	[UNIT_EV_RESET] = "reset",
};

const char *
unit_state_name(enum unit_state s)
{
	return s < UNIT_STATE_MAX ? unit_state_names[s] : "?";
}

const char *
unit_event_name(enum unit_event e)
{
	return e < UNIT_EV_MAX ? unit_event_names[e] : "?";
}

void
unit_policy_default(struct unit_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->start = START_ON_DEMAND;
	p->restart = RESTART_ON_FAILURE;
	p->start_limit_burst = 5;
	p->start_limit_interval_ms = 10000;
	p->failed_cooldown_ms = 30000;
	p->stop_timeout_ms = 30000;
	p->backoff_min_ms = 100;
	p->backoff_max_ms = 10000;
	p->backoff_reset_ms = 60000;
}

void
unit_sm_init(struct unit_sm *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->state = UNIT_LISTENING;
}

static void
forget_failures(struct unit_sm *sm)
{
	sm->nfail = 0;
	sm->backoff_ms = 0;
}

static unsigned
burst(const struct unit_policy *p)
{
	if (p->start_limit_burst == 0)
		return 1;
	return p->start_limit_burst < UNIT_MAX_BURST ?
	    p->start_limit_burst : UNIT_MAX_BURST;
}

/* Failures within the start-limit interval ending at now_ms. */
unsigned
unit_recent_failures(const struct unit_sm *sm, const struct unit_policy *p,
    uint64_t now_ms)
{
	unsigned n = 0, kept = sm->nfail < burst(p) ? sm->nfail : burst(p);

	for (unsigned i = 0; i < kept; i++) {
		uint64_t t = sm->fail_ms[(sm->nfail - 1 - i) % UNIT_MAX_BURST];

		if (now_ms - t < p->start_limit_interval_ms)
			n++;
	}
	return n;
}

static void
record_failure(struct unit_sm *sm, uint64_t now_ms)
{
	sm->fail_ms[sm->nfail % UNIT_MAX_BURST] = now_ms;
	sm->nfail++;
}

static uint64_t
next_backoff(struct unit_sm *sm, const struct unit_policy *p)
{
	uint64_t d = sm->backoff_ms < p->backoff_min_ms ?
	    p->backoff_min_ms : sm->backoff_ms;

	sm->backoff_ms = d * 2 > p->backoff_max_ms ? p->backoff_max_ms : d * 2;
	return d > p->backoff_max_ms ? p->backoff_max_ms : d;
}

static void
to_failed(const struct unit_policy *p, bool pending, struct unit_step *st)
{
	st->next = UNIT_FAILED;
	st->actions |= UNIT_ACT_GAVE_UP | (pending ? UNIT_ACT_REFUSE : 0);
	st->timer_ms = p->failed_cooldown_ms;
}

static void
handle_exit(struct unit_sm *sm, const struct unit_policy *p,
    const struct unit_input *in, struct unit_step *st)
{
	bool relaunch = p->start == START_AT_LAUNCH &&
	    (p->restart == RESTART_ALWAYS ||
	    (p->restart == RESTART_ON_FAILURE && in->exit_failed));

	if (in->now_ms - sm->started_ms >= p->backoff_reset_ms)
		sm->backoff_ms = 0;
	if (sm->exec_failed) {
		record_failure(sm, in->now_ms);
		to_failed(p, in->pending, st);
		return;
	}
	if (!in->pending && !in->exit_failed && !relaunch) {
		st->next = UNIT_LISTENING;
		return;
	}
	record_failure(sm, in->now_ms);
	if (unit_recent_failures(sm, p, in->now_ms) >= burst(p)) {
		to_failed(p, in->pending, st);
		return;
	}
	sm->relaunch = relaunch;
	st->next = UNIT_BACKOFF;
	st->timer_ms = next_backoff(sm, p);
}

static void
spawn(struct unit_sm *sm, const struct unit_input *in, struct unit_step *st)
{
	st->next = UNIT_STARTING;
	st->actions |= UNIT_ACT_SPAWN;
	sm->started_ms = in->now_ms;
	sm->exec_failed = false;
	sm->relaunch = false;
}

static void
stop(const struct unit_policy *p, struct unit_step *st)
{
	st->next = UNIT_STOPPING;
	st->actions |= UNIT_ACT_TERM;
	st->timer_ms = p->stop_timeout_ms;
}

/*
 * The transition function. Returns 0 and fills ret_step, or -EINVAL when
 * the event cannot happen in this state (sm is then left unchanged). It
 * updates the counters in sm but not sm->state: the caller sets that to
 * ret_step->next, in one place, where it is logged.
 */
int
unit_next(struct unit_sm *sm, const struct unit_policy *p,
    const struct unit_input *in, struct unit_step *ret_step)
{
	struct unit_step st = { .next = sm->state };

	switch (sm->state) {
	case UNIT_LISTENING:
		switch (in->ev) {
		case UNIT_EV_CONNECT:
		case UNIT_EV_LAUNCH:
			spawn(sm, in, &st);
			break;
		case UNIT_EV_STOP:
			break;
		case UNIT_EV_RESET:
			forget_failures(sm);
			break;
		case UNIT_EV_EXEC_OK:
		case UNIT_EV_EXEC_FAILED:
		case UNIT_EV_EXIT:
		case UNIT_EV_TIMER:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_STARTING:
	case UNIT_RUNNING:
		switch (in->ev) {
		case UNIT_EV_EXEC_OK:
			if (sm->state != UNIT_STARTING)
				return -EINVAL;
			st.next = UNIT_RUNNING;
			break;
		case UNIT_EV_EXEC_FAILED:
			if (sm->state != UNIT_STARTING)
				return -EINVAL;
			sm->exec_failed = true;	/* EXIT follows */
			break;
		case UNIT_EV_EXIT:
			handle_exit(sm, p, in, &st);
			break;
		case UNIT_EV_STOP:
			stop(p, &st);
			break;
		case UNIT_EV_LAUNCH:
			break;
		case UNIT_EV_RESET:
			forget_failures(sm);
			break;
		case UNIT_EV_CONNECT:
		case UNIT_EV_TIMER:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_STOPPING:
		switch (in->ev) {
		case UNIT_EV_EXIT:
			st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_TIMER:
			st.actions |= UNIT_ACT_KILL;
			break;
		case UNIT_EV_EXEC_OK:
		case UNIT_EV_EXEC_FAILED:
		case UNIT_EV_STOP:
		case UNIT_EV_LAUNCH:
			break;
		case UNIT_EV_RESET:
			forget_failures(sm);
			break;
		case UNIT_EV_CONNECT:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_BACKOFF:
		switch (in->ev) {
		case UNIT_EV_TIMER:
			if (sm->relaunch)
				spawn(sm, in, &st);
			else
				st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_LAUNCH:
			spawn(sm, in, &st);
			break;
		case UNIT_EV_STOP:
			st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_RESET:
			forget_failures(sm);
			st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_CONNECT:
		case UNIT_EV_EXEC_OK:
		case UNIT_EV_EXEC_FAILED:
		case UNIT_EV_EXIT:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_FAILED:
		switch (in->ev) {
		case UNIT_EV_CONNECT:
			st.actions |= UNIT_ACT_REFUSE;
			break;
		case UNIT_EV_TIMER:
		case UNIT_EV_RESET:
			forget_failures(sm);
			st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_LAUNCH:
			forget_failures(sm);
			spawn(sm, in, &st);
			break;
		case UNIT_EV_STOP:
			break;
		case UNIT_EV_EXEC_OK:
		case UNIT_EV_EXEC_FAILED:
		case UNIT_EV_EXIT:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_ADOPTED:
		/* Not ours to start or stop: wait for it to exit. */
		switch (in->ev) {
		case UNIT_EV_EXIT:
			st.next = UNIT_LISTENING;
			break;
		case UNIT_EV_STOP:
		case UNIT_EV_LAUNCH:
			break;
		case UNIT_EV_RESET:
			forget_failures(sm);
			break;
		case UNIT_EV_CONNECT:
		case UNIT_EV_EXEC_OK:
		case UNIT_EV_EXEC_FAILED:
		case UNIT_EV_TIMER:
		case UNIT_EV_MAX:
			return -EINVAL;
		}
		break;
	case UNIT_STATE_MAX:
		return -EINVAL;
	}
	*ret_step = st;	/* the edge's unit_set_state() writes state */
	return 0;
}
