/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/unit.c: every (state, event) pair of unit_next()
 * against a table, then scenarios (activation, backoff, start limit,
 * restart policies, stop). unit_next() does not write sm->state: feed()
 * does, as supervise.c's unit_set_state() does.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#define INVALID (-1)

/*
 * The transition table, from the diagram at the top of broker/core/unit.c and
 * the event comments in unit.h, for a fresh unit_sm (no failures, no
 * relaunch pending), the default policy (on-demand, on-failure) and an
 * input with no client pending and a clean exit status.
 */
static const int next_table[UNIT_STATE_MAX][UNIT_EV_MAX] = {
	[UNIT_LISTENING] = {
		[UNIT_EV_CONNECT] = UNIT_STARTING,
		[UNIT_EV_LAUNCH] = UNIT_STARTING,
		[UNIT_EV_EXEC_OK] = INVALID,
		[UNIT_EV_EXEC_FAILED] = INVALID,
		[UNIT_EV_EXIT] = INVALID,
		[UNIT_EV_TIMER] = INVALID,
		[UNIT_EV_STOP] = UNIT_LISTENING,	/* nothing to stop */
		[UNIT_EV_RESET] = UNIT_LISTENING,
	},
	[UNIT_STARTING] = {
		[UNIT_EV_CONNECT] = INVALID,		/* not watched */
		[UNIT_EV_LAUNCH] = UNIT_STARTING,	/* already starting */
		[UNIT_EV_EXEC_OK] = UNIT_RUNNING,
		[UNIT_EV_EXEC_FAILED] = UNIT_STARTING,	/* EXIT follows */
		[UNIT_EV_EXIT] = UNIT_LISTENING,	/* clean, no client */
		[UNIT_EV_TIMER] = INVALID,
		[UNIT_EV_STOP] = UNIT_STOPPING,
		[UNIT_EV_RESET] = UNIT_STARTING,
	},
	[UNIT_RUNNING] = {
		[UNIT_EV_CONNECT] = INVALID,
		[UNIT_EV_LAUNCH] = UNIT_RUNNING,
		[UNIT_EV_EXEC_OK] = INVALID,
		[UNIT_EV_EXEC_FAILED] = INVALID,
		[UNIT_EV_EXIT] = UNIT_LISTENING,
		[UNIT_EV_TIMER] = INVALID,
		[UNIT_EV_STOP] = UNIT_STOPPING,
		[UNIT_EV_RESET] = UNIT_RUNNING,
	},
	[UNIT_STOPPING] = {
		[UNIT_EV_CONNECT] = INVALID,
		[UNIT_EV_LAUNCH] = UNIT_STOPPING,
		[UNIT_EV_EXEC_OK] = UNIT_STOPPING,	/* stop beat exec */
		[UNIT_EV_EXEC_FAILED] = UNIT_STOPPING,
		[UNIT_EV_EXIT] = UNIT_LISTENING,
		[UNIT_EV_TIMER] = UNIT_STOPPING,	/* + SIGKILL */
		[UNIT_EV_STOP] = UNIT_STOPPING,
		[UNIT_EV_RESET] = UNIT_STOPPING,
	},
	[UNIT_BACKOFF] = {
		[UNIT_EV_CONNECT] = INVALID,
		[UNIT_EV_LAUNCH] = UNIT_STARTING,
		[UNIT_EV_EXEC_OK] = INVALID,
		[UNIT_EV_EXEC_FAILED] = INVALID,
		[UNIT_EV_EXIT] = INVALID,
		[UNIT_EV_TIMER] = UNIT_LISTENING,	/* no relaunch due */
		[UNIT_EV_STOP] = UNIT_LISTENING,
		[UNIT_EV_RESET] = UNIT_LISTENING,
	},
	[UNIT_FAILED] = {
		[UNIT_EV_CONNECT] = UNIT_FAILED,	/* + refuse */
		[UNIT_EV_LAUNCH] = UNIT_STARTING,	/* operator start */
		[UNIT_EV_EXEC_OK] = INVALID,
		[UNIT_EV_EXEC_FAILED] = INVALID,
		[UNIT_EV_EXIT] = INVALID,
		[UNIT_EV_TIMER] = UNIT_LISTENING,	/* cool-down over */
		[UNIT_EV_STOP] = UNIT_FAILED,
		[UNIT_EV_RESET] = UNIT_LISTENING,
	},
	[UNIT_ADOPTED] = {
		[UNIT_EV_CONNECT] = INVALID,		/* not our sockets */
		[UNIT_EV_LAUNCH] = UNIT_ADOPTED,	/* not ours to start */
		[UNIT_EV_EXEC_OK] = INVALID,
		[UNIT_EV_EXEC_FAILED] = INVALID,
		[UNIT_EV_EXIT] = UNIT_LISTENING,	/* ours again */
		[UNIT_EV_TIMER] = INVALID,
		[UNIT_EV_STOP] = UNIT_ADOPTED,		/* not ours to stop */
		[UNIT_EV_RESET] = UNIT_ADOPTED,
	},
};

