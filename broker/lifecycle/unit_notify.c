/* SPDX-License-Identifier: MIT */
/*
 * Edge: what a daemon says about itself through NOTIFY_SOCKET, applied to
 * its unit. Only the pid the broker started (or adopted) is believed; the
 * kernel names the sender (notify.c).
 *
 * READY=1: the daemon's event loop runs (libvirt 11.x sends it before its
 * drivers finish starting; clients simply queue), or a reload is done.
 * RELOADING=1: SIGHUP taken, configuration being reloaded.
 * STOPPING=1: the daemon is shutting down (11.2+ may save guests first).
 * EXTEND_TIMEOUT_USEC=N: while the broker waits for the daemon to stop,
 * SIGKILL comes no sooner than N microseconds from now.
 * STATUS=: shown by `virt-brokerctl status UNIT`.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "supervise.h"
#include "supervise_int.h"
#include "xalloc.h"

const char *
unit_phase_name(enum unit_phase p)
{
	switch (p) {
	case UNIT_PHASE_RELOADING:
		return "reloading";
	case UNIT_PHASE_STOPPING:
		return "stopping";
	case UNIT_PHASE_NONE:
		break;
	}
	return "-";
}

/* A new process: nothing said yet. */
void
unit_notify_reset(struct unit *u)
{
	u->phase = UNIT_PHASE_NONE;
	u->extends = 0;
	free(u->status_text);
	u->status_text = NULL;
}

static struct unit *
unit_of_pid(struct supervisor *sup, pid_t pid)
{
	if (pid <= 0)
		return NULL;
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		if (u->pid == pid || u->adopted_pid == pid)
			return u;
	}
	return NULL;
}

/* The stop deadline, no sooner than usec from now. */
static void
unit_extend_stop(struct unit *u, uint64_t usec)
{
	ev_tstamp want = (ev_tstamp)usec / 1e6;

	if (u->sm.state != UNIT_STOPPING || u->pid <= 0 ||
	    !ev_is_active(&u->timer))
		return;
	if (ev_timer_remaining(u->sup->loop, &u->timer) >= want)
		return;
	if (u->extends++ == 0)
		log_info("unit %s: pid %ld asks for more time to stop "
		    "(%.1f s from now); SIGKILL waits", u->spec.name,
		    (long)u->pid, want);
	ev_timer_stop(u->sup->loop, &u->timer);
	ev_timer_set(&u->timer, want, 0.);
	ev_timer_start(u->sup->loop, &u->timer);
}

static void
unit_ready(struct unit *u)
{
	if (u->phase == UNIT_PHASE_RELOADING) {
		u->reloads++;
		u->phase = UNIT_PHASE_NONE;
		log_info("unit %s: pid %ld reloaded (reload %u)", u->spec.name,
		    (long)u->pid, u->reloads);
		return;
	}
	if (u->pid <= 0 || u->ready_ms >= 0)
		return;
	u->ready_ms = (long)(clock_mono_ms() - u->exec_ms);
	log_info("unit %s: pid %ld ready after %ld ms", u->spec.name,
	    (long)u->pid, u->ready_ms);
}

void
sup_unit_notify(struct supervisor *sup, pid_t pid, const struct notify_msg *m)
{
	struct unit *u = unit_of_pid(sup, pid);

	if (u == NULL)
		return;
	if (m->has_status) {
		free(u->status_text);
		u->status_text = m->status[0] != '\0' ? xstrdup(m->status) :
		    NULL;
	}
	if (m->stopping && u->phase != UNIT_PHASE_STOPPING) {
		u->phase = UNIT_PHASE_STOPPING;
		log_info("unit %s: pid %ld is stopping", u->spec.name,
		    (long)pid);
	}
	if (m->reloading && u->phase == UNIT_PHASE_NONE)
		u->phase = UNIT_PHASE_RELOADING;
	if (m->ready && u->phase != UNIT_PHASE_STOPPING)
		unit_ready(u);
	if (m->has_extend)
		unit_extend_stop(u, m->extend_usec);
}
