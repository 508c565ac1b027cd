/* SPDX-License-Identifier: MIT */
/*
 * Pure: parsing of a notify datagram (see notify_msg.h). Lines are
 * KEY=VALUE separated by '\n'; a NUL ends the datagram (systemd rejects
 * such a message; we read up to it). Unknown keys and malformed values
 * are ignored, the last valid one of a key wins. STATUS= is kept printable
 * (control bytes become '?') and cut to NOTIFY_STATUS_MAX - 1 bytes, so
 * that status output never carries what a daemon should not write to a
 * terminal.
 */
#include <string.h>

#include "notify_msg.h"

/* Decimal digits only, no sign, no overflow. */
static bool
parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

static bool
is_line(const char *line, size_t n, const char *key_value)
{
	return strlen(key_value) == n && memcmp(line, key_value, n) == 0;
}

/* line[0..n) starts with key (which ends in '='): the value's length. */
static bool
value_of(const char *line, size_t n, const char *key, const char **ret_v,
    size_t *ret_n)
{
	size_t k = strlen(key);

	if (n < k || memcmp(line, key, k) != 0)
		return false;
	*ret_v = line + k;
	*ret_n = n - k;
	return true;
}

static void
set_status(struct notify_msg *m, const char *v, size_t n)
{
	if (n > NOTIFY_STATUS_MAX - 1)
		n = NOTIFY_STATUS_MAX - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		m->status[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	m->status[n] = '\0';
	m->has_status = true;
}

static void
parse_line(struct notify_msg *m, const char *line, size_t n)
{
	const char *v;
	size_t vn;
	uint64_t u;

	if (is_line(line, n, "READY=1"))
		m->ready = true;
	else if (is_line(line, n, "RELOADING=1"))
		m->reloading = true;
	else if (is_line(line, n, "STOPPING=1"))
		m->stopping = true;
	else if (value_of(line, n, "EXTEND_TIMEOUT_USEC=", &v, &vn) &&
	    parse_u64(v, vn, &u)) {
		m->extend_usec = u;
		m->has_extend = true;
	} else if (value_of(line, n, "STATUS=", &v, &vn))
		set_status(m, v, vn);
}

void
notify_msg_parse(const char *buf, size_t len, struct notify_msg *m)
{
	const char *end, *nul;

	memset(m, 0, sizeof(*m));
	nul = memchr(buf, '\0', len);
	end = nul != NULL ? nul : buf + len;
	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		const char *eol = nl != NULL ? nl : end;

		parse_line(m, buf, (size_t)(eol - buf));
		buf = eol + (nl != NULL);
	}
}

bool
notify_msg_empty(const struct notify_msg *m)
{
	return !m->ready && !m->reloading && !m->stopping && !m->has_extend &&
	    !m->has_status;
}