/* The actions of the same steps. */
static const unsigned action_table[UNIT_STATE_MAX][UNIT_EV_MAX] = {
	[UNIT_LISTENING] = {
		[UNIT_EV_CONNECT] = UNIT_ACT_SPAWN,
		[UNIT_EV_LAUNCH] = UNIT_ACT_SPAWN,
	},
	[UNIT_STARTING] = {
		[UNIT_EV_STOP] = UNIT_ACT_TERM,
	},
	[UNIT_RUNNING] = {
		[UNIT_EV_STOP] = UNIT_ACT_TERM,
	},
	[UNIT_STOPPING] = {
		[UNIT_EV_TIMER] = UNIT_ACT_KILL,
	},
	[UNIT_BACKOFF] = {
		[UNIT_EV_LAUNCH] = UNIT_ACT_SPAWN,
	},
	[UNIT_FAILED] = {
		[UNIT_EV_CONNECT] = UNIT_ACT_REFUSE,
		[UNIT_EV_LAUNCH] = UNIT_ACT_SPAWN,
	},
};

static struct unit_policy t_pol;
static struct unit_sm t_sm;
static uint64_t t_now;
static unsigned t_spawns;

static void
setup(void)
{
	unit_policy_default(&t_pol);
	t_pol.start_limit_burst = 5;
	t_pol.start_limit_interval_ms = 10000;
	t_pol.failed_cooldown_ms = 30000;
	t_pol.stop_timeout_ms = 7000;
	t_pol.backoff_min_ms = 100;
	t_pol.backoff_max_ms = 5000;
	t_pol.backoff_reset_ms = 60000;
	unit_sm_init(&t_sm);
	t_now = 1000000;
	t_spawns = 0;
}

/* Feeds one event at t_now and applies the step, as supervise.c does. */
static struct unit_step
feed(enum unit_event ev, bool pending, bool exit_failed)
{
	struct unit_input in = {
		.ev = ev,
		.now_ms = t_now,
		.pending = pending,
		.exit_failed = exit_failed,
	};
	struct unit_step st;
	enum unit_state from = t_sm.state;

	ck_assert_msg(unit_next(&t_sm, &t_pol, &in, &st) == 0,
	    "event %s refused in state %s", unit_event_name(ev),
	    unit_state_name(from));
	if (st.actions & UNIT_ACT_SPAWN)
		t_spawns++;
	t_sm.state = st.next;
	return st;
}

static void
assert_step(struct unit_step st, enum unit_state next, unsigned actions,
    uint64_t timer_ms)
{
	ck_assert_msg(st.next == next, "next %s, expected %s",
	    unit_state_name(st.next), unit_state_name(next));
	ck_assert_uint_eq(st.actions, actions);
	ck_assert_uint_eq(st.timer_ms, timer_ms);
	ck_assert_int_eq(t_sm.state, next);
}

/* One start that ends in an exit after run_ms; returns the EXIT step. */
static struct unit_step
run_and_exit(enum unit_event start, uint64_t run_ms, bool pending,
    bool exit_failed)
{
	struct unit_step st;

	if (start != UNIT_EV_MAX) {
		st = feed(start, false, false);
		ck_assert_int_eq(st.next, UNIT_STARTING);
		ck_assert(st.actions & UNIT_ACT_SPAWN);
	}
	ck_assert_int_eq(t_sm.state, UNIT_STARTING);
	feed(UNIT_EV_EXEC_OK, false, false);
	t_now += run_ms;
	return feed(UNIT_EV_EXIT, pending, exit_failed);
}

/*
 * An on-demand failure cycle: a client connects, the daemon runs run_ms
 * and exits leaving it queued; after the backoff the unit listens again.
 * Returns the EXIT step.
 */
