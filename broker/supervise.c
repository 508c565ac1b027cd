/* SPDX-License-Identifier: MIT */
/*
 * Edge: runs the units. Events come from libev (a socket readable, the
 * exec-status pipe, a child reaped, a timer), go through unit_next() (pure)
 * and come back as actions carried out here. Side effects follow the new
 * state, as in systemd's socket_set_state(): a unit's sockets are watched
 * in LISTENING (to start it) and FAILED (to refuse clients), and in no other
 * state, since the daemon then owns accept(). ev_io is level-triggered and
 * the broker never accepts for a daemon, so the watchers are stopped first
 * thing when a client arrives.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_env.h"
#include "fd.h"
#include "listenfds.h"
#include "log.h"
#include "spawn.h"
#include "supervise.h"
#include "xalloc.h"

static void unit_feed(struct unit *u, enum unit_event ev, bool pending,
    bool exit_failed);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "exited with status 6", "killed by signal 9 (Killed)". */
static void
describe_status(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "killed by signal %d (%s)",
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, size, "ended with wait status %#x", wstatus);
}

static void
unit_watch(struct unit *u, bool on)
{
	for (size_t i = 0; i < u->nsocks; i++) {
		if (u->socks[i].b.fd < 0)
			continue;
		if (on)
			ev_io_start(u->sup->loop, &u->socks[i].io);
		else
			ev_io_stop(u->sup->loop, &u->socks[i].io);
	}
}

/* The only writer of u->sm.state; side effects follow the new state. */
static void
unit_set_state(struct unit *u, enum unit_state next)
{
	enum unit_state prev = u->sm.state;

	u->sm.state = next;
	if (prev != next)
		log_debug("unit %s: %s -> %s", u->spec->name,
		    unit_state_name(prev), unit_state_name(next));
	unit_watch(u, !u->sup->shutting_down &&
	    (next == UNIT_LISTENING || next == UNIT_FAILED));
	if (prev != next)
		ev_timer_stop(u->sup->loop, &u->timer);
}

static void
unit_close_status(struct unit *u)
{
	ev_io_stop(u->sup->loop, &u->status_io);
	fd_close(&u->status_fd);
}

static int
unit_spawn(struct unit *u)
{
	struct spawn_req req = {
		.argv = strv_array(&u->spec->argv),
		.envp = strv_array(&u->env),
		.pid_slot = u->env.v[u->env.n - 1],
		.fds = u->fds,
		.nfds = u->nsocks,
	};
	pid_t pid;
	int r;

	r = spawn_daemon(&req, &pid, &u->status_fd);
	if (r < 0) {
		errno = -r;
		log_warn("unit %s: fork", u->spec->name);
		return r;
	}
	u->pid = pid;
	u->activations++;
	ev_child_set(&u->child, pid, 0);
	ev_child_start(u->sup->loop, &u->child);
	ev_io_set(&u->status_io, u->status_fd, EV_READ);
	ev_io_start(u->sup->loop, &u->status_io);
	log_info("unit %s: started %s, pid %ld (activation %u)",
	    u->spec->name, u->spec->exec, (long)pid, u->activations);
	return 0;
}

