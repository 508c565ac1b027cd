/* SPDX-License-Identifier: MIT */
/*
 * Pure: what plan.c and plan_users.c share, private to them.
 */
#ifndef VB_PLAN_INT_H
#define VB_PLAN_INT_H

#include "plan.h"

/*
 * System mode: one unit user@NAME per user [broker] users names (groups
 * expanded by in->group_members), running in->self_exe --session --boot
 * as that user; sections [user@NAME] change their defaults. The units
 * (the caller adds them to the plan, and frees the array) in ret_units.
 * Returns 0 or -EINVAL (errors recorded in cfg).
 */
int	plan_users(struct config *cfg, struct plan *plan,
	    const struct plan_input *in, struct unit_spec **ret_units,
	    size_t *ret_n);
/* Is uc a [user@NAME] section (not a daemon's)? */
bool	plan_is_user_section(const struct unit_conf *uc);

#endif
