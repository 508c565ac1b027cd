/* SPDX-License-Identifier: MIT */
/*
 * Pure: building the sd_listen_fds environment. libvirt 9.0's
 * virSystemdGetListenFDs() ignores every fd unless LISTEN_PID is its own pid,
 * and remote_daemon.c wants exactly one LISTEN_FDNAMES entry per fd (an fd
 * with no name makes virtqemud unlink the paths and bind its own sockets).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "listenfds.h"
#include "nosan.h"
#include "xalloc.h"

/* systemd's fdname_is_valid(), but an empty name is of no use to libvirt. */
bool
lfd_name_is_valid(const char *name)
{
	size_t len = 0;

	for (const char *p = name; *p != '\0'; p++, len++)
		if (*p < ' ' || *p > '~' || *p == ':')
			return false;
	return len > 0 && len <= LFD_NAME_MAX;
}

/* The variables the broker owns: a unit's env may not set them. */
bool
lfd_is_reserved_env(const char *assignment)
{
	static const char *const reserved[] = {
		"LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strncmp(assignment, reserved[i], strlen(reserved[i])) == 0)
			return true;
	return false;
}

/* "a:b:c" for names a, b, c; -EINVAL for no name or an invalid one. */
int
lfd_build_names(const char *const *names, size_t n, char **ret_value)
{
	size_t len = 0;
	char *s, *p;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!lfd_name_is_valid(names[i]))
			return -EINVAL;
		len += strlen(names[i]) + 1;
	}
	p = s = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		memcpy(p, names[i], l);
		p += l;
		*p++ = i + 1 < n ? ':' : '\0';
	}
	*ret_value = s;
	return 0;
}

/*
 * Appends LISTEN_FDS, LISTEN_FDNAMES and a LISTEN_PID slot (LFD_PID_SLOT
 * bytes, filled by lfd_format_pid() in the child) to env.
 */
int
lfd_add_env(struct strv *env, const char *const *names, size_t n)
{
	char *joined, *slot;
	int r;

	r = lfd_build_names(names, n, &joined);
	if (r < 0)
		return r;
	strv_addf(env, "LISTEN_FDS=%zu", n);
	strv_push(env, xasprintf("LISTEN_FDNAMES=%s", joined));
	free(joined);
	slot = xcalloc(1, LFD_PID_SLOT);
	memcpy(slot, LFD_PID_PREFIX, sizeof(LFD_PID_PREFIX) - 1);
	strv_push(env, slot);
	return 0;
}

/*
 * Async-signal-safe: writes "LISTEN_PID=<pid>" into a LFD_PID_SLOT slot.
 * Runs in spawn.c's child, on its own stack in the broker's memory: it
 * writes nothing but the slot and its own frame, and is not instrumented.
 */
NOSAN void
lfd_format_pid(char *slot, long pid)
{
	char digits[21];
	size_t n = 0;
	char *p = slot + sizeof(LFD_PID_PREFIX) - 1;

	if (pid <= 0)
		pid = 0;
	do {
		digits[n++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0 && n < sizeof(digits));
	while (n > 0)
		*p++ = digits[--n];
	*p = '\0';
}
