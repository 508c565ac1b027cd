/* SPDX-License-Identifier: MIT */
/*
 * Pure: the keys of virt-broker.conf: each key = value of a [broker] or a
 * [UNIT] section checked and stored, or reported as FILE:LINE. A scalar
 * key may appear once per section.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "listenfds.h"
#include "paths.h"
#include "xalloc.h"

/* socket = NAME PATH [MODE [GROUP]] */
static void
parse_socket(struct cfg_ctx *ctx, struct unit_conf *u, const char *value)
{
	struct strv w = { 0 };
	struct sock_conf s = { .mode = 0600 };
	int line = ctx->line;

	if (strv_split_args(value, &w) < 0 || w.n < 2 || w.n > 4) {
		cfg_error(ctx->cfg, line, "[unit %s] socket: expected "
		    "'NAME PATH [MODE [GROUP]]', got '%s'", u->name, value);
		goto out;
	}
	if (!lfd_name_is_valid(w.v[0])) {
		cfg_error(ctx->cfg, line, "[unit %s] socket: invalid fd name "
		    "'%s' (printable ASCII, no ':', at most %d bytes)", u->name,
		    w.v[0], LFD_NAME_MAX);
		goto out;
	}
	if (!cfg_sock_path_is_valid(w.v[1])) {
		cfg_error(ctx->cfg, line, "[unit %s] socket: invalid path '%s' "
		    "(no '.' or '..' parts, under 108 bytes; or tcp:[HOST:]PORT)",
		    u->name, w.v[1]);
		goto out;
	}
	if (w.n >= 3 && cfg_parse_uint(w.v[2], 0, 0777, 8, &s.mode) < 0) {
		cfg_error(ctx->cfg, line, "[unit %s] socket: invalid mode '%s' "
		    "(octal, 0 to 0777)", u->name, w.v[2]);
		goto out;
	}
	s.name = xstrdup(w.v[0]);
	s.path = xstrdup(w.v[1]);
	s.group = w.n == 4 ? xstrdup(w.v[3]) : NULL;
	u->sockets = xreallocarray(u->sockets, u->nsockets + 1,
	    sizeof(*u->sockets));
	u->sockets[u->nsockets++] = s;
out:
	strv_free(&w);
}

static void
parse_env(struct cfg_ctx *ctx, struct unit_conf *u, const char *value)
{
	size_t klen = strcspn(value, "=");

	if (value[klen] != '=' || klen == 0 ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != klen || (value[0] >= '0' && value[0] <= '9')) {
		cfg_error(ctx->cfg, ctx->line, "[unit %s] env: expected "
		    "'NAME=VALUE', got '%s'", u->name, value);
		return;
	}
	if (lfd_is_reserved_env(value)) {
		cfg_error(ctx->cfg, ctx->line, "[unit %s] env: %.*s is set by "
		    "the broker", u->name, (int)klen, value);
		return;
	}
	strv_add(&u->env, value);
}

/* A scalar key may appear once per section. */
static bool
once(struct cfg_ctx *ctx, unsigned *set, unsigned bit, const char *section,
    const char *key)
{
	if (*set & bit) {
		cfg_error(ctx->cfg, ctx->line, "[%s] key '%s' given twice",
		    section, key);
		return false;
	}
	*set |= bit;
	return true;
}

/*
 * listen_tcp/listen_tls = no | yes | HOST | HOST:PORT | [V6]:PORT: an
 * inet listener added to the unit's sockets (virtproxyd, libvirtd).
 */
static void
parse_listen(struct cfg_ctx *ctx, struct unit_conf *u, const char *key,
    const char *value, unsigned def_port, char **ret)
{
	char host[64], *spec;
	unsigned port;
	bool on;

	if (cfg_parse_bool(value, &on) == 0) {
		if (on)
			*ret = xasprintf(CFG_TCP_PREFIX "%s:%u",
			    CFG_DEFAULT_TCP_HOST, def_port);
		return;
	}
	if (strchr(value, ':') == NULL || (value[0] == '[' &&
	    strstr(value, "]:") == NULL))
		spec = xasprintf(CFG_TCP_PREFIX "%s:%u", value, def_port);
	else
		spec = xasprintf(CFG_TCP_PREFIX "%s", value);
	if (cfg_parse_inet(spec, host, sizeof(host), &port) < 0) {
		cfg_error(ctx->cfg, ctx->line, "[unit %s] %s: '%s' is not yes, "
		    "no, or a numeric address with an optional port", u->name,
		    key, value);
		free(spec);
		return;
	}
	*ret = spec;
}

