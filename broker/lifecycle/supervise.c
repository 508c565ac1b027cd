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
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "proc.h"
#include "spawn.h"
#include "supervise.h"
#include "supervise_int.h"

#define SUP_FD_RESERVE 8
#include "xalloc.h"

void
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
void
unit_set_state(struct unit *u, enum unit_state next)
{
	enum unit_state prev = u->sm.state;

	u->sm.state = next;
	if (prev != next)
		u->since = time(NULL);
	if (prev != next)
		log_debug("unit %s: %s -> %s", u->spec.name,
		    unit_state_name(prev), unit_state_name(next));
	unit_watch(u, !u->sup->shutting_down &&
	    (next == UNIT_LISTENING || next == UNIT_FAILED));
	if (prev != next)
		ev_timer_stop(u->sup->loop, &u->timer);
}

/*
 * Clients of a failed unit are refused (EOF, not a hang). Anyone who can
 * connect can make many: the log gets one line per unit per
 * REFUSE_LOG_MS, with the count since the last.
 */
#define REFUSE_LOG_MS	10000

static void
unit_refuse(struct unit *u)
{
	uint64_t now = clock_mono_ms();

	for (size_t i = 0; i < u->nsocks; i++)
		if (u->socks[i].b.fd >= 0)
			u->refused += sock_refuse_pending(u->socks[i].b.fd);
	if (u->refused == 0 || (u->refuse_logged_ms != 0 &&
	    now - u->refuse_logged_ms < REFUSE_LOG_MS))
		return;
	log_info("unit %s: refused %lu connection%s (unit failed)%s",
	    u->spec.name, u->refused, u->refused == 1 ? "" : "s",
	    u->refuse_logged_ms != 0 ? " since the last report" : "");
	u->refused = 0;
	u->refuse_logged_ms = now;
}

