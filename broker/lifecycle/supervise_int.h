/* SPDX-License-Identifier: MIT */
/*
 * Edge, internal to the supervisor: what supervise.c (a unit's life),
 * unit_exec.c (starting its daemon), adopt.c (daemons the broker did not
 * start) and reload.c (new config, new socket files) share. Nothing else
 * includes this.
 */
#ifndef VB_SUPERVISE_INT_H
#define VB_SUPERVISE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervise.h"

/* supervise.c */
void		 unit_set_state(struct unit *u, enum unit_state next);
void		 unit_feed(struct unit *u, enum unit_event ev, bool pending,
		    bool exit_failed);
void		 unit_watch(struct unit *u, bool on);
bool		 unit_has_process(const struct unit *u);
void		 unit_derive_policy(struct unit *u);
void		 unit_alloc_socks(struct unit *u);
int		 unit_bind(struct unit *u, size_t *ret_live);
void		 unit_unbind(struct unit *u);
void		 unit_resume_child(struct unit *u, pid_t pid);
void		 unit_serve(struct unit *u);
struct unit	*unit_new(struct supervisor *sup, struct unit_spec *spec);
void		 sup_release_plan_units(struct plan *plan);
void		 unit_launch_if(struct unit *u);
void		 sup_add(struct supervisor *sup, struct unit *u);
void		 sup_remove(struct supervisor *sup, struct unit *u);
void		 sup_drop_marked(struct supervisor *sup);

/* unit_exec.c */
int		 unit_spawn(struct unit *u);
bool		 unit_runs_qemu_driver(const struct unit *u);
void		 unit_gave_up(struct unit *u);
void		 unit_close_status(struct unit *u);

/* supervise.c: the loop ends once nothing is left to wait for */
void		 sup_check_shutdown(struct supervisor *sup);

/* guests.c: a session's guests at the host's shutdown (a hook) */
bool		 guests_first(struct unit *u);

/* adopt.c */
void		 unit_adopt(struct unit *u, size_t live);
void		 unit_adopt_held(struct unit *u, pid_t pid);
bool		 unit_adopt_published(struct unit *u);

/* reload.c */
void		 unit_rebind(struct unit *u, struct unit_spec *spec);
void		 unit_settle(struct unit *u);

#endif
