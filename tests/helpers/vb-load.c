/* SPDX-License-Identifier: MIT */
/*
 * Test client load: every INTERVAL ms, one connection to each PATH in turn,
 * each expecting the test daemon's "hello PID" line within TIMEOUT ms.
 * Runs until SIGTERM, then prints one line of counts:
 *   ok=N refused=N reset=N timeout=N other=N pids=P,P,...
 * (refused: ECONNREFUSED or ENOENT at connect; reset: an error or EOF
 * before the line; pids: the distinct daemons that answered, at most 64).
 *
 * vb-load [-i INTERVAL_MS] [-t TIMEOUT_MS] PATH...
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

enum result { RES_OK, RES_REFUSED, RES_RESET, RES_TIMEOUT, RES_OTHER, RES_MAX };

static long pids[64];
static int npids;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum result
one(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64];
	size_t len = 0;
	long deadline = now_ms() + timeout_ms, pid;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return RES_OTHER;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return e == ECONNREFUSED || e == ENOENT ? RES_REFUSED : RES_OTHER;
	}
	while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			close(fd);
			return RES_TIMEOUT;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return RES_RESET;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "hello %ld", &pid) != 1)
		return RES_OTHER;
	for (int i = 0; i < npids; i++)
		if (pids[i] == pid)
			return RES_OK;
	if (npids < 64)
		pids[npids++] = pid;
	return RES_OK;
}

int
main(int argc, char **argv)
{
	static const char *const names[RES_MAX] = { "ok", "refused", "reset",
	    "timeout", "other" };
	unsigned long count[RES_MAX] = { 0 };
	long interval = 10, timeout = 10000;
	struct sigaction act = { .sa_handler = on_term };
	int c;

	while ((c = getopt(argc, argv, "i:t:")) != -1) {
		if (c == 'i')
			interval = atol(optarg);
		else if (c == 't')
			timeout = atol(optarg);
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		for (int i = optind; i < argc && !stop; i++)
			count[one(argv[i], (int)timeout)]++;
		if (!stop)
			usleep((useconds_t)interval * 1000);
	}
	for (int i = 0; i < RES_MAX; i++)
		printf("%s%s=%lu", i > 0 ? " " : "", names[i], count[i]);
	printf(" pids=");
	for (int i = 0; i < npids; i++)
		printf("%s%ld", i > 0 ? "," : "", pids[i]);
	printf("\n");
	return 0;
}
