/* SPDX-License-Identifier: MIT */
/*
 * Edge: what changes under running units. A reload (SIGHUP, virt-brokerctl
 * reload) brings a new plan; the filesystem (fswatch) may remove socket
 * files. Units with no daemon take the change at once; the others when
 * their daemon exits (unit_settle).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "supervise_int.h"
#include "xalloc.h"

/* New sockets for a unit with no daemon: unbind the old, bind the new. */
static void unit_rebind_files(struct unit *u);

void
unit_rebind(struct unit *u, struct unit_spec *spec)
{
	u->paths_lost = false;
	unit_unbind(u);
	ev_timer_stop(u->sup->loop, &u->timer);
	unit_spec_clear(&u->spec);
	u->spec = *spec;		/* takes ownership of its contents */
	free(spec);
	unit_derive_policy(u);
	unit_alloc_socks(u);
	dlog_set_dest(&u->log, u->spec.name, u->spec.log, u->spec.log_path,
	    u->spec.log_max_size, u->spec.log_keep);
	unit_sm_init(&u->sm);
	if (u->adopted_pid > 0) {	/* still adopted: bound on its exit */
		unit_set_state(u, UNIT_ADOPTED);
		return;
	}
	unit_serve(u);
	if (u->serving)
		log_info("unit %s: sockets bound again", u->spec.name);
}

/*
 * Applies what a reload left pending, once the unit has no daemon: removal,
 * or new sockets. May free u.
 */
void
unit_settle(struct unit *u)
{
	struct unit_spec *next;

	if (unit_has_process(u) || u->sup->shutting_down)
		return;
	if (u->removing) {
		log_info("unit %s: removed", u->spec.name);
		sup_remove(u->sup, u);
		return;
	}
	if (u->next_spec != NULL) {
		next = u->next_spec;
		u->next_spec = NULL;
		unit_rebind(u, next);
	} else if (u->paths_lost) {
		unit_rebind_files(u);
	}
}

/* A changed unit: what can change now does; new sockets wait for exit. */
static void
unit_update(struct unit *u, const struct unit_spec *ns)
{
	struct unit_spec *copy;

	if (u->sm.state == UNIT_FAILED)
		unit_feed(u, UNIT_EV_RESET, false, false);
	if (unit_spec_equal(&u->spec, ns) && u->serving)
		return;
	copy = xcalloc(1, sizeof(*copy));
	unit_spec_copy(copy, ns);
	if (!unit_spec_same_sockets(&u->spec, ns) || !u->serving) {
		if (unit_has_process(u)) {
			log_info("unit %s: new sockets apply once pid %ld "
			    "exits", u->spec.name, (long)u->pid);
			if (u->next_spec != NULL) {
				unit_spec_clear(u->next_spec);
				free(u->next_spec);
			}
			u->next_spec = copy;
		} else {
			unit_rebind(u, copy);
		}
		return;
	}
	/* Same sockets: keep the fds, take the rest for the next start. */
	unit_spec_clear(&u->spec);
	u->spec = *copy;
	free(copy);
	for (size_t i = 0; i < u->nsocks; i++)
		u->socks[i].spec = &u->spec.sockets[i];
	unit_derive_policy(u);
	dlog_set_dest(&u->log, u->spec.name, u->spec.log, u->spec.log_path,
	    u->spec.log_max_size, u->spec.log_keep);
	log_info("unit %s: changed; applies at its next start", u->spec.name);
}

/*
 * Makes the running units match a new plan (SIGHUP). Unchanged units are
 * not touched; changed exec, args, env and policies apply at the next
 * start; new sockets are bound once the unit's daemon is not running; a
 * removed unit is stopped and its sockets removed; a new unit is bound at
 * once. The caller keeps plan alive until the next reload; once applied,
 * it has no units left (plan_release_units).
 */