static struct unit_step
failing_activation(uint64_t run_ms)
{
	struct unit_step st = run_and_exit(UNIT_EV_CONNECT, run_ms, true,
	    false);

	if (st.next == UNIT_BACKOFF) {
		t_now += st.timer_ms;
		assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_LISTENING,
		    0, 0);
	}
	return st;
}

/* --- the transition table --- */

START_TEST(next_matches_table_for_every_event)
{
	enum unit_state s = (enum unit_state)_i;

	for (int e = 0; e < UNIT_EV_MAX; e++) {
		struct unit_sm sm;
		struct unit_policy p;
		struct unit_input in = { .ev = (enum unit_event)e,
		    .now_ms = 5000 };
		struct unit_step st = { .next = UNIT_STATE_MAX,
		    .actions = 0xdead, .timer_ms = 4242 };
		int r;

		unit_policy_default(&p);
		unit_sm_init(&sm);
		sm.state = s;
		r = unit_next(&sm, &p, &in, &st);
		if (next_table[s][e] == INVALID) {
			ck_assert_msg(r == -EINVAL, "%s + %s: %d, expected "
			    "-EINVAL", unit_state_name(s),
			    unit_event_name((enum unit_event)e), r);
			continue;
		}
		ck_assert_msg(r == 0, "%s + %s: %d, expected %s",
		    unit_state_name(s), unit_event_name((enum unit_event)e), r,
		    unit_state_name((enum unit_state)next_table[s][e]));
		ck_assert_msg(st.next == (enum unit_state)next_table[s][e],
		    "%s + %s -> %s, expected %s", unit_state_name(s),
		    unit_event_name((enum unit_event)e),
		    unit_state_name(st.next),
		    unit_state_name((enum unit_state)next_table[s][e]));
		ck_assert_msg(st.actions == action_table[s][e],
		    "%s + %s: actions %#x, expected %#x", unit_state_name(s),
		    unit_event_name((enum unit_event)e), st.actions,
		    action_table[s][e]);
		/* unit_next() never writes the state itself. */
		ck_assert_int_eq(sm.state, s);
	}
}
END_TEST

START_TEST(invalid_event_leaves_sm_and_step_untouched)
{
	enum unit_state s = (enum unit_state)_i;

	for (int e = 0; e <= UNIT_EV_MAX; e++) {
		struct unit_sm sm, before;
		struct unit_policy p;
		struct unit_input in = { .ev = (enum unit_event)e,
		    .now_ms = 99999, .pending = true, .exit_failed = true };
		struct unit_step st = { .next = UNIT_STATE_MAX,
		    .actions = 0xdead, .timer_ms = 4242 };

		if (e < UNIT_EV_MAX && next_table[s][e] != INVALID)
			continue;
		unit_policy_default(&p);
		unit_sm_init(&sm);
		sm.state = s;
		sm.nfail = 2;
		sm.fail_ms[0] = 90000;
		sm.fail_ms[1] = 95000;
		sm.backoff_ms = 400;
		sm.relaunch = true;
		sm.started_ms = 80000;
		memcpy(&before, &sm, sizeof(before));
		ck_assert_int_eq(unit_next(&sm, &p, &in, &st), -EINVAL);
		ck_assert_msg(memcmp(&sm, &before, sizeof(sm)) == 0,
		    "%s + %s changed the unit", unit_state_name(s),
		    unit_event_name((enum unit_event)e));
		ck_assert_int_eq(st.next, UNIT_STATE_MAX);
		ck_assert_uint_eq(st.actions, 0xdead);
		ck_assert_uint_eq(st.timer_ms, 4242);
	}
}
END_TEST

START_TEST(out_of_range_state_is_invalid)
{
	struct unit_step st;
	struct unit_input in = { .ev = UNIT_EV_CONNECT, .now_ms = 1 };

	t_sm.state = UNIT_STATE_MAX;
	ck_assert_int_eq(unit_next(&t_sm, &t_pol, &in, &st), -EINVAL);
}
END_TEST