static void
unit_signal(struct unit *u, int sig)
{
	if (u->pid > 0 && kill(u->pid, sig) < 0)
		log_warn("unit %s: kill %ld", u->spec.name, (long)u->pid);
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
		/* A user's broker hears of the host's shutdown: SIGPWR. */
		bool host = u->spec.user != NULL && u->sup->shutdown_intent;

		log_info("unit %s: stopping pid %ld (%s)", u->spec.name,
		    (long)u->pid, host ? "SIGPWR: the host shuts down" :
		    "SIGTERM");
		unit_signal(u, host ? SIGPWR : SIGTERM);
	}
	if ((st->actions & UNIT_ACT_KILL) && u->pid > 0) {
		log_warnx("unit %s: pid %ld still running %u s after SIGTERM; "
		    "sending SIGKILL", u->spec.name, (long)u->pid,
		    u->spec.stop_timeout);
		unit_signal(u, SIGKILL);
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

void
unit_feed(struct unit *u, enum unit_event ev, bool pending, bool exit_failed)
{
	struct unit_input in = {
		.ev = ev,
		.now_ms = clock_mono_ms(),
		.pending = pending,
		.exit_failed = exit_failed,
	};
	struct unit_step st;

	if (unit_next(&u->sm, &u->policy, &in, &st) < 0) {
		log_debug("unit %s: event %s ignored in state %s",
		    u->spec.name, unit_event_name(ev),
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
	log_debug("unit %s: client on %s", u->spec.name, s->spec->path);
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

/*
 * A unit's place in the shutdown order: users' brokers first (they save
 * their guests while the system daemons still serve), then the daemons,
 * virtlogd and virtlockd last (libvirt 12.5's order: a hypervisor daemon
 * saving guests still writes their logs and holds their locks).
 */
static int
stop_rank(const struct unit *u)
{
	return u->spec.stop_first ? 0 : u->spec.stop_last ? 2 : 1;
}

/* A daemon the broker waits for whose stop was not put off. */
static bool
others_busy(const struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		if ((unit_has_process(u) && !u->left_running &&
		    !u->stop_deferred) || u->job_pid > 0)
			return true;
	}
	return false;
}

/*
 * At shutdown: once the daemons being stopped have exited, the next rank
 * of those put off (stop_rank); then the loop ends once nothing is left
 * to wait for.
 */
void
sup_check_shutdown(struct supervisor *sup)
{
	int next = 3;

	if (!sup->shutting_down)
		return;
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		if (u->stop_deferred && !unit_has_process(u))
			u->stop_deferred = false;	/* gone by itself */
		else if (u->stop_deferred && stop_rank(u) < next)
			next = stop_rank(u);
	}
	if (!others_busy(sup))
		for (size_t i = 0; i < sup->nunits; i++) {
			struct unit *u = sup->units[i];

			if (!u->stop_deferred || stop_rank(u) != next)
				continue;
			u->stop_deferred = false;
			unit_feed(u, UNIT_EV_STOP, false, false);
		}
	if (!sup_busy(sup))
		ev_break(sup->loop, EVBREAK_ALL);
}

bool
unit_has_process(const struct unit *u)
{
	return u->pid > 0;
}


static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct unit *u = w->data;
	struct supervisor *sup = u->sup;
	char desc[128];
	bool failed;

	(void)revents;
	ev_child_stop(loop, w);
	if (u->status_fd >= 0)		/* ev_child can beat the pipe's EOF */
		status_cb(loop, &u->status_io, EV_READ);
	dlog_drain(&u->log);		/* its last words, before we judge */
	u->last_status = w->rstatus;
	u->exited_once = true;
	proc_describe_status(w->rstatus, desc, sizeof(desc));
	log_info("unit %s: pid %ld %s", u->spec.name, (long)u->pid, desc);
	u->pid = 0;
	u->phase = UNIT_PHASE_NONE;	/* STATUS= stays: its last words */
	failed = !WIFEXITED(w->rstatus) || WEXITSTATUS(w->rstatus) != 0;
	unit_feed(u, UNIT_EV_EXIT, sock_any_pending(u->fds, u->nsocks), failed);
	if (u->restart_pending && !sup->shutting_down) {
		u->restart_pending = false;
		unit_feed(u, UNIT_EV_LAUNCH, false, false);
	}
	sup->hooks->settle(u);		/* may free u */
	sup_check_shutdown(sup);
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
	p->start_limit_burst = spec->start_limit_burst;
	p->start_limit_interval_ms = (uint64_t)spec->start_limit_interval *
	    1000;
	p->failed_cooldown_ms = (uint64_t)spec->failed_cooldown * 1000;
}

/*
 * What follows from u->spec alone: the policy. (The environment is built
 * at each start, unit_spawn: idle units keep none.)
 */
void
unit_derive_policy(struct unit *u)
{
	unit_policy_from_spec(&u->spec, &u->policy);
}

/* The socket table for u->spec's sockets, none bound yet. */
void
unit_alloc_socks(struct unit *u)
{
	free(u->socks);
	free(u->fds);
	u->nsocks = u->spec.nsockets;
	u->socks = xcalloc(u->nsocks, sizeof(*u->socks));
	u->fds = xcalloc(u->nsocks, sizeof(*u->fds));
	for (size_t i = 0; i < u->nsocks; i++) {
		struct unit_sock *s = &u->socks[i];

		s->spec = &u->spec.sockets[i];
		s->b.fd = -1;
		s->unit = u;
		u->fds[i] = -1;
		ev_init(&s->io, sock_cb);
		s->io.data = s;
	}
}

/*
 * Binds all of a unit's sockets, or none: a unit is served whole. Returns
 * 0, -EADDRINUSE with *ret_live the socket a live daemon we did not start
 * serves, or another -errno (said already).
 */
int
unit_bind(struct unit *u, size_t *ret_live)
{
	for (size_t i = 0; i < u->nsocks; i++) {
		struct unit_sock *s = &u->socks[i];
		int r = inherit_take_listener(s->spec->path, SOCK_STREAM,
		    &s->b);

		if (r < 0)	/* not left open by a reexec: bind it */
			r = sock_bind(u->spec.name, s->spec,
			    u->sup->plan->backlog, &s->b);

		if (r < 0) {
			for (size_t j = 0; j < i; j++) {
				sock_unlink_ours(u->socks[j].spec->path,
				    &u->socks[j].b);
				fd_close(&u->socks[j].b.fd);
				u->fds[j] = -1;
			}
			*ret_live = i;
			return r;
		}
		u->fds[i] = s->b.fd;
		ev_io_set(&s->io, s->b.fd, EV_READ);
	}
	return 0;
}

/* A child started by the broker before a reexec serves u (reexec.c). */
void
unit_resume_child(struct unit *u, pid_t pid)
{
	u->pid = pid;
	ev_child_set(&u->child, pid, 0);
	ev_child_start(u->sup->loop, &u->child);
	unit_set_state(u, UNIT_RUNNING);
}

/* Closes the unit's sockets and removes the paths it bound. */
void
unit_unbind(struct unit *u)
{
	unit_watch(u, false);
	for (size_t i = 0; i < u->nsocks; i++) {
		struct unit_sock *s = &u->socks[i];

		if (s->b.fd < 0)
			continue;
		if (!u->left_running)
			sock_unlink_ours(s->spec->path, &s->b);
		fd_close(&s->b.fd);
		u->fds[i] = -1;
	}
	u->serving = false;
}

/* Binds the unit, or adopts the daemon that already serves it. */
void
unit_serve(struct unit *u)
{
	size_t live = 0;
	int r;

	/* A socket a reexec left us is ours: a probe would queue a client. */
	if (!(u->spec.nsockets > 0 &&
	    inherit_has_listener(u->spec.sockets[0].path)) &&
	    u->sup->hooks->adopt_published(u))
		return;
	r = unit_bind(u, &live);
	u->serving = r == 0;
	if (r == 0)
		unit_set_state(u, UNIT_LISTENING);
	else if (r == -EADDRINUSE)
		u->sup->hooks->adopt(u, live);
}

/* A unit for spec, whose contents it takes (spec is left empty). */
struct unit *
unit_new(struct supervisor *sup, struct unit_spec *spec)
{
	struct unit *u = xcalloc(1, sizeof(*u));

	u->sup = sup;
	u->status_fd = -1;
	u->pidfd = -1;
	u->ready_ms = -1;
	u->since = time(NULL);
	u->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	unit_sm_init(&u->sm);
	ev_init(&u->status_io, status_cb);
	u->status_io.data = u;
	ev_child_init(&u->child, child_cb, 0, 0);
	u->child.data = u;
	ev_init(&u->timer, timer_cb);
	u->timer.data = u;
	unit_derive_policy(u);
	unit_alloc_socks(u);
	dlog_init(&u->log, sup->loop, u->spec.name, u->spec.log,
	    u->spec.log_path, u->spec.log_max_size, u->spec.log_keep);
	unit_serve(u);
	return u;
}

static void
unit_free(struct unit *u)
{
	struct ev_loop *loop = u->sup->loop;

	unit_unbind(u);
	ev_timer_stop(loop, &u->timer);
	ev_child_stop(loop, &u->child);
	ev_child_stop(loop, &u->job_child);	/* guests.c's, if any */
	ev_timer_stop(loop, &u->job_timer);
	ev_io_stop(loop, &u->adopt_io);
	ev_timer_stop(loop, &u->adopt_timer);
	fd_close(&u->pidfd);
	free(u->adopted_dir);
	free(u->status_text);
	unit_close_status(u);
	dlog_close(&u->log);
	free(u->socks);
	free(u->fds);
	if (u->next_spec != NULL) {
		unit_spec_clear(u->next_spec);
		free(u->next_spec);
	}
	unit_spec_clear(&u->spec);
	free(u->key);
	free(u);
}

void
sup_remove(struct supervisor *sup, struct unit *u)
{
	strmap_del(&sup->by_name, u->key);
	for (size_t i = 0; i < sup->nunits; i++) {
		if (sup->units[i] != u)
			continue;
		memmove(&sup->units[i], &sup->units[i + 1],
		    (sup->nunits - i - 1) * sizeof(*sup->units));
		sup->nunits--;
		break;
	}
	unit_free(u);
}

/* Frees the units marked dropped, in one pass: a reload removing many. */
void
sup_drop_marked(struct supervisor *sup)
{
	size_t j = 0;

	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		if (!u->dropped) {
			sup->units[j++] = u;
			continue;
		}
		strmap_del(&sup->by_name, u->key);
		unit_free(u);
	}
	sup->nunits = j;
}

