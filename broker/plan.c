/* SPDX-License-Identifier: MIT */
/*
 * Pure: merges the config with the catalog into the plan. A catalog daemon
 * is served only if its binary is found (exec, or search_path), so clients
 * never find a socket nobody can serve; monolithic libvirtd only when no
 * modular daemon is. A section naming a catalog daemon overrides its
 * defaults; a section with a new name adds a unit and must give exec and at
 * least one socket. Errors go to cfg->errors like parse errors do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "listenfds.h"
#include "paths.h"
#include "plan.h"
#include "xalloc.h"

static void
sock_spec_clear(struct sock_spec *s)
{
	free(s->name);
	free(s->path);
	free(s->group);
}

static void
unit_spec_clear(struct unit_spec *u)
{
	free(u->name);
	free(u->exec);
	strv_free(&u->argv);
	strv_free(&u->env);
	for (size_t i = 0; i < u->nsockets; i++)
		sock_spec_clear(&u->sockets[i]);
	free(u->sockets);
}

void
plan_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->nunits; i++)
		unit_spec_clear(&plan->units[i]);
	free(plan->units);
	free(plan->runtime_dir);
	free(plan->daemon_xdg_runtime_dir);
	strv_free(&plan->notices);
	free(plan);
}

const struct unit_spec *
plan_find(const struct plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nunits; i++)
		if (strcmp(plan->units[i].name, name) == 0)
			return &plan->units[i];
	return NULL;
}

/* The first dir/name in search_path that is executable, or NULL. */
static char *
find_binary(const char *search_path, const char *name,
    const struct plan_input *in)
{
	const char *p = search_path;

	for (;;) {
		size_t len = strcspn(p, ":");
		char *dir = xstrndup(p, len);
		char *path = paths_join(dir, name);

		free(dir);
		if (in->is_executable(path, in->arg))
			return path;
		free(path);
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

static int
resolve_runtime_dir(struct config *cfg, struct plan *plan,
    const struct plan_input *in)
{
	int r;

	if (cfg->runtime_dir != NULL)
		plan->runtime_dir = xstrdup(cfg->runtime_dir);
	else if (plan->mode == BROKER_MODE_SYSTEM)
		plan->runtime_dir = xstrdup(PATHS_SYSTEM_RUNTIME_DIR);
	else {
		r = paths_session_runtime_dir(in->xdg_runtime_dir,
		    in->xdg_cache_home, in->home, &plan->runtime_dir);
		if (r < 0) {
			cfg_error(cfg, 0, "cannot resolve the runtime directory:"
			    " neither XDG_RUNTIME_DIR, XDG_CACHE_HOME nor HOME "
			    "is set");
			return r;
		}
	}
	if (plan->mode == BROKER_MODE_SESSION) {
		/* Daemons find R as $XDG_RUNTIME_DIR/libvirt: keep it so. */
		const char *base = strrchr(plan->runtime_dir, '/');

		if (strcmp(base + 1, PATHS_LIBVIRT_SUBDIR) != 0 ||
		    base == plan->runtime_dir) {
			cfg_error(cfg, 0, "runtime_dir '%s' must end in "
			    "'/libvirt': session daemons look for their "
			    "sockets in $XDG_RUNTIME_DIR/libvirt",
			    plan->runtime_dir);
			return -EINVAL;
		}
		plan->daemon_xdg_runtime_dir = paths_dirname(plan->runtime_dir);
	}
	return 0;
}

/* The sockets: the section's own, else the catalog's for this mode. */
static void
resolve_sockets(const struct plan *plan, const struct unit_conf *uc,
    const struct catalog_entry *ce, struct unit_spec *u)
{
	if (uc != NULL && uc->nsockets > 0) {
		u->sockets = xcalloc(uc->nsockets, sizeof(*u->sockets));
		for (size_t i = 0; i < uc->nsockets; i++) {
			u->sockets[i].name = xstrdup(uc->sockets[i].name);
			u->sockets[i].path = paths_join(plan->runtime_dir,
			    uc->sockets[i].path);
			u->sockets[i].mode = uc->sockets[i].mode;
			if (uc->sockets[i].group != NULL)
				u->sockets[i].group =
				    xstrdup(uc->sockets[i].group);
		}
		u->nsockets = uc->nsockets;
	} else if (ce != NULL) {
		const struct catalog_socket *cs =
		    plan->mode == BROKER_MODE_SYSTEM ? ce->system : ce->session;

		u->nsockets = catalog_nsockets(cs);
		u->sockets = xcalloc(u->nsockets, sizeof(*u->sockets));
		for (size_t i = 0; i < u->nsockets; i++) {
			u->sockets[i].name = xstrdup(cs[i].name);
			u->sockets[i].path = paths_join(plan->runtime_dir,
			    cs[i].path);
			u->sockets[i].mode = cs[i].mode;
		}
	}
}

/*
 * Resolves one unit from its catalog row (may be NULL) and its section (may
 * be NULL). Returns 1 if it is to be served, 0 if skipped (with a notice,
 * or its name added to missing when its binary is not installed), -EINVAL
 * on a config error.
 */
static int
resolve_unit(struct config *cfg, struct plan *plan,
    const struct plan_input *in, const struct catalog_entry *ce,
    const struct unit_conf *uc, struct unit_spec *u, struct strv *missing)
{
	const char *name = ce != NULL ? ce->name : uc != NULL ? uc->name : "?";
	int line = uc != NULL ? uc->line : 0;

	memset(u, 0, sizeof(*u));
	u->start = START_ON_DEMAND;
	u->restart = RESTART_ON_FAILURE;
	u->stop_timeout = CFG_DEFAULT_STOP_TIMEOUT;
	u->stop_on_exit = true;
	if (ce != NULL) {
		if (ce->role == CATALOG_HYPERVISOR ||
		    ce->role == CATALOG_MONOLITHIC)
			u->start = START_AT_LAUNCH;
		if (ce->role == CATALOG_HELPER)
			u->stop_on_exit = false;
		strv_split_args(ce->args, &u->argv);
	}
	if (uc != NULL) {
		if (uc->set & CFG_KEY_START)
			u->start = uc->start;
		if (uc->set & CFG_KEY_RESTART)
			u->restart = uc->restart;
		if (uc->set & CFG_KEY_STOP_TIMEOUT)
			u->stop_timeout = uc->stop_timeout;
		if (uc->set & CFG_KEY_STOP_ON_EXIT)
			u->stop_on_exit = uc->stop_on_exit;
		if (uc->set & CFG_KEY_ARGS) {
			strv_free(&u->argv);
			strv_copy(&u->argv, &uc->args);
		}
		strv_copy(&u->env, &uc->env);
		if (uc->exec != NULL)
			u->exec = xstrdup(uc->exec);
	}
	u->name = xstrdup(name);
	if (u->start == START_DISABLED) {
		strv_push(&plan->notices, xasprintf("unit %s: disabled", name));
		return 0;
	}
	if (ce == NULL && u->exec == NULL) {
		cfg_error(cfg, line, "[unit %s] 'exec' is required for a unit "
		    "that is not in the catalog", name);
		return -EINVAL;
	}
	if (u->exec == NULL) {
		u->exec = find_binary(cfg->search_path, name, in);
		if (u->exec == NULL) {
			strv_add(missing, name);
			return 0;
		}
	}
	resolve_sockets(plan, uc, ce, u);
	if (u->nsockets == 0) {
		if (ce == NULL) {
			cfg_error(cfg, line, "[unit %s] at least one 'socket' "
			    "is required", name);
			return -EINVAL;
		}
		strv_push(&plan->notices, xasprintf("unit %s: skipped, it has "
		    "no sockets in %s mode", name,
		    broker_mode_name(plan->mode)));
		return 0;
	}
	/* argv = exec, then the arguments. */
	{
		struct strv argv = { 0 };

		strv_add(&argv, u->exec);
		strv_copy(&argv, &u->argv);
		strv_free(&u->argv);
		u->argv = argv;
	}
	return 1;
}

static void
plan_add(struct plan *plan, struct unit_spec *u)
{
	plan->units = xreallocarray(plan->units, plan->nunits + 1,
	    sizeof(*plan->units));
	plan->units[plan->nunits++] = *u;
}

/* Two units (or two sockets of one) may not bind one path. */
static int
check_paths(struct config *cfg, const struct plan *plan)
{
	int r = 0;

	for (size_t i = 0; i < plan->nunits; i++) {
		const struct unit_spec *a = &plan->units[i];

		for (size_t j = 0; j < a->nsockets; j++) {
			for (size_t k = i; k < plan->nunits; k++) {
				const struct unit_spec *b = &plan->units[k];

				for (size_t l = k == i ? j + 1 : 0;
				    l < b->nsockets; l++) {
					if (strcmp(a->sockets[j].path,
					    b->sockets[l].path) != 0)
						continue;
					cfg_error(cfg, 0, "socket path %s is "
					    "given to both unit %s and unit %s",
					    a->sockets[j].path, a->name,
					    b->name);
					r = -EINVAL;
				}
			}
		}
	}
	return r;
}

static int
plan_catalog(struct config *cfg, struct plan *plan,
    const struct plan_input *in)
{
	const struct catalog_entry *cat;
	size_t ncat;
	struct strv missing = { 0 };
	bool modular = false, proxy = false;
	int r, err = 0;

	cat = catalog_entries(&ncat);
	for (size_t i = 0; i < ncat; i++) {
		const struct catalog_entry *ce = &cat[i];
		const struct unit_conf *uc = cfg_find_unit(cfg, ce->name);
		struct unit_spec u;

		if (uc == NULL && catalog_nsockets(plan->mode ==
		    BROKER_MODE_SYSTEM ? ce->system : ce->session) == 0)
			continue;	/* e.g. virtnwfilterd in session mode */
		if (ce->role == CATALOG_MONOLITHIC && uc == NULL &&
		    (modular || proxy)) {
			strv_push(&plan->notices, xasprintf("unit %s: skipped, "
			    "modular daemons are installed", ce->name));
			continue;
		}
		r = resolve_unit(cfg, plan, in, ce, uc, &u, &missing);
		if (r <= 0) {
			unit_spec_clear(&u);
			if (r < 0)
				err = r;
			continue;
		}
		if (catalog_is_modular(ce))
			modular = true;
		if (ce->role == CATALOG_PROXY)
			proxy = true;
		plan_add(plan, &u);
	}
	if (missing.n > 0) {
		char *names = strv_join(&missing, " ");

		strv_push(&plan->notices, xasprintf("not installed in %s, not "
		    "served: %s", cfg->search_path, names));
		free(names);
	}
	strv_free(&missing);
	return err;
}

int
plan_build(struct config *cfg, const struct plan_input *in,
    struct plan **ret_plan)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));
	int r, err = 0;

	plan->mode = in->default_mode;
	if ((cfg->set & CFG_KEY_MODE) && !in->mode_forced)
		plan->mode = cfg->mode;
	plan->backlog = cfg->backlog;
	plan->log_syslog = cfg->log_syslog;
	r = resolve_runtime_dir(cfg, plan, in);
	if (r < 0)
		goto fail;
	err = plan_catalog(cfg, plan, in);
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct unit_conf *uc = &cfg->units[i];
		struct unit_spec u;

		if (catalog_find(uc->name) != NULL)
			continue;	/* merged above */
		r = resolve_unit(cfg, plan, in, NULL, uc, &u, NULL);
		if (r <= 0) {
			unit_spec_clear(&u);
			if (r < 0)
				err = r;
			continue;
		}
		plan_add(plan, &u);
	}
	r = check_paths(cfg, plan);
	if (r < 0 || err < 0 || cfg->errors.n > 0) {
		r = -EINVAL;
		goto fail;
	}
	*ret_plan = plan;
	return 0;