/* Supervision keys: start limits, resource limits, daemon logs. */
static bool
unit_key_more(struct cfg_ctx *ctx, struct unit_conf *u, const char *key,
    const char *value, const char *section)
{
	struct config *cfg = ctx->cfg;
	int line = ctx->line, i;

	if (strcmp(key, "start_limit_burst") == 0) {
		if (once(ctx, &u->set, CFG_KEY_START_LIMIT_BURST, section, key) &&
		    cfg_parse_uint(value, 1, CFG_MAX_START_LIMIT_BURST, 10,
		    &u->start_limit_burst) < 0)
			cfg_error(cfg, line, "[unit %s] start_limit_burst: '%s' "
			    "is not a number from 1 to %d", u->name, value,
			    CFG_MAX_START_LIMIT_BURST);
	} else if (strcmp(key, "start_limit_interval") == 0) {
		if (once(ctx, &u->set, CFG_KEY_START_LIMIT_INTERVAL, section,
		    key) && cfg_parse_uint(value, 1, 86400, 10,
		    &u->start_limit_interval) < 0)
			cfg_error(cfg, line, "[unit %s] start_limit_interval: "
			    "'%s' is not a number of seconds from 1 to 86400",
			    u->name, value);
	} else if (strcmp(key, "failed_cooldown") == 0) {
		if (once(ctx, &u->set, CFG_KEY_FAILED_COOLDOWN, section, key) &&
		    cfg_parse_uint(value, 1, 86400, 10, &u->failed_cooldown) < 0)
			cfg_error(cfg, line, "[unit %s] failed_cooldown: '%s' is "
			    "not a number of seconds from 1 to 86400", u->name,
			    value);
	} else if (strcmp(key, "limit_nofile") == 0) {
		if (once(ctx, &u->set, CFG_KEY_LIMIT_NOFILE, section, key) &&
		    cfg_parse_soft_hard(value, &u->limit_nofile,
		    &u->limit_nofile_hard) < 0)
			cfg_error(cfg, line, "[unit %s] limit_nofile: '%s' is "
			    "not SOFT or SOFT:HARD, each a positive number or "
			    "infinity, SOFT <= HARD", u->name, value);
	} else if (strcmp(key, "limit_memlock") == 0) {
		if (once(ctx, &u->set, CFG_KEY_LIMIT_MEMLOCK, section, key) &&
		    (cfg_parse_size(value, &u->limit_memlock) < 0 ||
		    u->limit_memlock == 0))
			cfg_error(cfg, line, "[unit %s] limit_memlock: '%s' is "
			    "not a positive size (e.g. 64M) or infinity",
			    u->name, value);
	} else if (strcmp(key, "log") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_DAEMON_LOG, section, key))
			return true;
		i = cfg_lookup_name(cfg_daemon_log_names, DAEMON_LOG_MAX, value);
		if (i < 0)
			cfg_error(cfg, line, "[unit %s] log: '%s' is not file, "
			    "syslog or stderr", u->name, value);
		else
			u->log = (enum daemon_log)i;
	} else if (strcmp(key, "log_max_size") == 0) {
		if (once(ctx, &u->set, CFG_KEY_LOG_MAX_SIZE, section, key) &&
		    (cfg_parse_size(value, &u->log_max_size) < 0 ||
		    u->log_max_size < 4096 ||
		    u->log_max_size == CFG_LIMIT_INFINITY))
			cfg_error(cfg, line, "[unit %s] log_max_size: '%s' is "
			    "not a size of at least 4096 bytes (e.g. 1M)",
			    u->name, value);
	} else if (strcmp(key, "log_keep") == 0) {
		if (once(ctx, &u->set, CFG_KEY_LOG_KEEP, section, key) &&
		    cfg_parse_uint(value, 0, 100, 10, &u->log_keep) < 0)
			cfg_error(cfg, line, "[unit %s] log_keep: '%s' is not a "
			    "number from 0 to 100", u->name, value);
	} else if (strcmp(key, "socket_mode") == 0) {
		if (once(ctx, &u->set, CFG_KEY_SOCKET_MODE, section, key) &&
		    cfg_parse_uint(value, 0, 0777, 8, &u->socket_mode) < 0)
			cfg_error(cfg, line, "[unit %s] socket_mode: '%s' is not "
			    "an octal mode from 0 to 0777", u->name, value);
	} else if (strcmp(key, "socket_group") == 0) {
		if (once(ctx, &u->set, CFG_KEY_SOCKET_GROUP, section, key))
			u->socket_group = xstrdup(value);
	} else if (strcmp(key, "listen_tcp") == 0 ||
	    strcmp(key, "listen_tls") == 0) {
		bool tls = strcmp(key, "listen_tls") == 0;

		if (once(ctx, &u->set, tls ? CFG_KEY_LISTEN_TLS :
		    CFG_KEY_LISTEN_TCP, section, key))
			parse_listen(ctx, u, key, value, tls ?
			    CFG_DEFAULT_TLS_PORT : CFG_DEFAULT_TCP_PORT,
			    tls ? &u->listen_tls : &u->listen_tcp);
	} else {
		return false;
	}
	return true;
}