void
sup_add(struct supervisor *sup, struct unit *u)
{
	sup->units = xgrow(sup->units, sup->nunits, sizeof(*sup->units));
	sup->units[sup->nunits++] = u;
	u->key = xstrdup(u->spec.name);	/* spec.name changes at a reload */
	strmap_set(&sup->by_name, u->key, (size_t)(uintptr_t)u);
}

/*
 * Binds every unit's sockets and starts watching them. A unit whose socket
 * cannot be bound is not served (said once); the others are. The units
 * take the plan's unit specs (plan_release_units).
 */
struct supervisor *
sup_new(struct ev_loop *loop, struct plan *plan, const struct sup_hooks *hooks,
    char *const *parent_env, size_t *ret_serving)
{
	struct supervisor *sup = xcalloc(1, sizeof(*sup));
	size_t serving = 0;
	int reserve[SUP_FD_RESERVE];

	sup->loop = loop;
	sup->hooks = hooks;
	sup->plan = plan;
	sup->parent_env = parent_env;
	sup->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sup->null_fd < 0)
		fatal("/dev/null");
	/*
	 * Fds held back while binding, so that a broker at its fd limit
	 * still has what one start needs (output and exec-status pipes: 4)
	 * after what it opens once its units are bound (control and notify
	 * sockets, the mount table, the holder: 4). Binding a socket needs
	 * one fd at a time where only we can write (sock.c), so nothing
	 * else leaves room for these.
	 */
	for (size_t i = 0; i < SUP_FD_RESERVE; i++)
		reserve[i] = fcntl(sup->null_fd, F_DUPFD_CLOEXEC, 3);
	for (size_t i = 0; i < plan->nunits; i++) {
		struct unit *u = unit_new(sup, &plan->units[i]);

		sup_add(sup, u);
		serving += u->serving || u->adopted_pid > 0;	/* or adopted */
	}
	for (size_t i = 0; i < SUP_FD_RESERVE; i++)
		fd_close(&reserve[i]);
	plan_release_units(plan);
	*ret_serving = serving;
	return sup;
}

