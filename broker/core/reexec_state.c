/* SPDX-License-Identifier: MIT */
/* Pure: the reexec serialization (see reexec_state.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reexec_state.h"
#include "strv.h"
#include "xalloc.h"

static void
append(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *s;
	size_t n;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	n = strlen(s);
	*buf = xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	free(s);
}

char *
reexec_state_format(const struct reexec_state *st)
{
	char *buf = NULL;
	size_t len = 0;

	append(&buf, &len, "virt-broker-state %d\n", REEXEC_STATE_VERSION);
	for (size_t i = 0; i < st->nunits; i++) {
		const struct reexec_unit *u = &st->units[i];

		append(&buf, &len, "unit %s activations=%u reloads=%u "
		    "ready_ms=%ld since=%lld exited=%d last_status=%d "
		    "exec_ms=%" PRIu64 " adopted=%ld pid=%ld fails=", u->name,
		    u->activations, u->reloads, u->ready_ms, u->since,
		    u->exited_once ? 1 : 0, u->last_status, u->exec_ms,
		    (long)u->adopted_pid, (long)u->pid);
		for (unsigned j = 0; j < u->nfail && j < UNIT_MAX_BURST; j++)
			append(&buf, &len, "%s%" PRIu64, j > 0 ? "," : "",
			    u->fail_ms[j]);
		append(&buf, &len, "\n");
	}
	return buf;
}

/* Fields of s separated by sep, empty ones skipped. */
static void
split(const char *s, char sep, struct strv *ret)
{
	while (*s != '\0') {
		const char *e = strchr(s, sep);
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (n > 0)
			strv_push(ret, xstrndup(s, n));
		s += n + (e != NULL);
	}
}

static bool
parse_num(const char *s, long long lo, long long hi, long long *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

static bool
parse_fails(char *s, struct reexec_unit *u)
{
	char *save = NULL;

	u->nfail = 0;
	if (*s == '\0')
		return true;
	for (char *t = strtok_r(s, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		long long v;

		if (u->nfail >= UNIT_MAX_BURST ||
		    !parse_num(t, 0, INT64_MAX, &v))
			return false;
		u->fail_ms[u->nfail++] = (uint64_t)v;
	}
	return true;
}

static bool
parse_field(struct reexec_unit *u, char *f)
{
	char *eq = strchr(f, '=');
	long long v;

	if (eq == NULL)
		return false;
	*eq++ = '\0';
	if (strcmp(f, "fails") == 0)
		return parse_fails(eq, u);
	if (!parse_num(eq, INT64_MIN, INT64_MAX, &v))
		return false;
	if (strcmp(f, "activations") == 0 && v >= 0 && v <= UINT32_MAX)
		u->activations = (unsigned)v;
	else if (strcmp(f, "reloads") == 0 && v >= 0 && v <= UINT32_MAX)
		u->reloads = (unsigned)v;
	else if (strcmp(f, "ready_ms") == 0 && v >= -1 && v <= INT32_MAX)
		u->ready_ms = (long)v;
	else if (strcmp(f, "since") == 0)
		u->since = v;
	else if (strcmp(f, "exited") == 0 && (v == 0 || v == 1))
		u->exited_once = v == 1;
	else if (strcmp(f, "last_status") == 0 && v >= INT32_MIN &&
	    v <= INT32_MAX)
		u->last_status = (int)v;
	else if (strcmp(f, "exec_ms") == 0 && v >= 0)
		u->exec_ms = (uint64_t)v;
	else if (strcmp(f, "adopted") == 0 && v >= 0 && v <= INT32_MAX)
		u->adopted_pid = (pid_t)v;
	else if (strcmp(f, "pid") == 0 && v >= 0 && v <= INT32_MAX)
		u->pid = (pid_t)v;
	else
		return false;	/* unknown key, or out of range */
	return true;
}

/*
 * 0 with *ret_st filled; -EPROTO (another version) or -EINVAL (a bad
 * line), with err saying which.
 */
int
reexec_state_parse(const char *text, struct reexec_state *ret_st, char *err,
    size_t errsize)
{
	struct strv lines = { 0 };
	int version = 0, r = 0;

	memset(ret_st, 0, sizeof(*ret_st));
	split(text, '\n', &lines);
	if (lines.n == 0 || sscanf(lines.v[0], "virt-broker-state %d",
	    &version) != 1) {
		snprintf(err, errsize, "no 'virt-broker-state' line");
		r = -EINVAL;
		goto out;
	}
	if (version != REEXEC_STATE_VERSION) {
		snprintf(err, errsize, "format version %d, this broker reads "
		    "%d", version, REEXEC_STATE_VERSION);
		r = -EPROTO;
		goto out;
	}
	for (size_t i = 1; i < lines.n && r == 0; i++) {
		struct strv w = { 0 };
		struct reexec_unit u = { .ready_ms = -1 };

		split(lines.v[i], ' ', &w);
		if (w.n == 0) {
			strv_free(&w);
			continue;
		}
		if (w.n < 2 || strcmp(w.v[0], "unit") != 0) {
			snprintf(err, errsize, "line %zu: '%s'", i + 1,
			    lines.v[i]);
			r = -EINVAL;
		}
		for (size_t j = 2; j < w.n && r == 0; j++)
			if (!parse_field(&u, w.v[j])) {
				snprintf(err, errsize, "line %zu: field '%s'",
				    i + 1, w.v[j]);
				r = -EINVAL;
			}
		if (r == 0) {
			u.name = w.v[1];
			reexec_state_add(ret_st, &u);
		}
		strv_free(&w);
	}
	if (r < 0)
		reexec_state_free(ret_st);
out:
	strv_free(&lines);
	return r;
}

void
reexec_state_add(struct reexec_state *st, const struct reexec_unit *u)
{
	st->units = xgrow(st->units, st->nunits, sizeof(*st->units));
	st->units[st->nunits] = *u;
	st->units[st->nunits].name = xstrdup(u->name);
	/* A name given twice: the first one is found, as before. */
	(void)strmap_add(&st->index, st->units[st->nunits].name, st->nunits,
	    NULL);
	st->nunits++;
}

const struct reexec_unit *
reexec_state_find(const struct reexec_state *st, const char *name)
{
	size_t i;

	return strmap_get(&st->index, name, &i) ? &st->units[i] : NULL;
}

void
reexec_state_free(struct reexec_state *st)
{
	for (size_t i = 0; i < st->nunits; i++)
		free(st->units[i].name);
	free(st->units);
	strmap_clear(&st->index);
	memset(st, 0, sizeof(*st));
}