START_TEST(state_and_event_names)
{
	for (int s = 0; s < UNIT_STATE_MAX; s++) {
		const char *n = unit_state_name((enum unit_state)s);

		ck_assert_ptr_nonnull(n);
		ck_assert_str_ne(n, "?");
		ck_assert_str_ne(n, "");
		for (int k = 0; k < s; k++)
			ck_assert_str_ne(n, unit_state_name(
			    (enum unit_state)k));
	}
	for (int e = 0; e < UNIT_EV_MAX; e++) {
		const char *n = unit_event_name((enum unit_event)e);

		ck_assert_ptr_nonnull(n);
		ck_assert_str_ne(n, "?");
		ck_assert_str_ne(n, "");
		for (int k = 0; k < e; k++)
			ck_assert_str_ne(n, unit_event_name(
			    (enum unit_event)k));
	}
	ck_assert_str_eq(unit_state_name(UNIT_STATE_MAX), "?");
	ck_assert_str_eq(unit_event_name(UNIT_EV_MAX), "?");
	ck_assert_str_eq(unit_state_name(UNIT_LISTENING), "listening");
	ck_assert_str_eq(unit_state_name(UNIT_FAILED), "failed");
	ck_assert_str_eq(unit_state_name(UNIT_ADOPTED), "adopted");
}
END_TEST

START_TEST(defaults_are_sane)
{
	struct unit_policy p;
	struct unit_sm sm;

	unit_policy_default(&p);
	ck_assert_int_eq(p.start, START_ON_DEMAND);
	ck_assert_int_eq(p.restart, RESTART_ON_FAILURE);
	ck_assert_uint_ge(p.start_limit_burst, 2);
	ck_assert_uint_le(p.start_limit_burst, UNIT_MAX_BURST);
	ck_assert_uint_gt(p.start_limit_interval_ms, 0);
	ck_assert_uint_gt(p.failed_cooldown_ms, 0);
	ck_assert_uint_gt(p.stop_timeout_ms, 0);
	ck_assert_uint_gt(p.backoff_min_ms, 0);
	ck_assert_uint_le(p.backoff_min_ms, p.backoff_max_ms);
	ck_assert_uint_gt(p.backoff_reset_ms, p.backoff_max_ms);
	/* virt-broker.conf(5): 100 ms doubling up to 10 s, reset after 60 s. */
	ck_assert_uint_eq(p.backoff_min_ms, 100);
	ck_assert_uint_eq(p.backoff_max_ms, 10000);
	ck_assert_uint_eq(p.backoff_reset_ms, 60000);
	/* The config may not ask for more failures than the ring holds. */
	ck_assert_uint_le(CFG_MAX_START_LIMIT_BURST, UNIT_MAX_BURST);
	unit_sm_init(&sm);
	ck_assert_int_eq(sm.state, UNIT_LISTENING);
	ck_assert_uint_eq(sm.nfail, 0);
	ck_assert(!sm.exec_failed && !sm.relaunch);
}
END_TEST

/* --- activation --- */

START_TEST(connect_in_listening_spawns)
{
	assert_step(feed(UNIT_EV_CONNECT, false, false), UNIT_STARTING,
	    UNIT_ACT_SPAWN, 0);
	ck_assert_uint_eq(t_sm.started_ms, t_now);
}
END_TEST

START_TEST(exec_ok_makes_running)
{
	feed(UNIT_EV_CONNECT, false, false);
	assert_step(feed(UNIT_EV_EXEC_OK, false, false), UNIT_RUNNING, 0, 0);
}
END_TEST

START_TEST(clean_exit_without_pending_listens)
{
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_OK, false, false);
	t_now += 120000;
	assert_step(feed(UNIT_EV_EXIT, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_sm.nfail, 0);
}
END_TEST

START_TEST(exit_before_exec_ok_is_handled)
{
	/* ev_child can beat the exec pipe's EOF. */
	feed(UNIT_EV_CONNECT, false, false);
	assert_step(feed(UNIT_EV_EXIT, false, false), UNIT_LISTENING, 0, 0);
	feed(UNIT_EV_CONNECT, false, false);
	assert_step(feed(UNIT_EV_EXIT, true, true), UNIT_BACKOFF, 0,
	    t_pol.backoff_min_ms);
}
END_TEST

/* --- backoff and start limit --- */

START_TEST(exit_with_pending_backs_off_exponentially)
{
	uint64_t want = t_pol.backoff_min_ms;

	t_pol.start_limit_burst = UNIT_MAX_BURST;
	for (int i = 0; i < 12; i++) {
		struct unit_step st = failing_activation(10);

		ck_assert_int_eq(st.next, UNIT_BACKOFF);
		ck_assert_uint_eq(st.actions, 0);
		ck_assert_msg(st.timer_ms == want, "failure %d: timer %llu, "
		    "expected %llu", i + 1, (unsigned long long)st.timer_ms,
		    (unsigned long long)want);
		want = want * 2 > t_pol.backoff_max_ms ? t_pol.backoff_max_ms :
		    want * 2;
	}
	ck_assert_uint_eq(want, t_pol.backoff_max_ms);
}
END_TEST

