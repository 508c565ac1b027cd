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
#include "ctlproto.h"
#include "listenfds.h"
#include "paths.h"
#include "plan_int.h"
#include "xalloc.h"

void
plan_free(struct plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->nunits; i++)
		unit_spec_clear(&plan->units[i]);
	free(plan->units);
	strmap_clear(&plan->index);
	free(plan->runtime_dir);
	free(plan->daemon_xdg_runtime_dir);
	free(plan->pipewire_runtime_dir);
	free(plan->log_dir);
	free(plan->notify_socket);
	free(plan->control_socket);
	free(plan->holder_socket);
	free(plan->ctl_exe);
	strv_free(&plan->publish);
	strv_free(&plan->notices);
	free(plan);
}

/*
 * What the units have not taken of the plan's unit specs. A unit keeps a
 * spec of its own (it outlives reloads), and nothing looks units up in a
 * plan once the supervisor has them: a second copy would only double what
 * every idle unit costs. The plan is left with no units (plan_find finds
 * none).
 */
void
plan_release_units(struct plan *plan)
{
	for (size_t i = 0; i < plan->nunits; i++)
		unit_spec_clear(&plan->units[i]);
	free(plan->units);
	plan->units = NULL;
	plan->nunits = 0;
	strmap_clear(&plan->index);
}

