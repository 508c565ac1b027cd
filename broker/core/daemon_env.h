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

/* Who a user's broker runs as, looked up at its start (usercred.h). */
struct denv_user {
	const char	*name, *home, *shell;
	const char	*xdg_runtime_dir;	/* NULL: none that is the user's */
};
/*
 * A user's broker's environment: a clean one, as a login gives it (HOME,
 * USER, LOGNAME, SHELL, the broker's PATH, XDG_RUNTIME_DIR only where it
 * is the user's), then the unit's env lines. Nothing of root's else.
 */
void	denv_build_user(const struct unit_spec *u, const struct denv_user *who,
	    char *const *parent_env, struct strv *ret_env);

#endif
