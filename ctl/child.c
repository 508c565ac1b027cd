/* SPDX-License-Identifier: MIT */
/* Edge: work that may hang, in child processes with a deadline (child.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "xalloc.h"

/*
 * Starts fn(arg, out) in a child; its stdout and stdin are /dev/null, its
 * stderr the caller's. Returns 0, or -errno (then c->pid is 0).
 */
int
child_start(struct child *c, child_fn *fn, void *arg)
{
	int p[2], st;
	FILE *out;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->status = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);			/* nothing buffered twice */
	c->pid = fork();
	if (c->pid < 0) {
		c->pid = 0;
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (c->pid == 0) {
		close(p[0]);
		/* libvirt's client may write to a socket the daemon closed */
		signal(SIGPIPE, SIG_IGN);
		out = fdopen(p[1], "w");
		st = out != NULL ? fn(arg, out) : 1;
		if (out != NULL && fclose(out) != 0)
			st = 1;
		_exit(st);
	}
	close(p[1]);
	c->fd = p[0];
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
child_read(struct child *c)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->out = xreallocarray(c->out, c->len + (size_t)n + 1, 1);
	memcpy(c->out + c->len, buf, (size_t)n);
	c->len += (size_t)n;
	c->out[c->len] = '\0';
}

/*
 * Collects the n children's output until each closes its pipe or
 * timeout_ms pass; kills (SIGKILL) and marks timed_out those still
 * running then, and reaps them all.
 */
void
child_wait(struct child *c, size_t n, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct pollfd *pfd = xcalloc(n > 0 ? n : 1, sizeof(*pfd));
	int st;

	for (;;) {
		size_t open = 0;
		long left = deadline - now_ms();

		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = c[i].fd;	/* poll skips -1 */
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			open += c[i].fd >= 0;
		}
		if (open == 0 || left <= 0)
			break;
		if (poll(pfd, n, (int)left) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++)
			if (c[i].fd >= 0 && pfd[i].revents != 0)
				child_read(&c[i]);
	}
	free(pfd);
	for (size_t i = 0; i < n; i++) {
		if (c[i].pid <= 0)
			continue;
		if (c[i].fd >= 0) {
			c[i].timed_out = true;
			kill(c[i].pid, SIGKILL);
			close(c[i].fd);
			c[i].fd = -1;
		}
		while (waitpid(c[i].pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!c[i].timed_out && WIFEXITED(st))
			c[i].status = WEXITSTATUS(st);
		else if (!c[i].timed_out && WIFSIGNALED(st))
			c[i].signo = WTERMSIG(st);
		c[i].pid = 0;
	}
}

void
child_free(struct child *c)
{
	free(c->out);
	c->out = NULL;
	c->len = 0;
}