const struct unit_spec *
plan_find(const struct plan *plan, const char *name)
{
	size_t i;

	return strmap_get(&plan->index, name, &i) ? &plan->units[i] : NULL;
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

/*
 * R. Session mode: libvirt's own fallback, $XDG_CACHE_HOME/libvirt (or
 * ~/.cache/libvirt), whatever XDG_RUNTIME_DIR says, so that no logout
 * deletes the guests' state (ARCHITECTURE.md "Sockets and paths");
 * runtime_dir = xdg resolves as libvirt's client does. Daemons get an
 * environment that resolves to R: no XDG_RUNTIME_DIR when R is the
 * fallback, else XDG_RUNTIME_DIR = R's parent.
 */
static int
resolve_runtime_dir(struct config *cfg, struct plan *plan,
    const struct plan_input *in)
{
	char *fallback = NULL;
	int r;

	if (cfg->runtime_dir != NULL)
		plan->runtime_dir = xstrdup(cfg->runtime_dir);
	else if (plan->mode == BROKER_MODE_SYSTEM)
		plan->runtime_dir = xstrdup(PATHS_SYSTEM_RUNTIME_DIR);
	else {
		r = paths_session_runtime_dir(cfg->runtime_dir_xdg ?
		    in->xdg_runtime_dir : NULL, in->xdg_cache_home, in->home,
		    &plan->runtime_dir);
		if (r < 0) {
			cfg_error(cfg, 0, "cannot resolve the runtime directory:"
			    " neither %sXDG_CACHE_HOME nor HOME is set",
			    cfg->runtime_dir_xdg ? "XDG_RUNTIME_DIR, " : "");
			return r;
		}
	}
	if (!paths_is_clean_absolute(plan->runtime_dir)) {
		cfg_error(cfg, 0, "runtime directory '%s' (from XDG_RUNTIME_DIR, "
		    "XDG_CACHE_HOME or HOME) is not a clean absolute path",
		    plan->runtime_dir);
		return -EINVAL;
	}
	if (plan->mode != BROKER_MODE_SESSION)
		return 0;
	{
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
	}
	if (paths_session_runtime_dir(NULL, in->xdg_cache_home, in->home,
	    &fallback) < 0 || strcmp(fallback, plan->runtime_dir) != 0)
		plan->daemon_xdg_runtime_dir = paths_dirname(plan->runtime_dir);
	free(fallback);
	if (in->xdg_runtime_dir != NULL && in->xdg_runtime_dir[0] == '/')
		plan->pipewire_runtime_dir = xstrdup(in->xdg_runtime_dir);
	return 0;
}

/*
 * Daemons' log files: log_dir, else $XDG_STATE_HOME/virt-broker/log, else
 * ~/.local/state/virt-broker/log; /var/log/virt-broker in system mode.
 */
static void
resolve_log_dir(const struct config *cfg, struct plan *plan,
    const struct plan_input *in)
{
	if (cfg->log_dir != NULL)
		plan->log_dir = xstrdup(cfg->log_dir);
	else if (plan->mode == BROKER_MODE_SYSTEM)
		plan->log_dir = xstrdup("/var/log/virt-broker");
	else if (in->xdg_state_home != NULL && in->xdg_state_home[0] == '/')
		plan->log_dir = xasprintf("%s/virt-broker/log",
		    in->xdg_state_home);
	else if (in->home != NULL && in->home[0] != '\0')
		plan->log_dir = xasprintf("%s/.local/state/virt-broker/log",
		    strcmp(in->home, "/") == 0 ? "" : in->home);
	else
		plan->log_dir = paths_join(plan->runtime_dir, "log");
}

/*
 * Where else clients may look for R (ARCHITECTURE.md "One daemon whatever
 * path a client takes"): publish, else in session mode every place libvirt
 * may compute, $XDG_RUNTIME_DIR/libvirt, /run/user/UID/libvirt and the
 * cache dir's libvirt, less R; in system mode, where /var/run is not a link
 * to /run (some containers and chroots, Guix System), /var/run/libvirt for
 * R = /run/libvirt: clients connect under LOCALSTATEDIR, /var/run/libvirt.
 */
static void
resolve_publish(const struct config *cfg, struct plan *plan,
    const struct plan_input *in)
{
	struct strv cand = { 0 };

	if (cfg->set & CFG_KEY_PUBLISH) {
		strv_copy(&cand, &cfg->publish);
	} else if (plan->mode == BROKER_MODE_SESSION) {
		char *cache = NULL;

		if (in->xdg_runtime_dir != NULL && in->xdg_runtime_dir[0] == '/')
			strv_push(&cand, paths_join(in->xdg_runtime_dir,
			    PATHS_LIBVIRT_SUBDIR));
		strv_addf(&cand, "/run/user/%lu/%s", in->uid,
		    PATHS_LIBVIRT_SUBDIR);
		if (paths_session_runtime_dir(NULL, in->xdg_cache_home,
		    in->home, &cache) == 0 && cache[0] == '/')
			strv_push(&cand, cache);
		else
			free(cache);
	} else if (in->var_run_separate &&
	    strncmp(plan->runtime_dir, "/run/", 5) == 0) {
		strv_addf(&cand, "/var%s", plan->runtime_dir);
	}
	for (size_t i = 0; i < cand.n; i++) {
		bool dup = strcmp(cand.v[i], plan->runtime_dir) == 0;

		for (size_t j = 0; j < plan->publish.n && !dup; j++)
			dup = strcmp(cand.v[i], plan->publish.v[j]) == 0;
		if (!dup)
			strv_add(&plan->publish, cand.v[i]);
	}
	strv_free(&cand);
}

/* A socket's full path: under R when relative; inet listeners as given. */
static char *
socket_path(const struct plan *plan, const char *path)
{
	if (strncmp(path, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) == 0)
		return xstrdup(path);
	return paths_join(plan->runtime_dir, path);
}

static void
add_socket(struct unit_spec *u, char *name, char *path, unsigned mode)
{
	u->sockets = xreallocarray(u->sockets, u->nsockets + 1,
	    sizeof(*u->sockets));
	memset(&u->sockets[u->nsockets], 0, sizeof(*u->sockets));
	u->sockets[u->nsockets].name = name;
	u->sockets[u->nsockets].path = path;
	u->sockets[u->nsockets].mode = mode;
	u->nsockets++;
}

/*
 * What a socket is for, which decides who may widen its mode (LIBVIRT.md):
 * the read-write main socket of a hypervisor, driver or proxy daemon is
 * guarded by the daemon's own access control (polkit), so socket_mode and
 * socket_group open it; a -ro socket is 0666 by design; an -admin socket
 * and the sockets of virtlogd and virtlockd have no access control and act
 * as the daemon's user (root in system mode) on what clients send, so only
 * a socket line of the unit's own section may widen them, with a warning.
 */
enum sock_kind {
	SOCK_KIND_MAIN,		/* virtqemud.socket, virtproxyd.socket */
	SOCK_KIND_RO,		/* *-ro.socket */
	SOCK_KIND_ADMIN,	/* *-admin.socket */
	SOCK_KIND_HELPER,	/* virtlogd.socket, virtlockd.socket */
	SOCK_KIND_CUSTOM,	/* a unit not in the catalog */
	SOCK_KIND_OTHER,	/* a catalog unit's socket of another name */
	SOCK_KIND_INET,		/* listen_tcp, listen_tls */
	SOCK_KIND_MAX
};

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
is_inet_path(const char *path)
{
	return strncmp(path, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) == 0;
}

static enum sock_kind
sock_kind(const struct catalog_entry *ce, const char *unit,
    const struct sock_spec *s)
{
	size_t n = strlen(unit);

	if (is_inet_path(s->path))
		return SOCK_KIND_INET;
	if (has_suffix(s->name, "-admin.socket"))
		return SOCK_KIND_ADMIN;
	if (has_suffix(s->name, "-ro.socket"))
		return SOCK_KIND_RO;
	if (ce == NULL)
		return SOCK_KIND_CUSTOM;
	if (ce->role == CATALOG_HELPER)
		return SOCK_KIND_HELPER;
	if (strncmp(s->name, unit, n) == 0 && strcmp(s->name + n,
	    ".socket") == 0)
		return SOCK_KIND_MAIN;
	return SOCK_KIND_OTHER;
}

/*
 * A helper's or an admin socket that something explicit in the unit's
 * section opened beyond its owner: one notice naming the risk.
 */
static void
warn_open_socket(struct plan *plan, const char *unit, enum sock_kind kind,
    const struct sock_spec *s)
{
	const char *risk;

	if ((s->mode & 077) == 0 ||
	    (kind != SOCK_KIND_HELPER && kind != SOCK_KIND_ADMIN))
		return;
	risk = kind == SOCK_KIND_HELPER ? "it has no access control and acts "
	    "as its own user (root in system mode) on paths its clients send, "
	    "so whoever can connect can act as that user" : "an admin socket "
	    "has no access control beyond its mode and controls the daemon, "
	    "so whoever can connect can reconfigure it";
	strv_push(&plan->notices, xasprintf("unit %s: warning: socket %s (%s) "
	    "is mode %04o%s%s as its section says: %s", unit, s->name, s->path,
	    s->mode, s->group != NULL ? " group " : "", s->group != NULL ?
	    s->group : "", risk));
}

/*
 * socket_mode and socket_group by socket kind (see enum sock_kind):
 *   main        the section's socket_mode/socket_group, else [broker]'s;
 *   helper      the section's socket_mode/socket_group only (first socket);
 *   custom      the section's, else [broker]'s: mode to the first socket,
 *               group to every one (the section lists them all);
 *   ro, admin, other, inet: neither; a socket line sets them.
 * A socket line's own group wins. Then listen_tcp/listen_tls listeners,
 * named as libvirt's units name them.
 */
static void
resolve_socket_options(const struct config *cfg, struct plan *plan,
    const struct unit_conf *uc, const struct catalog_entry *ce,
    struct unit_spec *u)
{
	bool unit_mode = uc != NULL && (uc->set & CFG_KEY_SOCKET_MODE);
	bool broker_mode = (cfg->set & CFG_KEY_SOCKET_MODE) != 0;
	const char *unit_group = uc != NULL ? uc->socket_group : NULL;

	for (size_t i = 0; i < u->nsockets; i++) {
		struct sock_spec *s = &u->sockets[i];
		enum sock_kind kind = sock_kind(ce, u->name, s);
		bool mode_set = false;
		unsigned mode = 0;
		const char *group = NULL;

		switch (kind) {
		case SOCK_KIND_MAIN:
		case SOCK_KIND_CUSTOM:
			mode_set = unit_mode || broker_mode;
			mode = unit_mode ? uc->socket_mode : cfg->socket_mode;
			group = unit_group != NULL ? unit_group :
			    cfg->socket_group;
			break;
		case SOCK_KIND_HELPER:
			mode_set = unit_mode;
			mode = unit_mode ? uc->socket_mode : 0;
			group = unit_group;
			break;
		case SOCK_KIND_RO:
		case SOCK_KIND_ADMIN:
		case SOCK_KIND_OTHER:
		case SOCK_KIND_INET:
		case SOCK_KIND_MAX:
			break;
		}
		if (mode_set && (i == 0 || kind == SOCK_KIND_MAIN))
			s->mode = mode;
		if (s->group == NULL && group != NULL &&
		    (kind != SOCK_KIND_HELPER || i == 0))
			s->group = xstrdup(group);
		warn_open_socket(plan, u->name, kind, s);
	}
	if (uc != NULL && uc->listen_tcp != NULL)
		add_socket(u, xasprintf("%s-tcp.socket", u->name),
		    xstrdup(uc->listen_tcp), 0);
	if (uc != NULL && uc->listen_tls != NULL)
		add_socket(u, xasprintf("%s-tls.socket", u->name),
		    xstrdup(uc->listen_tls), 0);
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
			u->sockets[i].path = socket_path(plan,
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

/* The catalog's RLIMIT_NOFILE soft limit for a daemon (plan.h). */
static uint64_t
catalog_nofile(const struct catalog_entry *ce)
{
	if (strcmp(ce->name, "virtlogd") == 0)
		return PLAN_VIRTLOGD_NOFILE;
	if (strcmp(ce->name, "virtlockd") == 0)
		return PLAN_VIRTLOCKD_NOFILE;
	if (ce->role == CATALOG_DRIVER || ce->role == CATALOG_PROXY)
		return PLAN_DRIVER_NOFILE;
	return PLAN_HYPERVISOR_NOFILE;
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

	unit_spec_defaults(u);
	if (ce != NULL) {
		u->limit_nofile = catalog_nofile(ce);
		u->limit_nofile_hard = PLAN_NOFILE_HARD;
		if (ce->role == CATALOG_HYPERVISOR ||
		    ce->role == CATALOG_MONOLITHIC ||
		    ce->role == CATALOG_OTHER_HYPERVISOR) {
			if (ce->role != CATALOG_OTHER_HYPERVISOR)
				u->start = START_AT_LAUNCH;
			if (plan->mode == BROKER_MODE_SYSTEM)
				u->limit_memlock = PLAN_HYPERVISOR_MEMLOCK;
		}
		if (ce->role == CATALOG_HELPER) {
			u->stop_on_exit = false;
			u->stop_last = true;	/* libvirt 12.5's order */
		}
		strv_split_args(ce->args, &u->argv);
	}
	if (ce != NULL && in->boot && in->has_boot_work != NULL &&
	    plan->mode == BROKER_MODE_SESSION &&
	    (ce->role == CATALOG_HYPERVISOR || ce->role == CATALOG_MONOLITHIC ||
	    strcmp(name, "virtnetworkd") == 0 ||
	    strcmp(name, "virtstoraged") == 0) &&
	    (uc == NULL || !(uc->set & CFG_KEY_START))) {
		bool work = in->has_boot_work(name, plan->runtime_dir,
		    in->arg);

		u->start = work ? START_AT_LAUNCH : START_ON_DEMAND;
		strv_push(&plan->notices, xasprintf("unit %s: %s (--boot: %s)",
		    name, work ? "at launch" : "on demand", work ? "there is "
		    "work to take up: autostart or saved guests, networks or "
		    "pools" : "nothing to autostart or restore"));
	}
	if (uc != NULL) {
		unit_spec_apply(u, uc);
		if (uc->set & CFG_KEY_ARGS) {
			strv_free(&u->argv);
			strv_copy(&u->argv, &uc->args);
		}
		if (uc->exec != NULL)
			u->exec = xstrdup(uc->exec);
	}
	u->name = xstrdup(name);
	if (u->log == DAEMON_LOG_FILE)
		u->log_path = xasprintf("%s/%s.log", plan->log_dir, name);
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
			/* Other hypervisors are optional: named only when
			 * the configuration asks for them. */
			if (ce == NULL || ce->role != CATALOG_OTHER_HYPERVISOR ||
			    uc != NULL)
				strv_add(missing, name);
			return 0;
		}
	}
	resolve_sockets(plan, uc, ce, u);
	resolve_socket_options(cfg, plan, uc, ce, u);
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
	plan->units = xgrow(plan->units, plan->nunits, sizeof(*plan->units));
	plan->units[plan->nunits] = *u;
	/* Names are unique: config sections and catalog entries are. */
	(void)strmap_add(&plan->index, plan->units[plan->nunits].name,
	    plan->nunits, NULL);
	plan->nunits++;
}

/*
 * Two units (or two sockets of one) may not bind one path, and a path must
 * fit in sockaddr_un.sun_path.
 */
static int
check_paths(struct config *cfg, const struct plan *plan)
{
	struct strmap seen = { 0 };	/* path -> index of its unit */
	int r = 0;

	for (size_t i = 0; i < plan->nunits; i++) {
		const struct unit_spec *a = &plan->units[i];

		for (size_t j = 0; j < a->nsockets; j++) {
			const char *path = a->sockets[j].path;
			size_t first;

			if (strlen(path) >= PLAN_SUN_PATH_MAX) {
				cfg_error(cfg, 0, "unit %s: socket path %s is "
				    "%zu bytes; a UNIX socket path has at most "
				    "%d", a->name, path, strlen(path),
				    PLAN_SUN_PATH_MAX - 1);
				r = -EINVAL;
			}
			if (strmap_add(&seen, path, i, &first))
				continue;
			cfg_error(cfg, 0, "socket path %s is given to both "
			    "unit %s and unit %s", path,
			    plan->units[first].name, a->name);
			r = -EINVAL;
		}
	}
	strmap_clear(&seen);
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
	plan->holder_timeout = cfg->holder_timeout;
	plan->on_shutdown = cfg->on_shutdown;
	plan->shutdown_timeout = cfg->shutdown_timeout;
	plan->ctl_exe = in->ctl_exe != NULL ? xstrdup(in->ctl_exe) : NULL;
	plan->log_syslog = cfg->log_syslog;
	r = resolve_runtime_dir(cfg, plan, in);
	if (r < 0)
		goto fail;
	resolve_log_dir(cfg, plan, in);
	resolve_publish(cfg, plan, in);
	plan->notify_socket = paths_join(plan->runtime_dir,
	    PLAN_NOTIFY_SOCKET);
	plan->control_socket = paths_join(plan->runtime_dir,
	    CTLPROTO_SOCKET);
	plan->holder_socket = paths_join(plan->runtime_dir,
	    PLAN_HOLDER_SOCKET);
	err = plan_catalog(cfg, plan, in);
	for (size_t i = 0; i < cfg->nunits; i++) {
		const struct unit_conf *uc = &cfg->units[i];
		struct unit_spec u;

		if (catalog_find(uc->name) != NULL ||
		    plan_is_user_section(uc))
			continue;	/* merged above, or a user's broker */
		r = resolve_unit(cfg, plan, in, NULL, uc, &u, NULL);
		if (r <= 0) {
			unit_spec_clear(&u);
			if (r < 0)
				err = r;
			continue;
		}
		plan_add(plan, &u);
	}
	{
		struct unit_spec *users;
		size_t nusers;

		if (plan_users(cfg, plan, in, &users, &nusers) < 0)
			err = -EINVAL;
		for (size_t i = 0; i < nusers; i++)
			plan_add(plan, &users[i]);
		free(users);
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