void
cfg_unit_key(struct cfg_ctx *ctx, struct unit_conf *u, const char *key,
    const char *value)
{
	struct config *cfg = ctx->cfg;
	int line = ctx->line, i;
	char section[80];

	snprintf(section, sizeof(section), "unit %s", u->name);
	if (strcmp(key, "socket") == 0) {
		parse_socket(ctx, u, value);
	} else if (strcmp(key, "env") == 0) {
		parse_env(ctx, u, value);
	} else if (strcmp(key, "exec") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_EXEC, section, key))
			return;
		if (value[0] != '/' || strchr(value, ' ') != NULL)
			cfg_error(cfg, line, "[unit %s] exec: '%s' is not an "
			    "absolute path (put arguments in 'args')",
			    u->name, value);
		else
			u->exec = xstrdup(value);
	} else if (strcmp(key, "args") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_ARGS, section, key))
			return;
		if (strv_split_args(value, &u->args) < 0)
			cfg_error(cfg, line, "[unit %s] args: unterminated "
			    "quote or trailing backslash in '%s'", u->name,
			    value);
	} else if (strcmp(key, "start") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_START, section, key))
			return;
		i = cfg_lookup_name(cfg_start_policy_names, START_POLICY_MAX, value);
		if (i < 0)
			cfg_error(cfg, line, "[unit %s] start: '%s' is not "
			    "on-demand, at-launch or disabled", u->name, value);
		else
			u->start = (enum start_policy)i;
	} else if (strcmp(key, "restart") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_RESTART, section, key))
			return;
		i = cfg_lookup_name(cfg_restart_policy_names, RESTART_POLICY_MAX,
		    value);
		if (i < 0)
			cfg_error(cfg, line, "[unit %s] restart: '%s' is not "
			    "on-failure, always or no", u->name, value);
		else
			u->restart = (enum restart_policy)i;
	} else if (strcmp(key, "stop_timeout") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_STOP_TIMEOUT, section, key))
			return;
		if (cfg_parse_uint(value, 1, CFG_MAX_STOP_TIMEOUT, 10,
		    &u->stop_timeout) < 0)
			cfg_error(cfg, line, "[unit %s] stop_timeout: '%s' is "
			    "not a number of seconds from 1 to %d", u->name,
			    value, CFG_MAX_STOP_TIMEOUT);
	} else if (strcmp(key, "stop_on_exit") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_STOP_ON_EXIT, section, key))
			return;
		if (cfg_parse_bool(value, &u->stop_on_exit) < 0)
			cfg_error(cfg, line, "[unit %s] stop_on_exit: '%s' is "
			    "not yes or no", u->name, value);
	} else if (!unit_key_more(ctx, u, key, value, section)) {
		cfg_error(cfg, line, "[unit %s] unknown key '%s'", u->name,
		    key);
	}
}

/* publish = DIR [DIR...] | none */
static void
parse_publish(struct cfg_ctx *ctx, const char *value)
{
	struct strv w = { 0 };

	if (strcmp(value, "none") == 0)
		return;
	if (strv_split_args(value, &w) < 0 || w.n == 0) {
		cfg_error(ctx->cfg, ctx->line, "[broker] publish: expected "
		    "directories or none, got '%s'", value);
		strv_free(&w);
		return;
	}
	for (size_t i = 0; i < w.n; i++) {
		if (!paths_is_clean_absolute(w.v[i]) ||
		    strcmp(w.v[i], "/") == 0) {
			cfg_error(ctx->cfg, ctx->line, "[broker] publish: '%s' "
			    "is not a clean absolute directory", w.v[i]);
			strv_free(&w);
			return;
		}
	}
	strv_copy(&ctx->cfg->publish, &w);
	strv_free(&w);
}

/* users = NAME|@GROUP ...: whose session brokers a system broker runs. */
static void
parse_users(struct cfg_ctx *ctx, const char *value)
{
	struct strv w = { 0 };

	strv_split_args(value, &w);
	for (size_t i = 0; i < w.n; i++) {
		const char *name = w.v[i] + (w.v[i][0] == '@');

		if (!cfg_user_name_is_valid(name)) {
			cfg_error(ctx->cfg, ctx->line, "[broker] users: '%s' is "
			    "not a user name or an @group", w.v[i]);
			strv_free(&w);
			return;
		}
		if (strcmp(w.v[i], "root") == 0) {
			cfg_error(ctx->cfg, ctx->line, "[broker] users: root's "
			    "guests are the system broker's own "
			    "(qemu:///system)");
			strv_free(&w);
			return;
		}
	}
	strv_copy(&ctx->cfg->users, &w);
	strv_free(&w);
}