/* virtqemud exits 0 at once when another daemon holds the QEMU driver. */
static void
driver_pid_hint(const struct unit *u, char *buf, size_t size)
{
	char path[4200], comm[64] = "?";
	FILE *fp;
	long pid = 0;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/qemu/run/driver.pid",
	    u->sup->plan->runtime_dir);
	fp = fopen(path, "re");
	if (fp == NULL)
		return;
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = 0;
	fclose(fp);
	if (pid <= 0 || kill((pid_t)pid, 0) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fp = fopen(path, "re");
	if (fp != NULL) {
		if (fgets(comm, sizeof(comm), fp) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
	}
	snprintf(buf, size, "; %s/qemu/run/driver.pid is held by pid %ld "
	    "(%s): another libvirt daemon owns the QEMU driver",
	    u->sup->plan->runtime_dir, pid, comm);
}

static void
unit_gave_up(struct unit *u)
{
	char last[128], hint[4400];
	uint64_t cool = u->policy.failed_cooldown_ms / 1000;

	if (u->sm.exec_failed) {
		log_warnx("unit %s: exec %s: %s; refusing its clients for "
		    "%llu s", u->spec->name, u->spec->exec,
		    strerror(u->exec_errno), (unsigned long long)cool);
		return;
	}
	describe_status(u->last_status, last, sizeof(last));
	driver_pid_hint(u, hint, sizeof(hint));
	log_warnx("unit %s: failed: %u failed starts within %llu s (last: "
	    "%s)%s; refusing its clients for %llu s", u->spec->name,
	    unit_recent_failures(&u->sm, &u->policy, now_ms()),
	    (unsigned long long)(u->policy.start_limit_interval_ms / 1000),
	    last, hint, (unsigned long long)cool);
}

static void
unit_refuse(struct unit *u)
{
	unsigned n = 0;

	for (size_t i = 0; i < u->nsocks; i++)
		if (u->socks[i].b.fd >= 0)
			n += sock_refuse_pending(u->socks[i].b.fd);
	if (n > 0)
		log_info("unit %s: refused %u connection%s (unit failed)",
		    u->spec->name, n, n == 1 ? "" : "s");
}

static void
unit_apply(struct unit *u, const struct unit_step *st)
{
	unit_set_state(u, st->next);
	if (st->timer_ms > 0) {
		ev_timer_stop(u->sup->loop, &u->timer);
		ev_timer_set(&u->timer, (ev_tstamp)st->timer_ms / 1000., 0.);
		ev_timer_start(u->sup->loop, &u->timer);
	}
	if (st->actions & UNIT_ACT_GAVE_UP)
		unit_gave_up(u);
	if (st->actions & UNIT_ACT_REFUSE)
		unit_refuse(u);
	if ((st->actions & UNIT_ACT_TERM) && u->pid > 0) {
		log_info("unit %s: stopping pid %ld (SIGTERM)", u->spec->name,
		    (long)u->pid);
		if (kill(u->pid, SIGTERM) < 0)
			log_warn("unit %s: kill %ld", u->spec->name,
			    (long)u->pid);
	}
	if ((st->actions & UNIT_ACT_KILL) && u->pid > 0) {
		log_warnx("unit %s: pid %ld still running %u s after SIGTERM; "
		    "sending SIGKILL", u->spec->name, (long)u->pid,
		    u->spec->stop_timeout);
		if (kill(u->pid, SIGKILL) < 0)
			log_warn("unit %s: kill %ld", u->spec->name,
			    (long)u->pid);
	}
	if (st->actions & UNIT_ACT_SPAWN) {
		if (u->sup->shutting_down || unit_spawn(u) < 0) {
			/* No process: as if exec had failed at once. */
			u->exec_errno = u->sup->shutting_down ? ECANCELED :
			    errno;
			unit_feed(u, UNIT_EV_EXEC_FAILED, false, false);
			unit_feed(u, UNIT_EV_EXIT, sock_any_pending(u->fds,
			    u->nsocks), true);
		}
	}
}

static void
unit_feed(struct unit *u, enum unit_event ev, bool pending, bool exit_failed)
{
	struct unit_input in = {
		.ev = ev,
		.now_ms = now_ms(),
		.pending = pending,
		.exit_failed = exit_failed,
	};
	struct unit_step st;

	if (unit_next(&u->sm, &u->policy, &in, &st) < 0) {
		log_debug("unit %s: event %s ignored in state %s",
		    u->spec->name, unit_event_name(ev),
		    unit_state_name(u->sm.state));
		return;
	}
	unit_apply(u, &st);
}

static void
sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct unit_sock *s = w->data;
	struct unit *u = s->unit;

	(void)loop;
	(void)revents;
	unit_watch(u, false);		/* level-triggered: stop first */
	log_debug("unit %s: client on %s", u->spec->name, s->spec->path);
	unit_feed(u, UNIT_EV_CONNECT, false, false);
}

static void
status_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct unit *u = w->data;
	int r, e = 0;

	(void)loop;
	(void)revents;
	r = spawn_read_status(u->status_fd, &e);
	if (r == -EAGAIN || r == -EINTR)
		return;
	unit_close_status(u);
	if (r == 1) {
		u->exec_errno = e;	/* said once, by unit_gave_up() */
		unit_feed(u, UNIT_EV_EXEC_FAILED, false, false);
	} else {
		unit_feed(u, UNIT_EV_EXEC_OK, false, false);
	}
}

static void
check_shutdown(struct supervisor *sup)
{
	if (sup->shutting_down && !sup_busy(sup))
		ev_break(sup->loop, EVBREAK_ALL);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct unit *u = w->data;
	char desc[128];
	bool failed;

	(void)revents;
	ev_child_stop(loop, w);
	if (u->status_fd >= 0)		/* ev_child can beat the pipe's EOF */
		status_cb(loop, &u->status_io, EV_READ);
	u->last_status = w->rstatus;
	describe_status(w->rstatus, desc, sizeof(desc));
	log_info("unit %s: pid %ld %s", u->spec->name, (long)u->pid, desc);
	u->pid = 0;
	failed = !WIFEXITED(w->rstatus) || WEXITSTATUS(w->rstatus) != 0;
	unit_feed(u, UNIT_EV_EXIT, sock_any_pending(u->fds, u->nsocks), failed);
	check_shutdown(u->sup);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct unit *u = w->data;

	(void)loop;
	(void)revents;
	unit_feed(u, UNIT_EV_TIMER, false, false);
}

static void
unit_policy_from_spec(const struct unit_spec *spec, struct unit_policy *p)
{
	unit_policy_default(p);
	p->start = spec->start;
	p->restart = spec->restart;
	p->stop_timeout_ms = (uint64_t)spec->stop_timeout * 1000;
}

