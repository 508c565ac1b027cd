/* SPDX-License-Identifier: MIT */
/*
 * Pure: users' session brokers in a system broker's plan (plan_int.h).
 * Each allowed user gets a unit user@NAME that runs the broker's own
 * binary in session mode as that user: no sockets of its own (the user's
 * broker binds them, as the user), started at launch, restarted always
 * with back-off, stopped first at shutdown (its guests are saved before
 * the system daemons go). Who the user is (uid, groups, home) is looked up
 * at each start, at the edge (unit_exec.c), never here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "xalloc.h"

/* The keys a [user@NAME] section may set. */
#define USER_KEYS (CFG_KEY_START | CFG_KEY_RESTART | CFG_KEY_STOP_TIMEOUT | \
	CFG_KEY_START_LIMIT_BURST | CFG_KEY_START_LIMIT_INTERVAL | \
	CFG_KEY_FAILED_COOLDOWN | CFG_KEY_DAEMON_LOG | CFG_KEY_LOG_MAX_SIZE | \
	CFG_KEY_LOG_KEEP)

bool
plan_is_user_section(const struct unit_conf *uc)
{
	return strncmp(uc->name, CFG_USER_UNIT_PREFIX,
	    strlen(CFG_USER_UNIT_PREFIX)) == 0;
}

/* [broker] users, groups expanded, each name once, in the order given. */
static int
expand_users(struct config *cfg, const struct plan_input *in,
    struct strv *ret)
{
	int err = 0;

	for (size_t i = 0; i < cfg->users.n; i++) {
		const char *w = cfg->users.v[i];
		struct strv members = { 0 };
		int r;

		if (w[0] != '@') {
			if (!strv_contains(ret, w))
				strv_add(ret, w);
			continue;
		}
		r = in->group_members != NULL ? in->group_members(w + 1,
		    &members, in->arg) : -ENOENT;
		if (r < 0) {
			cfg_error(cfg, 0, "[broker] users: no group '%s'",
			    w + 1);
			err = -EINVAL;
		}
		for (size_t j = 0; j < members.n; j++)
			if (strcmp(members.v[j], "root") != 0 &&
			    cfg_user_name_is_valid(members.v[j]) &&
			    !strv_contains(ret, members.v[j]))
				strv_add(ret, members.v[j]);
		strv_free(&members);
	}
	return err;
}

/* The unit of one user, from the defaults and its section (or NULL). */
static void
user_unit(const struct plan *plan, const struct plan_input *in,
    const char *user, const struct unit_conf *uc, struct unit_spec *u)
{
	unit_spec_defaults(u);
	u->name = xasprintf(CFG_USER_UNIT_PREFIX "%s", user);
	u->user = xstrdup(user);
	u->exec = xstrdup(in->self_exe);
	strv_add(&u->argv, in->self_exe);
	strv_add(&u->argv, "--session");
	strv_add(&u->argv, "--boot");
	u->start = START_AT_LAUNCH;
	u->restart = RESTART_ALWAYS;
	u->stop_timeout = CFG_DEFAULT_USER_STOP_TIMEOUT;
	u->stop_first = true;
	if (uc != NULL)
		unit_spec_apply(u, uc);	/* check_section: only USER_KEYS */
	if (u->log == DAEMON_LOG_FILE)
		u->log_path = xasprintf("%s/%s.log", plan->log_dir, u->name);
}

/* A [user@NAME] section sets only what a user's broker has. */
static int
check_section(struct config *cfg, const struct unit_conf *uc,
    const struct strv *users)
{
	const char *user = uc->name + strlen(CFG_USER_UNIT_PREFIX);

	if (!strv_contains(users, user)) {
		cfg_error(cfg, uc->line, "[%s]: %s is not one of [broker] "
		    "users", uc->name, user);
		return -EINVAL;
	}
	if ((uc->set & ~(unsigned)USER_KEYS) != 0 || uc->exec != NULL ||
	    uc->nsockets > 0 || uc->args.n > 0) {
		cfg_error(cfg, uc->line, "[%s]: a user's broker takes only "
		    "start, restart, stop_timeout, start_limit_burst, "
		    "start_limit_interval, failed_cooldown, log, "
		    "log_max_size, log_keep and env", uc->name);
		return -EINVAL;
	}
	return 0;
}

int
plan_users(struct config *cfg, struct plan *plan,
    const struct plan_input *in, struct unit_spec **ret_units,
    size_t *ret_n)
{
	struct strv users = { 0 };
	int err = 0;

	*ret_units = NULL;
	*ret_n = 0;

	if (plan->mode != BROKER_MODE_SYSTEM) {
		if (cfg->users.n > 0) {
			cfg_error(cfg, 0, "[broker] users: only a system "
			    "broker runs users' brokers");
			err = -EINVAL;
		}
		for (size_t i = 0; i < cfg->nunits; i++)
			if (plan_is_user_section(&cfg->units[i])) {
				cfg_error(cfg, cfg->units[i].line, "[%s]: only "
				    "a system broker runs users' brokers",
				    cfg->units[i].name);
				err = -EINVAL;
			}
		return err;
	}
	if (cfg->users.n > 0 && (in->self_exe == NULL ||
	    in->self_exe[0] != '/')) {
		cfg_error(cfg, 0, "[broker] users: the broker's own binary is "
		    "not known (/proc/self/exe)");
		return -EINVAL;
	}
	err = expand_users(cfg, in, &users);
	for (size_t i = 0; i < cfg->nunits; i++)
		if (plan_is_user_section(&cfg->units[i]) &&
		    check_section(cfg, &cfg->units[i], &users) < 0)
			err = -EINVAL;
	for (size_t i = 0; err == 0 && i < users.n; i++) {
		char *name = xasprintf(CFG_USER_UNIT_PREFIX "%s", users.v[i]);
		const struct unit_conf *uc = cfg_find_unit(cfg, name);
		struct unit_spec u;

		free(name);
		user_unit(plan, in, users.v[i], uc, &u);
		if (u.start == START_DISABLED) {
			strv_push(&plan->notices, xasprintf("unit %s: "
			    "disabled", u.name));
			unit_spec_clear(&u);
			continue;
		}
		*ret_units = xgrow(*ret_units, *ret_n, sizeof(**ret_units));
		(*ret_units)[(*ret_n)++] = u;
	}
	strv_free(&users);
	return err;
}
