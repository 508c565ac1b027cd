/* SPDX-License-Identifier: MIT */
/*
 * Pure: the environment a daemon is exec'd with (without LISTEN_*, which
 * listenfds.h adds per start).
 */
#ifndef VB_DAEMON_ENV_H
#define VB_DAEMON_ENV_H

#include "plan.h"
#include "strv.h"

void	denv_build(const struct plan *plan, const struct unit_spec *u,
	    char *const *parent_env, struct strv *ret_env);

#endif