START_TEST(backoff_sequence_starts_100_200_400)
{
	t_pol.start_limit_burst = UNIT_MAX_BURST;
	ck_assert_uint_eq(failing_activation(10).timer_ms, 100);
	ck_assert_uint_eq(failing_activation(10).timer_ms, 200);
	ck_assert_uint_eq(failing_activation(10).timer_ms, 400);
	ck_assert_uint_eq(failing_activation(10).timer_ms, 800);
}
END_TEST

START_TEST(crash_without_pending_backs_off_then_listens)
{
	struct unit_step st = run_and_exit(UNIT_EV_CONNECT, 10, false, true);

	assert_step(st, UNIT_BACKOFF, 0, t_pol.backoff_min_ms);
	t_now += st.timer_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_spawns, 1);
}
END_TEST

START_TEST(burst_failures_within_interval_fail_the_unit)
{
	struct unit_step st = { 0 };

	for (int i = 0; i < 100 && t_sm.state != UNIT_FAILED; i++)
		st = failing_activation(50);
	ck_assert_int_eq(t_sm.state, UNIT_FAILED);
	ck_assert_uint_eq(t_spawns, t_pol.start_limit_burst);
	assert_step(st, UNIT_FAILED, UNIT_ACT_GAVE_UP | UNIT_ACT_REFUSE,
	    t_pol.failed_cooldown_ms);
}
END_TEST

START_TEST(burst_minus_one_failures_do_not_fail)
{
	for (unsigned i = 0; i + 1 < t_pol.start_limit_burst; i++)
		ck_assert_int_eq(failing_activation(50).next, UNIT_BACKOFF);
	ck_assert_int_eq(t_sm.state, UNIT_LISTENING);
	ck_assert_uint_eq(unit_recent_failures(&t_sm, &t_pol, t_now),
	    t_pol.start_limit_burst - 1);
}
END_TEST

START_TEST(crash_loop_without_pending_gives_up_quietly)
{
	struct unit_step st;

	t_pol.start = START_AT_LAUNCH;
	st = run_and_exit(UNIT_EV_LAUNCH, 20, false, true);
	while (st.next == UNIT_BACKOFF) {
		t_now += st.timer_ms;
		ck_assert(feed(UNIT_EV_TIMER, false, false).actions &
		    UNIT_ACT_SPAWN);
		st = run_and_exit(UNIT_EV_MAX, 20, false, true);
	}
	assert_step(st, UNIT_FAILED, UNIT_ACT_GAVE_UP,
	    t_pol.failed_cooldown_ms);
	ck_assert_uint_eq(t_spawns, t_pol.start_limit_burst);
}
END_TEST

START_TEST(failures_spread_wider_than_interval_never_fail)
{
	/* burst failures need (burst - 1) * 3000 ms > the interval. */
	ck_assert_uint_gt((uint64_t)(t_pol.start_limit_burst - 1) * 3000,
	    t_pol.start_limit_interval_ms);
	for (int i = 0; i < 50; i++) {
		struct unit_step st = failing_activation(3000);

		ck_assert_msg(st.next == UNIT_BACKOFF, "failure %d: %s", i + 1,
		    unit_state_name(st.next));
	}
	ck_assert_uint_eq(t_spawns, 50);
}
END_TEST

/* A failure exactly start_limit_interval_ms old no longer counts. */
static void
fail_with_first_failure_aged(uint64_t age)
{
	uint64_t first;

	t_pol.backoff_min_ms = t_pol.backoff_max_ms = 100;
	failing_activation(10);
	first = t_now - 100;		/* failing_activation waited 100 */
	for (unsigned i = 2; i < t_pol.start_limit_burst; i++)
		failing_activation(10);
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_OK, false, false);
	ck_assert_uint_lt(t_now, first + age);
	t_now = first + age;
	feed(UNIT_EV_EXIT, true, false);
}

START_TEST(failure_exactly_interval_old_is_forgotten)
{
	fail_with_first_failure_aged(t_pol.start_limit_interval_ms);
	ck_assert_int_eq(t_sm.state, UNIT_BACKOFF);
}
END_TEST

START_TEST(failure_just_inside_interval_counts)
{
	fail_with_first_failure_aged(t_pol.start_limit_interval_ms - 1);
	ck_assert_int_eq(t_sm.state, UNIT_FAILED);
}
END_TEST