fail:
	plan_free(plan);
	return r;
}

static void
print_words(FILE *out, const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		fprintf(out, "%s%s", i > 0 ? " " : "", sv->v[i]);
}

/* The dry run (-n): a stable, line-oriented text users and tests read. */
void
plan_print(const struct plan *plan, FILE *out)
{
	fprintf(out, "mode %s\n", broker_mode_name(plan->mode));
	fprintf(out, "runtime_dir %s\n", plan->runtime_dir);
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct unit_spec *u = &plan->units[i];
		const char **names = xcalloc(u->nsockets, sizeof(*names));
		char *joined = NULL;

		fprintf(out, "unit %s\n\texec ", u->name);
		print_words(out, &u->argv);
		fprintf(out, "\n\tstart %s\n\trestart %s\n\tstop_timeout %u\n"
		    "\tstop_on_exit %s\n", start_policy_name(u->start),
		    restart_policy_name(u->restart), u->stop_timeout,
		    u->stop_on_exit ? "yes" : "no");
		for (size_t j = 0; j < u->nsockets; j++) {
			const struct sock_spec *s = &u->sockets[j];

			fprintf(out, "\tsocket %s %s %04o%s%s\n", s->name,
			    s->path, s->mode, s->group != NULL ? " " : "",
			    s->group != NULL ? s->group : "");
			names[j] = s->name;
		}
		if (lfd_build_names(names, u->nsockets, &joined) == 0)
			fprintf(out, "\tLISTEN_FDNAMES=%s\n", joined);
		for (size_t j = 0; j < u->env.n; j++)
			fprintf(out, "\tenv %s\n", u->env.v[j]);
		free(joined);
		free(names);
	}
}