void
unit_launch_if(struct unit *u)
{
	if (u->serving && u->spec.start == START_AT_LAUNCH)
		unit_feed(u, UNIT_EV_LAUNCH, false, false);
}

/* At-launch units start now, so that autostart guests come up. */
void
sup_launch(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++)
		unit_launch_if(sup->units[i]);
}

struct unit *
sup_unit(const struct supervisor *sup, const char *name)
{
	size_t v;

	return strmap_get(&sup->by_name, name, &v) ?
	    (struct unit *)(uintptr_t)v : NULL;
}

/*
 * SIGTERM each daemon's pid (never its group: QEMU must outlive it), except
 * those with stop_on_exit = no, which keep running on their sockets. The
 * loop breaks once no daemon is left to wait for.
 */
void
sup_shutdown(struct supervisor *sup)
{
	int first = 3;

	if (sup->shutting_down)
		return;
	sup->shutting_down = true;
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		if (u->serving && unit_has_process(u) && u->spec.stop_on_exit &&
		    stop_rank(u) < first)
			first = stop_rank(u);
	}
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		unit_watch(u, false);
		if (!u->serving)
			continue;
		if (unit_has_process(u) && !u->spec.stop_on_exit) {
			u->left_running = true;
			log_info("unit %s: leaving pid %ld running on its "
			    "sockets (stop_on_exit = no)", u->spec.name,
			    (long)u->pid);
			continue;
		}
		if (unit_has_process(u) && stop_rank(u) > first) {
			u->stop_deferred = true;	/* sup_check_shutdown() */
			continue;
		}
		if (sup->hooks->guests_first != NULL &&
		    sup->hooks->guests_first(u))
			continue;		/* then its STOP, by guests.c */
		unit_feed(u, UNIT_EV_STOP, false, false);
		if (u->sm.state == UNIT_FAILED)
			ev_timer_stop(sup->loop, &u->timer);
	}
	sup_check_shutdown(sup);
}

void
sup_shutdown_for_host(struct supervisor *sup)
{
	if (!sup->shutting_down)
		sup->shutdown_intent = true;
	sup_shutdown(sup);
}

