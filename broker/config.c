/* SPDX-License-Identifier: MIT */
/*
 * Pure: parses virt-broker.conf with inih into struct config.
 *
 * Debian's shared inih (55) has no line numbers in the handler, stops
 * telling after the first bad line, and passes a truncated value for a line
 * over 199 bytes. So lines come through our own reader: it counts lines for
 * the handler, rejects overlong lines (and swallows their remainder), and
 * checks the syntax inih would reject silently, so every error is reported
 * as FILE:LINE, not only the first.
 */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "listenfds.h"
#include "paths.h"
#include "xalloc.h"

struct cfg_ctx {
	struct config	*cfg;
	FILE		*fp;
	int		 line;		/* of the text last handed to inih */
	int		 bad_line;	/* reader reported an error for it */
};

static const char *const broker_mode_names[BROKER_MODE_MAX] = {
	[BROKER_MODE_SESSION] = "session",
	[BROKER_MODE_SYSTEM] = "system",
};

static const char *const start_policy_names[START_POLICY_MAX] = {
	[START_ON_DEMAND] = "on-demand",
	[START_AT_LAUNCH] = "at-launch",
	[START_DISABLED] = "disabled",
};

static const char *const restart_policy_names[RESTART_POLICY_MAX] = {
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
	[RESTART_NO] = "no",
};

static const char *const daemon_log_names[DAEMON_LOG_MAX] = {
	[DAEMON_LOG_FILE] = "file",
	[DAEMON_LOG_SYSLOG] = "syslog",
	[DAEMON_LOG_STDERR] = "stderr",
};

const char *
daemon_log_name(enum daemon_log d)
{
	return d < DAEMON_LOG_MAX ? daemon_log_names[d] : "?";
}

const char *
broker_mode_name(enum broker_mode m)
{
	return m < BROKER_MODE_MAX ? broker_mode_names[m] : "?";
}

const char *
start_policy_name(enum start_policy p)
{
	return p < START_POLICY_MAX ? start_policy_names[p] : "?";
}

const char *
restart_policy_name(enum restart_policy p)
{
	return p < RESTART_POLICY_MAX ? restart_policy_names[p] : "?";
}

static int
lookup_name(const char *const *names, int n, const char *value)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], value) == 0)
			return i;
	return -1;
}

struct config *
cfg_new(const char *file)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->file = xstrdup(file);
	cfg->search_path = xstrdup(CFG_DEFAULT_SEARCH_PATH);
	cfg->backlog = CFG_DEFAULT_BACKLOG;
	return cfg;
}

static void
unit_conf_clear(struct unit_conf *u)
{
	free(u->socket_group);
	free(u->listen_tcp);
	free(u->listen_tls);
	free(u->name);
	free(u->exec);
	strv_free(&u->args);
	strv_free(&u->env);
	for (size_t i = 0; i < u->nsockets; i++) {
		free(u->sockets[i].name);
		free(u->sockets[i].path);
		free(u->sockets[i].group);
	}
	free(u->sockets);
}

void
cfg_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nunits; i++)
		unit_conf_clear(&cfg->units[i]);
	free(cfg->units);
	free(cfg->file);
	free(cfg->runtime_dir);
	free(cfg->search_path);
	free(cfg->log_dir);
	free(cfg->socket_group);
	strv_free(&cfg->publish);
	strv_free(&cfg->errors);
	free(cfg);
}

void
cfg_error(struct config *cfg, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (line > 0)
		strv_push(&cfg->errors, xasprintf("%s:%d: %s", cfg->file, line,
		    msg != NULL ? msg : fmt));
	else
		strv_push(&cfg->errors, xasprintf("%s: %s", cfg->file,
		    msg != NULL ? msg : fmt));
	free(msg);
}

struct unit_conf *
cfg_find_unit(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nunits; i++)
		if (strcmp(cfg->units[i].name, name) == 0)
			return &cfg->units[i];
	return NULL;
}