START_TEST(burst_zero_means_one)
{
	t_pol.start_limit_burst = 0;
	assert_step(failing_activation(10), UNIT_FAILED,
	    UNIT_ACT_GAVE_UP | UNIT_ACT_REFUSE, t_pol.failed_cooldown_ms);
}
END_TEST

START_TEST(burst_is_capped_at_max)
{
	t_pol.start_limit_burst = 1000;
	t_pol.start_limit_interval_ms = 1000000000;
	for (int i = 0; i < 1000 && t_sm.state != UNIT_FAILED; i++)
		failing_activation(10);
	ck_assert_int_eq(t_sm.state, UNIT_FAILED);
	ck_assert_uint_eq(t_spawns, UNIT_MAX_BURST);
}
END_TEST

START_TEST(long_lived_daemon_resets_backoff)
{
	t_pol.start_limit_burst = UNIT_MAX_BURST;
	failing_activation(10);
	failing_activation(10);
	ck_assert_uint_eq(failing_activation(10).timer_ms, 400);
	/* It served for backoff_reset_ms, then failed: start over. */
	ck_assert_uint_eq(failing_activation(t_pol.backoff_reset_ms).timer_ms,
	    t_pol.backoff_min_ms);
	ck_assert_uint_eq(failing_activation(10).timer_ms,
	    2 * t_pol.backoff_min_ms);
}
END_TEST

START_TEST(short_lived_daemon_keeps_backoff)
{
	t_pol.start_limit_burst = UNIT_MAX_BURST;
	failing_activation(10);
	failing_activation(10);
	ck_assert_uint_eq(failing_activation(10).timer_ms, 400);
	ck_assert_uint_eq(failing_activation(t_pol.backoff_reset_ms - 1).
	    timer_ms, 800);
}
END_TEST

/* --- exec failure and the failed state --- */

START_TEST(exec_failed_then_exit_fails_at_once)
{
	feed(UNIT_EV_CONNECT, false, false);
	assert_step(feed(UNIT_EV_EXEC_FAILED, false, false), UNIT_STARTING, 0,
	    0);
	assert_step(feed(UNIT_EV_EXIT, true, true), UNIT_FAILED,
	    UNIT_ACT_GAVE_UP | UNIT_ACT_REFUSE, t_pol.failed_cooldown_ms);
	ck_assert_uint_eq(t_spawns, 1);
}
END_TEST

START_TEST(exec_failed_without_pending_fails_without_refusing)
{
	t_pol.start = START_AT_LAUNCH;
	feed(UNIT_EV_LAUNCH, false, false);
	feed(UNIT_EV_EXEC_FAILED, false, false);
	assert_step(feed(UNIT_EV_EXIT, false, true), UNIT_FAILED,
	    UNIT_ACT_GAVE_UP, t_pol.failed_cooldown_ms);
}
END_TEST

/* Brings the unit to FAILED through start_limit_burst failures. */
static void
reach_failed(void)
{
	for (int i = 0; i < 100 && t_sm.state != UNIT_FAILED; i++)
		failing_activation(10);
	ck_assert_int_eq(t_sm.state, UNIT_FAILED);
}

START_TEST(failed_connect_refuses)
{
	reach_failed();
	t_now += 1000;
	assert_step(feed(UNIT_EV_CONNECT, false, false), UNIT_FAILED,
	    UNIT_ACT_REFUSE, 0);
	assert_step(feed(UNIT_EV_CONNECT, false, false), UNIT_FAILED,
	    UNIT_ACT_REFUSE, 0);
	ck_assert_uint_eq(t_spawns, t_pol.start_limit_burst);
}
END_TEST

START_TEST(failed_timer_listens_and_forgets_failures)
{
	reach_failed();
	t_now += t_pol.failed_cooldown_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(unit_recent_failures(&t_sm, &t_pol, t_now), 0);
	ck_assert_uint_eq(t_sm.nfail, 0);
	/* A new failure starts from scratch: one failure, no FAILED. */
	ck_assert_int_eq(failing_activation(10).next, UNIT_BACKOFF);
	ck_assert_uint_eq(t_sm.nfail, 1);
	ck_assert_uint_eq(unit_recent_failures(&t_sm, &t_pol, t_now), 1);
}
END_TEST

START_TEST(failed_timer_then_failure_backs_off_from_minimum)
{
	struct unit_step st;

	reach_failed();
	t_now += t_pol.failed_cooldown_ms;
	feed(UNIT_EV_TIMER, false, false);
	st = run_and_exit(UNIT_EV_CONNECT, 10, true, false);
	assert_step(st, UNIT_BACKOFF, 0, t_pol.backoff_min_ms);
}
END_TEST