/* Does a daemon the broker did not start serve one of the units? */
bool
sup_any_adopted(const struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++)
		if (sup->units[i]->adopted_pid > 0)
			return true;
	return false;
}

/* A daemon the broker still waits for. */
bool
sup_busy(const struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++)
		if ((unit_has_process(sup->units[i]) &&
		    !sup->units[i]->left_running) ||
		    sup->units[i]->job_pid > 0)	/* guests still saving */
			return true;
	return false;
}

void
sup_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	for (size_t i = 0; i < sup->nunits; i++)
		unit_free(sup->units[i]);
	free(sup->units);
	strmap_clear(&sup->by_name);
	fd_close(&sup->null_fd);
	free(sup);
}

/*
 * The file names of the sockets served in dir (R): by us, or by a daemon
 * we adopted. With left_only, only those of daemons left running at exit.
 * ret_owners (if not NULL) gets, per name, the libvirt daemon that a client
 * would spawn for it (the unit's binary, if the catalog knows it), or "".
 */
void
sup_socket_names(const struct supervisor *sup, const char *dir,
    bool left_only, struct strv *ret_names, struct strv *ret_owners)
{
	size_t dlen = strlen(dir);

	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		if (left_only ? !u->left_running : !u->serving &&
		    u->adopted_pid <= 0)
			continue;
		const char *bin = strrchr(u->spec.exec, '/');

		bin = bin != NULL ? bin + 1 : u->spec.exec;
		for (size_t j = 0; j < u->spec.nsockets; j++) {
			const char *path = u->spec.sockets[j].path;

			if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/' ||
			    strchr(path + dlen + 1, '/') != NULL)
				continue;
			strv_add(ret_names, path + dlen + 1);
			if (ret_owners != NULL)
				strv_add(ret_owners, catalog_find(bin) != NULL ?
				    bin : "");
		}
	}
}

/* "exited with status 0", "killed by signal 9 (Killed)", or "-". */
void
unit_describe_exit(const struct unit *u, char *buf, size_t size)
{
	if (!u->exited_once)
		snprintf(buf, size, "-");
	else
		proc_describe_status(u->last_status, buf, size);
}

/*
 * An operator's command (virt-brokerctl): start, stop, restart, reset.
 * Returns 0, or -EINVAL with a message for one that cannot apply.
 */
int
sup_unit_command(struct unit *u, const char *cmd, const char **reterr_msg)
{
	if (!u->serving && u->adopted_pid <= 0) {
		*reterr_msg = "the unit is not served (see the broker's log)";
		return -EINVAL;
	}
	if (u->adopted_pid > 0 && strcmp(cmd, "reset") != 0) {
		*reterr_msg = "the unit's daemon was adopted, not started by "
		    "this broker: stop it yourself, the broker then serves it";
		return -EINVAL;
	}
	if (strcmp(cmd, "start") == 0) {
		unit_feed(u, UNIT_EV_LAUNCH, false, false);
	} else if (strcmp(cmd, "stop") == 0) {
		u->restart_pending = false;
		unit_feed(u, UNIT_EV_STOP, false, false);
	} else if (strcmp(cmd, "restart") == 0) {
		if (unit_has_process(u)) {
			u->restart_pending = true;
			unit_feed(u, UNIT_EV_STOP, false, false);
		} else {
			unit_feed(u, UNIT_EV_LAUNCH, false, false);
		}
	} else if (strcmp(cmd, "reset") == 0) {
		unit_feed(u, UNIT_EV_RESET, false, false);
	} else {
		*reterr_msg = "unknown command";
		return -EINVAL;
	}
	return 0;
}

/* Every listening socket of the served units (fds from 3 up). */
void
sup_listen_fds(const struct supervisor *sup, int **ret, size_t *ret_n)
{
	size_t n = 0, cap = 0;
	int *v;

	for (size_t i = 0; i < sup->nunits; i++)
		cap += sup->units[i]->nsocks;
	v = xcalloc(cap + 1, sizeof(*v));
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		for (size_t j = 0; j < u->nsocks; j++)
			if (u->socks[j].b.fd >= 0)
				v[n++] = u->socks[j].b.fd;
	}
	*ret = v;
	*ret_n = n;
}