int
sup_reload(struct supervisor *sup, struct plan *plan)
{
	const struct plan *old = sup->plan;

	if (plan->mode != old->mode ||
	    strcmp(plan->runtime_dir, old->runtime_dir) != 0) {
		log_warnx("reload: mode or runtime_dir changed; that needs a "
		    "restart, keeping the running configuration");
		return -EINVAL;
	}
	sup->plan = plan;
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];
		const struct unit_spec *ns = plan_find(plan, u->spec.name);

		if (ns != NULL) {
			if (u->removing)
				log_info("unit %s: configured again; kept",
				    u->spec.name);
			u->removing = false;	/* re-added while stopping */
			unit_update(u, ns);
			continue;
		}
		log_info("unit %s: no longer configured; stopping it",
		    u->spec.name);
		u->removing = true;
		if (unit_has_process(u))
			unit_feed(u, UNIT_EV_STOP, false, false);
		else
			u->dropped = true;
	}
	sup_drop_marked(sup);	/* one pass, however many */
	for (size_t i = 0; i < plan->nunits; i++) {
		struct unit *u;

		if (sup_unit(sup, plan->units[i].name) != NULL)
			continue;
		u = unit_new(sup, &plan->units[i]);	/* takes it */
		sup_add(sup, u);
		log_info("unit %s: added", u->spec.name);
		unit_launch_if(u);
	}
	plan_release_units(plan);
	return 0;
}

/* Is every socket the unit bound still at its path, as the inode we bound? */
static bool
unit_paths_intact(const struct unit *u)
{
	for (size_t i = 0; i < u->nsocks; i++) {
		const struct unit_sock *s = &u->socks[i];
		struct stat st;

		if (s->b.fd < 0 || s->b.ino == 0)	/* inet: no path */
			continue;
		if (lstat(s->spec->path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
		    st.st_dev != s->b.dev || st.st_ino != s->b.ino)
			return false;
	}
	return true;
}

/*
 * The unit's socket files were removed and no daemon runs: bind them again.
 * Only the files change: the state machine keeps its state, so a relaunch
 * pending in backoff, or the failed state, survives (a reload's
 * unit_rebind starts afresh instead).
 */
static void
unit_rebind_files(struct unit *u)
{
	enum unit_state state = u->sm.state;
	size_t live = 0;
	int r;

	u->paths_lost = false;
	unit_unbind(u);
	r = unit_bind(u, &live);
	u->serving = r == 0;
	if (r == -EADDRINUSE) {
		unit_sm_init(&u->sm);
		unit_adopt(u, live);
	} else if (r == 0) {
		unit_set_state(u, state);	/* watches as that state does */
		log_info("unit %s: sockets bound again", u->spec.name);
	} else {
		u->paths_lost = true;		/* the next check tries again */
	}
}

/*
 * Something changed in R (fswatch): a socket file removed, or R itself
 * deleted (runtime_dir = xdg, at logout). A unit with no daemon is bound
 * again at once; one whose daemon runs keeps serving the clients it has,
 * and is bound again when that daemon exits (clients that connect meanwhile
 * cannot reach it: we say so).
 */
void
sup_check_paths(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		if (u->paths_lost) {
			if (!unit_has_process(u))
				unit_rebind_files(u);
			continue;
		}
		if (!u->serving || unit_paths_intact(u))
			continue;
		u->paths_lost = true;
		if (unit_has_process(u)) {
			log_warnx("unit %s: its socket files were removed while "
			    "pid %ld runs; new clients cannot reach it until it "
			    "exits, then they are bound again", u->spec.name,
			    (long)u->pid);
			continue;
		}
		log_warnx("unit %s: its socket files were removed; binding "
		    "them again", u->spec.name);
		unit_rebind_files(u);
	}
}

const struct sup_hooks sup_lifecycle_hooks = {
	.adopt = unit_adopt,
	.adopt_published = unit_adopt_published,
	.settle = unit_settle,
	.guests_first = guests_first,
};
