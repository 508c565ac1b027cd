/* SPDX-License-Identifier: MIT */
/*
 * Pure: what plan.c and plan_users.c share, private to them.
 */
#ifndef VB_PLAN_INT_H
#define VB_PLAN_INT_H

#include "plan.h"

/* Appends u (whose contents plan takes) to plan's units. */
void	plan_add(struct plan *plan, struct unit_spec *u);
/*
 * System mode: one unit user@NAME per user [broker] users names (groups
 * expanded by in->group_members), running in->self_exe --session as that
 * user; sections [user@NAME] change their defaults. Returns 0 or -EINVAL
 * (errors recorded in cfg).
 */
int	plan_users(struct config *cfg, struct plan *plan,
	    const struct plan_input *in);
/* Is uc a [user@NAME] section (not a daemon's)? */
bool	plan_is_user_section(const struct unit_conf *uc);

#endif