/* Unit names become log prefixes and file names: keep them plain. */
bool
cfg_unit_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CFG_UNIT_NAME_MAX || strcmp(name, "broker") == 0)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-") == len &&
	    name[0] != '.' && name[0] != '-';
}

static struct unit_conf *
cfg_unit(struct cfg_ctx *ctx, const char *name)
{
	struct config *cfg = ctx->cfg;
	struct unit_conf *u = cfg_find_unit(cfg, name);

	if (u != NULL)
		return u;
	if (cfg->nunits >= CFG_MAX_UNITS)
		return NULL;
	cfg->units = xreallocarray(cfg->units, cfg->nunits + 1,
	    sizeof(*cfg->units));
	u = &cfg->units[cfg->nunits++];
	memset(u, 0, sizeof(*u));
	u->name = xstrdup(name);
	u->line = ctx->line;
	u->start = START_ON_DEMAND;
	u->restart = RESTART_ON_FAILURE;
	u->stop_timeout = CFG_DEFAULT_STOP_TIMEOUT;
	u->stop_on_exit = true;
	u->start_limit_burst = CFG_DEFAULT_START_LIMIT_BURST;
	u->start_limit_interval = CFG_DEFAULT_START_LIMIT_INTERVAL;
	u->failed_cooldown = CFG_DEFAULT_FAILED_COOLDOWN;
	u->log_max_size = CFG_DEFAULT_LOG_MAX_SIZE;
	u->log_keep = CFG_DEFAULT_LOG_KEEP;
	return u;
}

static int
parse_uint(const char *s, unsigned min, unsigned max, int base,
    unsigned *ret)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

/*
 * A size or a count: digits with an optional K, M or G (powers of 1024),
 * or "infinity" (CFG_LIMIT_INFINITY). Returns 0 or -EINVAL/-ERANGE.
 */
int
cfg_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (strcmp(s, "infinity") == 0) {
		*ret = CFG_LIMIT_INFINITY;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -EINVAL;
		switch (*end) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return -EINVAL;
		}
	}
	if (v > (UINT64_MAX - 1) >> shift)
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int
parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * An inet listener "tcp:PORT", "tcp:HOST:PORT" or "tcp:[V6]:PORT" with a
 * numeric host (no name lookups in a boot-time daemon). Returns 0 with the
 * host (CFG_DEFAULT_TCP_HOST when none) and port, or -EINVAL.
 */
int
cfg_parse_inet(const char *spec, char *ret_host, size_t host_size,
    unsigned *ret_port)
{
	const char *p = spec, *colon;
	size_t hlen;
	unsigned port;

	if (strncmp(p, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) != 0)
		return -EINVAL;
	p += strlen(CFG_TCP_PREFIX);
	if (*p == '[') {
		const char *end = strchr(p, ']');

		if (end == NULL || end[1] != ':')
			return -EINVAL;
		hlen = (size_t)(end - p - 1);
		p++;
		colon = end + 1;
	} else {
		colon = strrchr(p, ':');
		hlen = colon != NULL ? (size_t)(colon - p) : 0;
	}
	if (parse_uint(colon != NULL ? colon + 1 : p, 1, 65535, 10,
	    &port) < 0)
		return -EINVAL;
	if (colon == NULL || hlen == 0) {
		p = CFG_DEFAULT_TCP_HOST;
		hlen = strlen(p);
	}
	if (hlen >= host_size || hlen >= 64 ||
	    strspn(p, "0123456789abcdefABCDEF.:") < hlen)
		return -EINVAL;
	memcpy(ret_host, p, hlen);
	ret_host[hlen] = '\0';
	*ret_port = port;
	return 0;
}

/*
 * A socket path: absolute and clean, relative with no "." or "..", or an
 * inet listener (cfg_parse_inet).
 */
