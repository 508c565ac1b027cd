/* SPDX-License-Identifier: MIT */
/*
 * Benchmark client: opens N connections to a UNIX socket at once and
 * prints, per connection, the microseconds from connect() to the first
 * byte of the answer ("us N"), then "served K refused R".
 *
 *   ttfb PATH [N]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = argc > 2 ? atoi(argv[2]) : 1, served = 0, refused = 0, left;
	struct pollfd *p;
	long long *t0;

	if (argc < 2 || n < 1)
		return 2;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	p = calloc((size_t)n, sizeof(*p));
	t0 = calloc((size_t)n, sizeof(*t0));
	for (int i = 0; i < n; i++) {
		p[i].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		p[i].events = POLLIN;
		t0[i] = now_us();
		if (connect(p[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		    errno != EINPROGRESS && errno != EAGAIN) {
			refused++;
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	left = n - refused;
	while (left > 0) {
		if (poll(p, (nfds_t)n, 30000) <= 0)
			break;
		for (int i = 0; i < n; i++) {
			char c;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (read(p[i].fd, &c, 1) == 1) {
				printf("us %lld\n", now_us() - t0[i]);
				served++;
			} else {
				refused++;
			}
			close(p[i].fd);
			p[i].fd = -1;
			left--;
		}
	}
	printf("served %d refused %d\n", served, refused + left);
	return served == n ? 0 : 1;
}
