/* SPDX-License-Identifier: MIT */
/*
 * Pure: a unit's spec as a value: its defaults and a section's keys over
 * them, clear, deep copy, and the comparisons a reload uses to tell what
 * changed.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "xalloc.h"

static void
sock_spec_clear(struct sock_spec *s)
{
	free(s->name);
	free(s->path);
	free(s->group);
}

void
unit_spec_clear(struct unit_spec *u)
{
	free(u->name);
	free(u->exec);
	free(u->log_path);
	free(u->user);
	strv_free(&u->argv);
	strv_free(&u->env);
	for (size_t i = 0; i < u->nsockets; i++)
		sock_spec_clear(&u->sockets[i]);
	free(u->sockets);
	memset(u, 0, sizeof(*u));
}

static char *
strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A deep copy: a running unit keeps its own spec across reloads. */
void
unit_spec_copy(struct unit_spec *dst, const struct unit_spec *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->exec = xstrdup(src->exec);
	dst->log_path = strdup_or_null(src->log_path);
	dst->user = strdup_or_null(src->user);
	memset(&dst->argv, 0, sizeof(dst->argv));
	memset(&dst->env, 0, sizeof(dst->env));
	strv_copy(&dst->argv, &src->argv);
	strv_copy(&dst->env, &src->env);
	dst->sockets = xcalloc(src->nsockets, sizeof(*dst->sockets));
	for (size_t i = 0; i < src->nsockets; i++) {
		dst->sockets[i].name = xstrdup(src->sockets[i].name);
		dst->sockets[i].path = xstrdup(src->sockets[i].path);
		dst->sockets[i].mode = src->sockets[i].mode;
		dst->sockets[i].group = strdup_or_null(src->sockets[i].group);
	}
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
strv_eq(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

/* Same sockets: names, paths, modes and groups, in the same order. */
bool
unit_spec_same_sockets(const struct unit_spec *a, const struct unit_spec *b)
{
	if (a->nsockets != b->nsockets)
		return false;
	for (size_t i = 0; i < a->nsockets; i++) {
		const struct sock_spec *x = &a->sockets[i], *y = &b->sockets[i];

		if (!str_eq(x->name, y->name) || !str_eq(x->path, y->path) ||
		    x->mode != y->mode || !str_eq(x->group, y->group))
			return false;
	}
	return true;
}

bool
unit_spec_equal(const struct unit_spec *a, const struct unit_spec *b)
{
	return str_eq(a->name, b->name) && str_eq(a->exec, b->exec) &&
	    strv_eq(&a->argv, &b->argv) && strv_eq(&a->env, &b->env) &&
	    a->start == b->start && a->restart == b->restart &&
	    a->stop_timeout == b->stop_timeout &&
	    a->stop_on_exit == b->stop_on_exit &&
	    a->start_limit_burst == b->start_limit_burst &&
	    a->start_limit_interval == b->start_limit_interval &&
	    a->failed_cooldown == b->failed_cooldown &&
	    a->limit_nofile == b->limit_nofile &&
	    a->limit_nofile_hard == b->limit_nofile_hard &&
	    a->stop_last == b->stop_last && a->stop_first == b->stop_first &&
	    str_eq(a->user, b->user) &&
	    a->limit_memlock == b->limit_memlock && a->log == b->log &&
	    str_eq(a->log_path, b->log_path) &&
	    a->log_max_size == b->log_max_size &&
	    a->log_keep == b->log_keep && unit_spec_same_sockets(a, b);
}

void
unit_spec_defaults(struct unit_spec *u)
{
	memset(u, 0, sizeof(*u));
	u->start = START_ON_DEMAND;
	u->restart = RESTART_ON_FAILURE;
	u->stop_timeout = CFG_DEFAULT_STOP_TIMEOUT;
	u->stop_on_exit = true;
	u->start_limit_burst = CFG_DEFAULT_START_LIMIT_BURST;
	u->start_limit_interval = CFG_DEFAULT_START_LIMIT_INTERVAL;
	u->failed_cooldown = CFG_DEFAULT_FAILED_COOLDOWN;
	u->log = DAEMON_LOG_FILE;
	u->log_max_size = CFG_DEFAULT_LOG_MAX_SIZE;
	u->log_keep = CFG_DEFAULT_LOG_KEEP;
}

void
unit_spec_apply(struct unit_spec *u, const struct unit_conf *uc)
{
	if (uc->set & CFG_KEY_START)
		u->start = uc->start;
	if (uc->set & CFG_KEY_RESTART)
		u->restart = uc->restart;
	if (uc->set & CFG_KEY_STOP_TIMEOUT)
		u->stop_timeout = uc->stop_timeout;
	if (uc->set & CFG_KEY_STOP_ON_EXIT)
		u->stop_on_exit = uc->stop_on_exit;
	if (uc->set & CFG_KEY_START_LIMIT_BURST)
		u->start_limit_burst = uc->start_limit_burst;
	if (uc->set & CFG_KEY_START_LIMIT_INTERVAL)
		u->start_limit_interval = uc->start_limit_interval;
	if (uc->set & CFG_KEY_FAILED_COOLDOWN)
		u->failed_cooldown = uc->failed_cooldown;
	if (uc->set & CFG_KEY_LIMIT_NOFILE) {
		u->limit_nofile = uc->limit_nofile;
		u->limit_nofile_hard = uc->limit_nofile_hard;
	}
	if (uc->set & CFG_KEY_LIMIT_MEMLOCK)
		u->limit_memlock = uc->limit_memlock;
	if (uc->set & CFG_KEY_DAEMON_LOG)
		u->log = uc->log;
	if (uc->set & CFG_KEY_LOG_MAX_SIZE)
		u->log_max_size = uc->log_max_size;
	if (uc->set & CFG_KEY_LOG_KEEP)
		u->log_keep = uc->log_keep;
	strv_copy(&u->env, &uc->env);
}