static bool
sock_path_is_valid(const char *path)
{
	char *abs, host[64];
	unsigned port;
	bool ok;

	if (strncmp(path, CFG_TCP_PREFIX, strlen(CFG_TCP_PREFIX)) == 0)
		return cfg_parse_inet(path, host, sizeof(host), &port) == 0;
	if (path[0] == '\0' || strlen(path) >= 108)	/* sun_path */
		return false;
	abs = path[0] == '/' ? xstrdup(path) : xasprintf("/%s", path);
	ok = paths_is_clean_absolute(abs) && strcmp(abs, "/") != 0;
	free(abs);
	return ok;
}

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
	if (!sock_path_is_valid(w.v[1])) {
		cfg_error(ctx->cfg, line, "[unit %s] socket: invalid path '%s' "
		    "(no '.' or '..' parts, under 108 bytes; or tcp:[HOST:]PORT)",
		    u->name, w.v[1]);
		goto out;
	}
	if (w.n >= 3 && parse_uint(w.v[2], 0, 0777, 8, &s.mode) < 0) {
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

	if (parse_bool(value, &on) == 0) {
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
		    parse_uint(value, 1, CFG_MAX_START_LIMIT_BURST, 10,
		    &u->start_limit_burst) < 0)
			cfg_error(cfg, line, "[unit %s] start_limit_burst: '%s' "
			    "is not a number from 1 to %d", u->name, value,
			    CFG_MAX_START_LIMIT_BURST);
	} else if (strcmp(key, "start_limit_interval") == 0) {
		if (once(ctx, &u->set, CFG_KEY_START_LIMIT_INTERVAL, section,
		    key) && parse_uint(value, 1, 86400, 10,
		    &u->start_limit_interval) < 0)
			cfg_error(cfg, line, "[unit %s] start_limit_interval: "
			    "'%s' is not a number of seconds from 1 to 86400",
			    u->name, value);
	} else if (strcmp(key, "failed_cooldown") == 0) {
		if (once(ctx, &u->set, CFG_KEY_FAILED_COOLDOWN, section, key) &&
		    parse_uint(value, 1, 86400, 10, &u->failed_cooldown) < 0)
			cfg_error(cfg, line, "[unit %s] failed_cooldown: '%s' is "
			    "not a number of seconds from 1 to 86400", u->name,
			    value);
	} else if (strcmp(key, "limit_nofile") == 0) {
		if (once(ctx, &u->set, CFG_KEY_LIMIT_NOFILE, section, key) &&
		    (cfg_parse_size(value, &u->limit_nofile) < 0 ||
		    u->limit_nofile == 0))
			cfg_error(cfg, line, "[unit %s] limit_nofile: '%s' is "
			    "not a positive number or infinity", u->name, value);
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
		i = lookup_name(daemon_log_names, DAEMON_LOG_MAX, value);
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
		    parse_uint(value, 0, 100, 10, &u->log_keep) < 0)
			cfg_error(cfg, line, "[unit %s] log_keep: '%s' is not a "
			    "number from 0 to 100", u->name, value);
	} else if (strcmp(key, "socket_mode") == 0) {
		if (once(ctx, &u->set, CFG_KEY_SOCKET_MODE, section, key) &&
		    parse_uint(value, 0, 0777, 8, &u->socket_mode) < 0)
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

static void
unit_key(struct cfg_ctx *ctx, struct unit_conf *u, const char *key,
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
		i = lookup_name(start_policy_names, START_POLICY_MAX, value);
		if (i < 0)
			cfg_error(cfg, line, "[unit %s] start: '%s' is not "
			    "on-demand, at-launch or disabled", u->name, value);
		else
			u->start = (enum start_policy)i;
	} else if (strcmp(key, "restart") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_RESTART, section, key))
			return;
		i = lookup_name(restart_policy_names, RESTART_POLICY_MAX,
		    value);
		if (i < 0)
			cfg_error(cfg, line, "[unit %s] restart: '%s' is not "
			    "on-failure, always or no", u->name, value);
		else
			u->restart = (enum restart_policy)i;
	} else if (strcmp(key, "stop_timeout") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_STOP_TIMEOUT, section, key))
			return;
		if (parse_uint(value, 1, CFG_MAX_STOP_TIMEOUT, 10,
		    &u->stop_timeout) < 0)
			cfg_error(cfg, line, "[unit %s] stop_timeout: '%s' is "
			    "not a number of seconds from 1 to %d", u->name,
			    value, CFG_MAX_STOP_TIMEOUT);
	} else if (strcmp(key, "stop_on_exit") == 0) {
		if (!once(ctx, &u->set, CFG_KEY_STOP_ON_EXIT, section, key))
			return;
		if (parse_bool(value, &u->stop_on_exit) < 0)
			cfg_error(cfg, line, "[unit %s] stop_on_exit: '%s' is "
			    "not yes or no", u->name, value);
	} else if (!unit_key_more(ctx, u, key, value, section)) {
		cfg_error(cfg, line, "[unit %s] unknown key '%s'", u->name,
		    key);
	}
}