/* Binds all of a unit's sockets, or none: a unit is served whole. */
static bool
unit_bind(struct unit *u, unsigned backlog)
{
	for (size_t i = 0; i < u->nsocks; i++) {
		struct unit_sock *s = &u->socks[i];

		if (sock_bind(u->spec->name, s->spec, backlog, &s->b) < 0) {
			for (size_t j = 0; j < i; j++) {
				sock_unlink_ours(u->socks[j].spec->path,
				    &u->socks[j].b);
				fd_close(&u->socks[j].b.fd);
			}
			return false;
		}
		u->fds[i] = s->b.fd;
	}
	return true;
}

static void
unit_init(struct supervisor *sup, struct unit *u, const struct unit_spec *spec,
    char *const *parent_env)
{
	const char **names;

	memset(u, 0, sizeof(*u));
	u->sup = sup;
	u->spec = spec;
	u->status_fd = -1;
	unit_policy_from_spec(spec, &u->policy);
	unit_sm_init(&u->sm);
	u->nsocks = spec->nsockets;
	u->socks = xcalloc(u->nsocks, sizeof(*u->socks));
	u->fds = xcalloc(u->nsocks, sizeof(*u->fds));
	names = xcalloc(u->nsocks, sizeof(*names));
	for (size_t i = 0; i < u->nsocks; i++) {
		struct unit_sock *s = &u->socks[i];

		s->spec = &spec->sockets[i];
		s->b.fd = -1;
		s->unit = u;
		u->fds[i] = -1;
		names[i] = s->spec->name;
	}
	denv_build(sup->plan, spec, parent_env, &u->env);
	/* The plan validated every name, so this cannot fail. */
	(void)lfd_add_env(&u->env, names, u->nsocks);
	free(names);
	ev_init(&u->status_io, status_cb);
	u->status_io.data = u;
	ev_child_init(&u->child, child_cb, 0, 0);
	u->child.data = u;
	ev_init(&u->timer, timer_cb);
	u->timer.data = u;
}

/*
 * Binds every unit's sockets and starts watching them. A unit whose socket
 * cannot be bound is not served (said once); the others are.
 */
struct supervisor *
sup_new(struct ev_loop *loop, const struct plan *plan, char *const *parent_env,
    size_t *ret_serving)
{
	struct supervisor *sup = xcalloc(1, sizeof(*sup));
	size_t serving = 0;

	sup->loop = loop;
	sup->plan = plan;
	sup->nunits = plan->nunits;
	sup->units = xcalloc(sup->nunits, sizeof(*sup->units));
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = &sup->units[i];

		unit_init(sup, u, &plan->units[i], parent_env);
		u->serving = unit_bind(u, plan->backlog);
		if (!u->serving)
			continue;
		for (size_t j = 0; j < u->nsocks; j++) {
			ev_io_init(&u->socks[j].io, sock_cb, u->socks[j].b.fd,
			    EV_READ);
			u->socks[j].io.data = &u->socks[j];
		}
		unit_set_state(u, UNIT_LISTENING);
		serving++;
	}
	*ret_serving = serving;
	return sup;
}

/* At-launch units start now, so that autostart guests come up. */
void
sup_launch(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = &sup->units[i];

		if (u->serving && u->spec->start == START_AT_LAUNCH)
			unit_feed(u, UNIT_EV_LAUNCH, false, false);
	}
}

/*
 * SIGTERM each daemon's pid (never its group: QEMU must outlive it), except
 * those with stop_on_exit = no, which keep running on their sockets. The
 * loop breaks once no daemon is left to wait for.
 */
void
sup_shutdown(struct supervisor *sup)
{
	if (sup->shutting_down)
		return;
	sup->shutting_down = true;
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = &sup->units[i];

		if (!u->serving)
			continue;
		unit_watch(u, false);
		if (u->pid > 0 && !u->spec->stop_on_exit) {
			u->left_running = true;
			log_info("unit %s: leaving pid %ld running on its "
			    "sockets (stop_on_exit = no)", u->spec->name,
			    (long)u->pid);
			continue;
		}
		unit_feed(u, UNIT_EV_STOP, false, false);
		if (u->sm.state == UNIT_FAILED)
			ev_timer_stop(sup->loop, &u->timer);
	}
	check_shutdown(sup);
}

/* A daemon the broker still waits for. */
bool
sup_busy(const struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++)
		if (sup->units[i].pid > 0 && !sup->units[i].left_running)
			return true;
	return false;
}

void
sup_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = &sup->units[i];

		unit_watch(u, false);
		ev_timer_stop(sup->loop, &u->timer);
		ev_child_stop(sup->loop, &u->child);
		unit_close_status(u);
		for (size_t j = 0; j < u->nsocks; j++) {
			struct unit_sock *s = &u->socks[j];

			if (s->b.fd < 0)
				continue;
			if (!u->left_running)
				sock_unlink_ours(s->spec->path, &s->b);
			fd_close(&s->b.fd);
		}
		strv_free(&u->env);
		free(u->socks);
		free(u->fds);
	}
	free(sup->units);
	free(sup);
}