START_TEST(failed_reset_listens_and_forgets_failures)
{
	reach_failed();
	assert_step(feed(UNIT_EV_RESET, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(unit_recent_failures(&t_sm, &t_pol, t_now), 0);
}
END_TEST

START_TEST(failed_launch_spawns_and_forgets_failures)
{
	reach_failed();
	assert_step(feed(UNIT_EV_LAUNCH, false, false), UNIT_STARTING,
	    UNIT_ACT_SPAWN, 0);
	ck_assert_uint_eq(unit_recent_failures(&t_sm, &t_pol, t_now), 0);
	ck_assert(!t_sm.exec_failed);
}
END_TEST

START_TEST(spawn_after_exec_failure_clears_it)
{
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_FAILED, false, false);
	feed(UNIT_EV_EXIT, false, true);
	t_now += t_pol.failed_cooldown_ms;
	feed(UNIT_EV_TIMER, false, false);
	/* The binary is back: a clean run must not count as failed. */
	assert_step(run_and_exit(UNIT_EV_CONNECT, 10, false, false),
	    UNIT_LISTENING, 0, 0);
}
END_TEST

/* --- restart policies of at-launch units --- */

START_TEST(at_launch_on_failure_relaunches_after_crash)
{
	struct unit_step st;

	t_pol.start = START_AT_LAUNCH;
	t_pol.restart = RESTART_ON_FAILURE;
	st = run_and_exit(UNIT_EV_LAUNCH, 5000, false, true);
	assert_step(st, UNIT_BACKOFF, 0, t_pol.backoff_min_ms);
	t_now += st.timer_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_STARTING,
	    UNIT_ACT_SPAWN, 0);
	ck_assert_uint_eq(t_spawns, 2);
}
END_TEST

START_TEST(at_launch_clean_exit_without_pending_listens)
{
	t_pol.start = START_AT_LAUNCH;
	t_pol.restart = RESTART_ON_FAILURE;
	assert_step(run_and_exit(UNIT_EV_LAUNCH, 120000, false, false),
	    UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_sm.nfail, 0);
}
END_TEST

START_TEST(restart_no_never_relaunches)
{
	struct unit_step st;

	t_pol.start = START_AT_LAUNCH;
	t_pol.restart = RESTART_NO;
	assert_step(run_and_exit(UNIT_EV_LAUNCH, 5000, false, false),
	    UNIT_LISTENING, 0, 0);
	st = run_and_exit(UNIT_EV_LAUNCH, 5000, false, true);
	ck_assert_int_eq(st.next, UNIT_BACKOFF);
	t_now += st.timer_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_spawns, 2);
}
END_TEST

START_TEST(restart_always_relaunches_after_clean_exit)
{
	struct unit_step st;

	t_pol.start = START_AT_LAUNCH;
	t_pol.restart = RESTART_ALWAYS;
	st = run_and_exit(UNIT_EV_LAUNCH, 5000, false, false);
	assert_step(st, UNIT_BACKOFF, 0, t_pol.backoff_min_ms);
	t_now += st.timer_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_STARTING,
	    UNIT_ACT_SPAWN, 0);
}
END_TEST

START_TEST(launch_in_backoff_starts_now)
{
	struct unit_step st = run_and_exit(UNIT_EV_CONNECT, 10, true, true);

	ck_assert_int_eq(st.next, UNIT_BACKOFF);
	assert_step(feed(UNIT_EV_LAUNCH, false, false), UNIT_STARTING,
	    UNIT_ACT_SPAWN, 0);
}
END_TEST

/* --- stop --- */

START_TEST(stop_in_running_terms_with_stop_timeout)
{
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_OK, false, false);
	assert_step(feed(UNIT_EV_STOP, false, false), UNIT_STOPPING,
	    UNIT_ACT_TERM, t_pol.stop_timeout_ms);
}
END_TEST

START_TEST(stop_in_starting_terms)
{
	feed(UNIT_EV_CONNECT, false, false);
	assert_step(feed(UNIT_EV_STOP, false, false), UNIT_STOPPING,
	    UNIT_ACT_TERM, t_pol.stop_timeout_ms);
	assert_step(feed(UNIT_EV_EXEC_OK, false, false), UNIT_STOPPING, 0, 0);
}
END_TEST

