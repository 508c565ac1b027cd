/* SPDX-License-Identifier: MIT */
/* Edge: a request to the broker and its reply (request.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "request.h"
#include "trust.h"
#include "xalloc.h"

long request_timeout = 10;

void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("virt-brokerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * Sends the whole line. Returns 0, or -errno: EPIPE and ECONNRESET mean
 * the broker has closed, and may have said why before it did.
 * MSG_NOSIGNAL, not SIG_IGN: "log -f | head" must still end by SIGPIPE.
 */
static int
send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/*
 * Reads until EOF (or a reset, after the broker's last word); NUL-ended.
 * A reply over REPLY_MAX, or a broker silent for request_timeout (SO_RCVTIMEO),
 * ends the command.
 */
static char *
read_all(int fd, const char *path)
{
	char buf[4096], *data = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;

	for (;;) {
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			die("%s: no answer within %ld s (--timeout)", path,
			    request_timeout);
		if (got <= 0)
			break;
		if (len + (size_t)got > REPLY_MAX)
			die("%s: the reply is over %d bytes; not a broker's",
			    path, REPLY_MAX);
		if (len + (size_t)got + 1 > cap) {
			cap = (len + (size_t)got + 1) * 2;
			data = xreallocarray(data, cap, 1);
		}
		memcpy(data + len, buf, (size_t)got);
		len += (size_t)got;
	}
	if (data != NULL)
		data[len] = '\0';
	return data;
}

/*
 * A unit line names a unit (trust.h): its name may name a file or a URI.
 * Any other reply is not a broker's.
 */
static void
check_unit_names(const struct strv *lines, const char *path)
{
	for (size_t i = 0; i < lines->n; i++) {
		struct strv w = { 0 };
		const char *name;

		if (ctlproto_split(lines->v[i], &w) == 0 && w.n > 0 &&
		    (strcmp(w.v[0], "unit") == 0 ? (name = ctlproto_kv(&w,
		    "name")) != NULL : (name = ctlproto_kv(&w, "unit")) !=
		    NULL) && !trust_unit_name(name))
			die("%s: the reply names a unit '%s', which is not a "
			    "unit name; not a broker's", path, name);
		strv_free(&w);
	}
}

/* Sends one request, reads the whole reply. */
void
request(const char *path, const char *const *args, size_t n,
    struct reply *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *body = ctlproto_join(args, n), *line;
	struct strv all = { 0 };
	struct timeval tv = { .tv_sec = request_timeout };
	char *data;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("%s: path too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* connect() to a full backlog and read() wait at most this long. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			die("no broker is running: nothing listens on %s (%s)",
			    path, strerror(errno));
		if (errno == EAGAIN || errno == EINPROGRESS)
			die("connect %s: no room within %ld s (--timeout)",
			    path, request_timeout);
		die("connect %s: %s", path, strerror(errno));
	}
	if (trust_note_broker(fd) < 0)
		die("%s: who serves it (SO_PEERCRED): %s", path,
		    strerror(errno));
	line = xasprintf(CTLPROTO_VERSION " %s\n", body);
	r = send_line(fd, line);
	free(line);
	free(body);
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		die("write %s: %s", path, strerror(-r));
	data = read_all(fd, path);
	close(fd);
	if (data == NULL && r < 0)
		die("write %s: %s", path, strerror(-r));
	if (data == NULL)
		die("the broker closed %s without an answer", path);
	memset(ret, 0, sizeof(*ret));
	for (char *p = data, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strcmp(p, "OK") == 0)
			break;
		if (strncmp(p, "ERR ", 4) == 0) {
			if (ctlproto_unescape(p + 4, &ret->error) < 0)
				ret->error = xstrdup(p + 4);
			break;
		}
		strv_add(&all, p);
	}
	free(data);
	check_unit_names(&all, path);
	ret->lines = all;
}

void
reply_free(struct reply *r)
{
	strv_free(&r->lines);
	free(r->error);
}

/* The reply's lines of a kind, split into words (kind first). */
size_t
lines_of(const struct reply *r, const char *kind, const char *unit,
    struct strv *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->lines.n && n < max; i++) {
		struct strv w = { 0 };

		if (ctlproto_split(r->lines.v[i], &w) < 0 || w.n == 0 ||
		    strcmp(w.v[0], kind) != 0 || (unit != NULL &&
		    (ctlproto_kv(&w, "unit") == NULL ||
		    strcmp(ctlproto_kv(&w, "unit"), unit) != 0))) {
			strv_free(&w);
			continue;
		}
		out[n++] = w;
	}
	return n;
}

const char *
kv(const struct strv *w, const char *key)
{
	const char *v = ctlproto_kv(w, key);

	return v != NULL ? v : "";
}
