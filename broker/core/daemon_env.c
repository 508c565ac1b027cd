/* SPDX-License-Identifier: MIT */
/*
 * Pure: a daemon's environment. Like libvirt's own autospawn
 * (virNetSocketForkDaemon), a daemon gets a small set of the broker's
 * variables, not all of them: user identity, PATH, locale, and the XDG
 * directories. In session mode the daemon must resolve the same runtime
 * dir R as the broker; otherwise its own client connections (virtqemud ->
 * virtnetworkd, virtlogd) and its pidfile would land elsewhere, the split
 * state LIBVIRT.md describes. With R = ~/.cache/libvirt (the default),
 * XDG_RUNTIME_DIR is left unset, as when libvirt resolves its fallback;
 * with another R it is set to R's parent. What XDG_RUNTIME_DIR would have
 * told QEMU's audio (PIPEWIRE_RUNTIME_DIR) is handed over explicitly. The
 * desktop's session bus (DBUS_SESSION_BUS_ADDRESS) is not: a session daemon
 * on it exits (9.0) or saves its guests (11.2+) when that bus goes away at
 * logout. The unit's env lines come last and win.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon_env.h"
#include "xalloc.h"

#define DENV_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"

static const char *const denv_keep[] = {
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE",
	"LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LC_NUMERIC", "LC_TIME",
	"LC_COLLATE", "LC_MONETARY", "TZ", "XDG_CACHE_HOME",
	"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
	"PIPEWIRE_RUNTIME_DIR",
};

static bool
denv_kept(const char *assignment)
{
	size_t klen = strcspn(assignment, "=");

	if (assignment[klen] != '=')
		return false;
	for (size_t i = 0; i < sizeof(denv_keep) / sizeof(denv_keep[0]); i++)
		if (strlen(denv_keep[i]) == klen &&
		    strncmp(denv_keep[i], assignment, klen) == 0)
			return true;
	return false;
}

/* Index of the entry setting the same variable as assignment, or -1. */
static long
denv_find(const struct strv *env, const char *assignment)
{
	size_t klen = strcspn(assignment, "=");

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], assignment, klen + 1) == 0)
			return (long)i;
	return -1;
}

static void
denv_set(struct strv *env, const char *assignment)
{
	long i = denv_find(env, assignment);

	if (i < 0) {
		strv_add(env, assignment);
		return;
	}
	free(env->v[i]);
	env->v[i] = xstrdup(assignment);
}

void
denv_build(const struct plan *plan, const struct unit_spec *u,
    char *const *parent_env, struct strv *ret_env)
{
	struct strv env = { 0 };

	for (size_t i = 0; parent_env != NULL && parent_env[i] != NULL; i++)
		if (denv_kept(parent_env[i]) && denv_find(&env,
		    parent_env[i]) < 0)
			strv_add(&env, parent_env[i]);
	if (denv_find(&env, "PATH=") < 0)
		strv_add(&env, "PATH=" DENV_DEFAULT_PATH);
	if (plan->daemon_xdg_runtime_dir != NULL)
		strv_push(&env, xasprintf("XDG_RUNTIME_DIR=%s",
		    plan->daemon_xdg_runtime_dir));
	if (plan->pipewire_runtime_dir != NULL &&
	    denv_find(&env, "PIPEWIRE_RUNTIME_DIR=") < 0)
		strv_push(&env, xasprintf("PIPEWIRE_RUNTIME_DIR=%s",
		    plan->pipewire_runtime_dir));
	if (plan->notify_socket != NULL)	/* READY=1: see notify.c */
		strv_push(&env, xasprintf("NOTIFY_SOCKET=%s",
		    plan->notify_socket));
	for (size_t i = 0; i < u->env.n; i++)
		denv_set(&env, u->env.v[i]);
	strv_free(ret_env);
	*ret_env = env;
}

void
denv_build_user(const struct unit_spec *u, const struct denv_user *who,
    char *const *parent_env, struct strv *ret_env)
{
	struct strv env = { 0 };
	const char *path = NULL;

	for (size_t i = 0; parent_env != NULL && parent_env[i] != NULL; i++)
		if (strncmp(parent_env[i], "PATH=", 5) == 0)
			path = parent_env[i];
	strv_add(&env, path != NULL ? path : "PATH=" DENV_DEFAULT_PATH);
	strv_push(&env, xasprintf("HOME=%s", who->home));
	strv_push(&env, xasprintf("USER=%s", who->name));
	strv_push(&env, xasprintf("LOGNAME=%s", who->name));
	strv_push(&env, xasprintf("SHELL=%s", who->shell));
	if (who->xdg_runtime_dir != NULL)
		strv_push(&env, xasprintf("XDG_RUNTIME_DIR=%s",
		    who->xdg_runtime_dir));
	for (size_t i = 0; i < u->env.n; i++)
		denv_set(&env, u->env.v[i]);
	strv_free(ret_env);
	*ret_env = env;
}