void
cfg_broker_key(struct cfg_ctx *ctx, const char *key, const char *value)
{
	struct config *cfg = ctx->cfg;
	int line = ctx->line, i;

	if (strcmp(key, "mode") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_MODE, "broker", key))
			return;
		i = cfg_lookup_name(cfg_broker_mode_names, BROKER_MODE_MAX, value);
		if (i < 0)
			cfg_error(cfg, line, "[broker] mode: '%s' is not "
			    "session or system", value);
		else
			cfg->mode = (enum broker_mode)i;
	} else if (strcmp(key, "runtime_dir") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_RUNTIME_DIR, "broker", key))
			return;
		if (strcmp(value, CFG_RUNTIME_DIR_XDG) == 0)
			cfg->runtime_dir_xdg = true;
		else if (!paths_is_clean_absolute(value) || strlen(value) > 80)
			cfg_error(cfg, line, "[broker] runtime_dir: '%s' is not "
			    "xdg or a clean absolute path of at most 80 bytes",
			    value);
		else
			cfg->runtime_dir = xstrdup(value);
	} else if (strcmp(key, "search_path") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_SEARCH_PATH, "broker", key))
			return;
		if (!cfg_search_path_is_valid(value)) {
			cfg_error(cfg, line, "[broker] search_path: '%s' is not "
			    "a ':'-separated list of absolute directories",
			    value);
			return;
		}
		free(cfg->search_path);
		cfg->search_path = xstrdup(value);
	} else if (strcmp(key, "log") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_LOG, "broker", key))
			return;
		if (strcmp(value, "stderr") == 0)
			cfg->log_syslog = false;
		else if (strcmp(value, "syslog") == 0)
			cfg->log_syslog = true;
		else
			cfg_error(cfg, line, "[broker] log: '%s' is not stderr "
			    "or syslog", value);
	} else if (strcmp(key, "backlog") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_BACKLOG, "broker", key))
			return;
		if (cfg_parse_uint(value, 1, 65535, 10, &cfg->backlog) < 0)
			cfg_error(cfg, line, "[broker] backlog: '%s' is not a "
			    "number from 1 to 65535", value);
	} else if (strcmp(key, "holder_timeout") == 0) {
		if (once(ctx, &cfg->set, CFG_KEY_HOLDER_TIMEOUT, "broker",
		    key) && cfg_parse_uint(value, 0, 86400, 10,
		    &cfg->holder_timeout) < 0)
			cfg_error(cfg, line, "[broker] holder_timeout: '%s' is "
			    "not a number of seconds from 0 to 86400", value);
	} else if (strcmp(key, "socket_mode") == 0) {
		if (once(ctx, &cfg->set, CFG_KEY_SOCKET_MODE, "broker", key) &&
		    cfg_parse_uint(value, 0, 0777, 8, &cfg->socket_mode) < 0)
			cfg_error(cfg, line, "[broker] socket_mode: '%s' is not "
			    "an octal mode from 0 to 0777", value);
	} else if (strcmp(key, "socket_group") == 0) {
		if (once(ctx, &cfg->set, CFG_KEY_SOCKET_GROUP, "broker", key))
			cfg->socket_group = xstrdup(value);
	} else if (strcmp(key, "publish") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_PUBLISH, "broker", key))
			return;
		parse_publish(ctx, value);
	} else if (strcmp(key, "log_dir") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_LOG_DIR, "broker", key))
			return;
		if (!paths_is_clean_absolute(value))
			cfg_error(cfg, line, "[broker] log_dir: '%s' is not a "
			    "clean absolute path", value);
		else
			cfg->log_dir = xstrdup(value);
	} else if (strcmp(key, "on_shutdown") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_ON_SHUTDOWN, "broker", key))
			return;
		i = cfg_lookup_name(cfg_on_shutdown_names, ON_SHUTDOWN_MAX,
		    value);
		if (i < 0)
			cfg_error(cfg, line, "[broker] on_shutdown: '%s' is not "
			    "save, shutdown or none", value);
		else
			cfg->on_shutdown = (enum on_shutdown)i;
	} else if (strcmp(key, "shutdown_timeout") == 0) {
		if (once(ctx, &cfg->set, CFG_KEY_SHUTDOWN_TIMEOUT, "broker",
		    key) && cfg_parse_uint(value, 1, CFG_MAX_STOP_TIMEOUT, 10,
		    &cfg->shutdown_timeout) < 0)
			cfg_error(cfg, line, "[broker] shutdown_timeout: '%s' is "
			    "not a number of seconds from 1 to %d", value,
			    CFG_MAX_STOP_TIMEOUT);
	} else if (strcmp(key, "users") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_USERS, "broker", key))
			return;
		parse_users(ctx, value);
	} else {
		cfg_error(cfg, line, "[broker] unknown key '%s'", key);
	}
}