START_TEST(timer_in_stopping_kills)
{
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_OK, false, false);
	feed(UNIT_EV_STOP, false, false);
	t_now += t_pol.stop_timeout_ms;
	assert_step(feed(UNIT_EV_TIMER, false, false), UNIT_STOPPING,
	    UNIT_ACT_KILL, 0);
	assert_step(feed(UNIT_EV_EXIT, false, true), UNIT_LISTENING, 0, 0);
}
END_TEST

START_TEST(exit_in_stopping_listens_and_is_no_failure)
{
	feed(UNIT_EV_CONNECT, false, false);
	feed(UNIT_EV_EXEC_OK, false, false);
	feed(UNIT_EV_STOP, false, false);
	assert_step(feed(UNIT_EV_EXIT, true, true), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_sm.nfail, 0);
}
END_TEST

START_TEST(stop_in_backoff_cancels_relaunch)
{
	struct unit_step st;

	t_pol.start = START_AT_LAUNCH;
	st = run_and_exit(UNIT_EV_LAUNCH, 10, false, true);
	ck_assert_int_eq(st.next, UNIT_BACKOFF);
	assert_step(feed(UNIT_EV_STOP, false, false), UNIT_LISTENING, 0, 0);
	ck_assert_uint_eq(t_spawns, 1);
}
END_TEST

static Suite *
unit_suite(void)
{
	Suite *s = suite_create("unit");
	TCase *tc;

	tc = tcase_create("transitions");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, next_matches_table_for_every_event, 0,
	    UNIT_STATE_MAX);
	tcase_add_loop_test(tc, invalid_event_leaves_sm_and_step_untouched, 0,
	    UNIT_STATE_MAX);
	tcase_add_test(tc, out_of_range_state_is_invalid);
	tcase_add_test(tc, state_and_event_names);
	tcase_add_test(tc, defaults_are_sane);
	suite_add_tcase(s, tc);

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, connect_in_listening_spawns);
	tcase_add_test(tc, exec_ok_makes_running);
	tcase_add_test(tc, clean_exit_without_pending_listens);
	tcase_add_test(tc, exit_before_exec_ok_is_handled);
	suite_add_tcase(s, tc);

	tc = tcase_create("backoff_start_limit");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, exit_with_pending_backs_off_exponentially);
	tcase_add_test(tc, backoff_sequence_starts_100_200_400);
	tcase_add_test(tc, crash_without_pending_backs_off_then_listens);
	tcase_add_test(tc, burst_failures_within_interval_fail_the_unit);
	tcase_add_test(tc, burst_minus_one_failures_do_not_fail);
	tcase_add_test(tc, crash_loop_without_pending_gives_up_quietly);
	tcase_add_test(tc, failures_spread_wider_than_interval_never_fail);
	tcase_add_test(tc, failure_exactly_interval_old_is_forgotten);
	tcase_add_test(tc, failure_just_inside_interval_counts);
	tcase_add_test(tc, burst_zero_means_one);
	tcase_add_test(tc, burst_is_capped_at_max);
	tcase_add_test(tc, long_lived_daemon_resets_backoff);
	tcase_add_test(tc, short_lived_daemon_keeps_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("failed");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, exec_failed_then_exit_fails_at_once);
	tcase_add_test(tc, exec_failed_without_pending_fails_without_refusing);
	tcase_add_test(tc, failed_connect_refuses);
	tcase_add_test(tc, failed_timer_listens_and_forgets_failures);
	tcase_add_test(tc, failed_timer_then_failure_backs_off_from_minimum);
	tcase_add_test(tc, failed_reset_listens_and_forgets_failures);
	tcase_add_test(tc, failed_launch_spawns_and_forgets_failures);
	tcase_add_test(tc, spawn_after_exec_failure_clears_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart_policy");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, at_launch_on_failure_relaunches_after_crash);
	tcase_add_test(tc, at_launch_clean_exit_without_pending_listens);
	tcase_add_test(tc, restart_no_never_relaunches);
	tcase_add_test(tc, restart_always_relaunches_after_clean_exit);
	tcase_add_test(tc, launch_in_backoff_starts_now);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, stop_in_running_terms_with_stop_timeout);
	tcase_add_test(tc, stop_in_starting_terms);
	tcase_add_test(tc, timer_in_stopping_kills);
	tcase_add_test(tc, exit_in_stopping_listens_and_is_no_failure);
	tcase_add_test(tc, stop_in_backoff_cancels_relaunch);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
