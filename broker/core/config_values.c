/* SPDX-License-Identifier: MIT */
/*
 * Pure: the values of virt-broker.conf, one at a time and out of context:
 * the policy spellings, numbers, sizes, booleans, inet listeners, socket
 * paths, search paths and unit names. Callers (config_keys.c, config.c)
 * word the errors; cfg_error, last here, records one against the file and
 * line for both (so neither of them calls the other back).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "paths.h"
#include "xalloc.h"

const char *const cfg_broker_mode_names[BROKER_MODE_MAX] = {
	[BROKER_MODE_SESSION] = "session",
	[BROKER_MODE_SYSTEM] = "system",
};

const char *const cfg_start_policy_names[START_POLICY_MAX] = {
	[START_ON_DEMAND] = "on-demand",
	[START_AT_LAUNCH] = "at-launch",
	[START_DISABLED] = "disabled",
};

const char *const cfg_restart_policy_names[RESTART_POLICY_MAX] = {
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
	[RESTART_NO] = "no",
};

const char *const cfg_daemon_log_names[DAEMON_LOG_MAX] = {
	[DAEMON_LOG_FILE] = "file",
	[DAEMON_LOG_SYSLOG] = "syslog",
	[DAEMON_LOG_STDERR] = "stderr",
};

const char *const cfg_on_shutdown_names[ON_SHUTDOWN_MAX] = {
	[ON_SHUTDOWN_SAVE] = "save",
	[ON_SHUTDOWN_SHUTDOWN] = "shutdown",
	[ON_SHUTDOWN_NONE] = "none",
};

const char *
on_shutdown_name(enum on_shutdown o)
{
	return o < ON_SHUTDOWN_MAX ? cfg_on_shutdown_names[o] : "?";
}

const char *
daemon_log_name(enum daemon_log d)
{
	return d < DAEMON_LOG_MAX ? cfg_daemon_log_names[d] : "?";
}

const char *
broker_mode_name(enum broker_mode m)
{
	return m < BROKER_MODE_MAX ? cfg_broker_mode_names[m] : "?";
}

const char *
start_policy_name(enum start_policy p)
{
	return p < START_POLICY_MAX ? cfg_start_policy_names[p] : "?";
}

const char *
restart_policy_name(enum restart_policy p)
{
	return p < RESTART_POLICY_MAX ? cfg_restart_policy_names[p] : "?";
}

int
cfg_lookup_name(const char *const *names, int n, const char *value)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], value) == 0)
			return i;
	return -1;
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

/*
 * POSIX's portable user names (and shadow's default NAME_REGEX): letters,
 * digits, '_', '.', '-', not starting with '-' or '.'; no '@' or '/'.
 */
bool
cfg_user_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= CFG_USER_NAME_MAX && strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
	    == len && name[0] != '-' && name[0] != '.';
}

int
cfg_parse_uint(const char *s, unsigned min, unsigned max, int base,
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
/* "SOFT" or "SOFT:HARD" (systemd's LimitNOFILE= form): positive sizes,
 * SOFT <= HARD; *ret_hard = 0 when no HARD is given. */
int
cfg_parse_soft_hard(const char *s, uint64_t *ret_soft, uint64_t *ret_hard)
{
	const char *colon = strchr(s, ':');
	char soft[32];
	uint64_t a, b = 0;

	if (colon == NULL)
		colon = s + strlen(s);
	if ((size_t)(colon - s) >= sizeof(soft))
		return -EINVAL;
	memcpy(soft, s, (size_t)(colon - s));
	soft[colon - s] = '\0';
	if (cfg_parse_size(soft, &a) < 0 || a == 0)
		return -EINVAL;
	if (*colon == ':' && (cfg_parse_size(colon + 1, &b) < 0 || b == 0 ||
	    b < a))
		return -EINVAL;
	*ret_soft = a;
	*ret_hard = b;
	return 0;
}

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

int
cfg_parse_bool(const char *s, bool *ret)
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
	if (cfg_parse_uint(colon != NULL ? colon + 1 : p, 1, 65535, 10,
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
bool
cfg_sock_path_is_valid(const char *path)
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

bool
cfg_search_path_is_valid(const char *value)
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

/* "FILE:LINE: message" (LINE 0: "FILE: message") into cfg->errors. */
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
