/* SPDX-License-Identifier: MIT */
/* Edge: control characters escaped on stdout and stderr (term.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "term.h"

struct guard {
	int	 fd;
	int	 pending;	/* a 0xc2 that may start a C1 control */
};

static struct guard out_guard = { .fd = 1 }, err_guard = { .fd = 2 };

/*
 * Pure: in[0..n) escaped into out (room for 6 * n + 6 bytes); *pending
 * carries a lead byte 0xc2 across calls. The length written.
 */
size_t
term_escape(const char *in, size_t n, char *out, int *pending)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (*pending) {
			*pending = 0;
			if (c >= 0x80 && c <= 0x9f) {	/* U+0080-U+009F */
				o += (size_t)sprintf(out + o, "\\u%04x", c);
				continue;
			}
			out[o++] = (char)0xc2;
		}
		if (c == 0xc2) {
			*pending = 1;
		} else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t
guard_write(void *cookie, const char *buf, size_t n)
{
	struct guard *g = cookie;
	char out[6 * 1024 + 8];
	size_t done = 0;

	while (done < n) {
		size_t k = n - done > 1024 ? 1024 : n - done;
		size_t o = term_escape(buf + done, k, out, &g->pending);

		if (write_all(g->fd, out, o) < 0)
			return done > 0 ? (ssize_t)done : -1;
		done += k;
	}
	return (ssize_t)n;
}

/* A stream through g: line-buffered on a terminal, else as stdio does. */
static FILE *
guarded(struct guard *g, int mode)
{
	cookie_io_functions_t io = { .write = guard_write };
	FILE *fp = fopencookie(g, "w", io);

	if (fp != NULL && mode >= 0)
		setvbuf(fp, NULL, mode, 0);
	return fp;
}

void
term_guard(void)
{
	FILE *o = guarded(&out_guard, isatty(1) ? _IOLBF : -1);
	FILE *e = guarded(&err_guard, _IONBF);

	if (o != NULL)
		stdout = o;
	if (e != NULL)
		stderr = e;
}