static bool
search_path_is_valid(const char *value)
{
	const char *p = value;

	if (*p == '\0')
		return false;
	for (;;) {
		size_t len = strcspn(p, ":");
		char *dir = xstrndup(p, len);
		bool ok = paths_is_clean_absolute(dir);

		free(dir);
		if (!ok)
			return false;
		if (p[len] == '\0')
			return true;
		p += len + 1;
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

static void
broker_key(struct cfg_ctx *ctx, const char *key, const char *value)
{
	struct config *cfg = ctx->cfg;
	int line = ctx->line, i;

	if (strcmp(key, "mode") == 0) {
		if (!once(ctx, &cfg->set, CFG_KEY_MODE, "broker", key))
			return;
		i = lookup_name(broker_mode_names, BROKER_MODE_MAX, value);
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
		if (!search_path_is_valid(value)) {
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
		if (parse_uint(value, 1, 65535, 10, &cfg->backlog) < 0)
			cfg_error(cfg, line, "[broker] backlog: '%s' is not a "
			    "number from 1 to 65535", value);
	} else if (strcmp(key, "socket_mode") == 0) {
		if (once(ctx, &cfg->set, CFG_KEY_SOCKET_MODE, "broker", key) &&
		    parse_uint(value, 0, 0777, 8, &cfg->socket_mode) < 0)
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
	} else {
		cfg_error(cfg, line, "[broker] unknown key '%s'", key);
	}
}

/* inih's handler: returns 1 always, since every error is recorded here. */
static int
cfg_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct cfg_ctx *ctx = user;
	struct unit_conf *u;

	if (ctx->bad_line == ctx->line)
		return 1;		/* the reader reported this line */
	if (section[0] == '\0') {
		cfg_error(ctx->cfg, ctx->line, "key '%s' outside any section "
		    "(start with [broker] or [UNIT])", key);
		return 1;
	}
	if (strcmp(section, "broker") == 0) {
		broker_key(ctx, key, value);
		return 1;
	}
	u = cfg_find_unit(ctx->cfg, section);
	if (u == NULL)
		return 1;		/* the reader reported its header */
	if (value[0] == '\0' && strcmp(key, "args") != 0) {
		cfg_error(ctx->cfg, ctx->line, "[unit %s] %s: empty value",
		    u->name, key);
		return 1;
	}
	unit_key(ctx, u, key, value);
	return 1;
}

/*
 * The syntax inih rejects without telling the handler: a line that is not
 * blank, a comment, a [section] or a key = value. Also a line starting with
 * white space, which inih would take as a continuation of the previous key.
 */
static const char *
cfg_syntax_error(const char *buf, bool first_line)
{
	const char *p = buf, *comment;
	size_t len;

	if (first_line && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	if (*p == ' ' || *p == '\t') {
		p += strspn(p, " \t\r\n");
		if (*p == '\0' || *p == ';' || *p == '#')
			return NULL;
		return "line starts with white space (continuation lines are "
		    "not supported)";
	}
	if (*p == '\0' || *p == '\r' || *p == '\n' || *p == ';' || *p == '#')
		return NULL;
	/* inih ends the line at " ;" (an inline comment): so do we. */
	len = strlen(p);
	for (comment = p + 1; *comment != '\0'; comment++)
		if (*comment == ';' && (comment[-1] == ' ' ||
		    comment[-1] == '\t')) {
			len = (size_t)(comment - p);
			break;
		}
	if (*p == '[')
		return memchr(p, ']', len) != NULL ? NULL :
		    "section header without ']'";
	if (*p == '=' || *p == ':')
		return "key name missing before '='";
	if (memchr(p, '=', len) == NULL && memchr(p, ':', len) == NULL)
		return "expected 'key = value' or '[section]'";
	return NULL;
}

/* A [section] header: units are created here, so that empty ones count. */
static void
cfg_section(struct cfg_ctx *ctx, const char *buf)
{
	const char *open = strchr(buf, '[');
	size_t len = strcspn(open + 1, "]");
	char *name = xstrndup(open + 1, len);

	if (strcmp(name, "broker") == 0)
		;
	else if (!cfg_unit_name_is_valid(name))
		cfg_error(ctx->cfg, ctx->line, "[%s] invalid unit name "
		    "(letters, digits, '_', '.', '@', '-'; at most %d)", name,
		    CFG_UNIT_NAME_MAX);
	else if (cfg_unit(ctx, name) == NULL)
		cfg_error(ctx->cfg, ctx->line, "too many units (at most %d)",
		    CFG_MAX_UNITS);
	free(name);
}

/* An ini_reader: one line per call, counted, checked (see top). */
static char *
cfg_read_line(char *buf, int size, void *stream)
{
	struct cfg_ctx *ctx = stream;
	const char *err;
	int c;

	if (fgets(buf, size, ctx->fp) == NULL)
		return NULL;
	ctx->line++;
	if (strchr(buf, '\n') == NULL && !feof(ctx->fp)) {
		/* Overlong: inih would hand over a truncated value. */
		while ((c = fgetc(ctx->fp)) != EOF && c != '\n')
			;
		cfg_error(ctx->cfg, ctx->line, "line too long (at most %d "
		    "bytes)", size - 2);
		ctx->bad_line = ctx->line;
		buf[0] = '\n';		/* hand inih an empty line */
		buf[1] = '\0';
		return buf;
	}
	err = cfg_syntax_error(buf, ctx->line == 1);
	if (err != NULL) {
		cfg_error(ctx->cfg, ctx->line, "%s", err);
		ctx->bad_line = ctx->line;
		buf[0] = '\n';
		buf[1] = '\0';
	} else if (buf[ctx->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0 ?
	    3 : 0] == '[') {
		cfg_section(ctx, buf);
	}
	return buf;
}

/* Was an error recorded (since index from) for that line? */
static bool
cfg_has_error_at(const struct config *cfg, size_t from, int line)
{
	size_t flen = strlen(cfg->file);
	char prefix[32];

	snprintf(prefix, sizeof(prefix), ":%d: ", line);
	for (size_t i = from; i < cfg->errors.n; i++)
		if (strncmp(cfg->errors.v[i] + flen, prefix,
		    strlen(prefix)) == 0)
			return true;
	return false;
}

/* Returns the number of errors recorded so far in cfg->errors. */
int
cfg_parse(struct config *cfg, FILE *fp)
{
	struct cfg_ctx ctx = { .cfg = cfg, .fp = fp };
	size_t before = cfg->errors.n;
	int r;

	r = ini_parse_stream(cfg_read_line, &ctx, cfg_handler, &ctx);
	if (r > 0 && !cfg_has_error_at(cfg, before, r))
		cfg_error(cfg, r, "syntax error");
	else if (r < 0)
		cfg_error(cfg, 0, "cannot parse (inih error %d)", r);
	if (ferror(fp))
		cfg_error(cfg, 0, "read error");
	return (int)cfg->errors.n;
}

int
cfg_parse_string(struct config *cfg, const char *text)
{
	FILE *fp;
	int r;

	if (text[0] == '\0')
		return (int)cfg->errors.n;
	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	if (fp == NULL)
		return -errno;
	r = cfg_parse(cfg, fp);
	fclose(fp);
	return r;
}
