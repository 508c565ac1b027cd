/* SPDX-License-Identifier: MIT */
/*
 * Integration: the fd holder. A broker killed with SIGKILL under a steady
 * client load, and a new one started a second later: no client refused,
 * reset or left waiting, the daemon the dead broker started serves on and
 * is adopted, nothing is started twice. A holder whose broker does not come
 * back exits after holder_timeout, removing its own socket only; one whose
 * broker stops cleanly exits at once; a reload gives a new holder that holds
 * the new unit's socket too. A next broker that connects before the dying
 * one's files are all closed gets the sockets at the EOF; a broker killed
 * as soon as it re-executes still has its sockets held (the holder before
 * the exec is lent to the new image).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000

/* The broker's holder child (comm "vb-holder"), or 0. */
static pid_t
holder_of(pid_t broker)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	while (found == 0 && (de = readdir(d)) != NULL) {
		char path[64], buf[512];
		long pid = strtol(de->d_name, NULL, 10), ppid = 0;
		FILE *fp;
		bool holder = false;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		while (fgets(buf, sizeof(buf), fp) != NULL) {
			if (strcmp(buf, "Name:\tvb-holder\n") == 0)
				holder = true;
			(void)sscanf(buf, "PPid: %ld", &ppid);
		}
		fclose(fp);
		if (holder && ppid == (long)broker)
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

static pid_t
wait_holder(pid_t broker)
{
	long until = h_now_ms() + T_MS;
	pid_t h;

	while ((h = holder_of(broker)) == 0 && h_now_ms() < until)
		usleep(20 * 1000);
	return h;
}

/* A broker of one unit, busy (sock-a), started: its holder's pid. */
static pid_t
start_busy(void)
{
	pid_t holder;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nsocket = a.socket sock-a\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	holder = wait_holder(H.broker);
	ck_assert_int_gt(holder, 0);
	return holder;
}

START_TEST(sigkill_and_a_new_broker_a_second_later_refuse_no_one)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b"), *starts = h_dir("starts");
	char c1[4096], c2[4096], want[128];
	pid_t l1, l2, old;
	long busy;
	int f1, f2;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nargs = --starts %s\n"
	    "socket = a.socket sock-a\n[idle]\nexec = %s\n"
	    "args = --idle-ms 100\nsocket = b.socket sock-b\n",
	    h_fake_daemon(), starts, h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	ck_assert_int_gt(wait_holder(H.broker), 0);
	l1 = h_load_start("10", a, NULL, &f1);
	l2 = h_load_start("300", b, NULL, &f2);
	h_let_run(500);
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(h_wait_exit(old, T_MS) >= 0);	/* reaped */
	h_let_run(1000);				/* no broker for a second */
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "holder: took 4 sockets back", T_MS));
	snprintf(want, sizeof(want), "unit busy: adopted pid %ld", busy);
	ck_assert(h_wait_log(&H, want, T_MS));
	h_let_run(800);
	h_load_stop(l1, f1, c1, sizeof(c1));
	h_load_stop(l2, f2, c2, sizeof(c2));
	fprintf(stderr, "SIGKILL + 1 s, busy unit every 10 ms: %s", c1);
	fprintf(stderr, "SIGKILL + 1 s, idle unit every 300 ms: %s", c2);
	h_load_assert_clean(c1, 50);
	snprintf(want, sizeof(want), "pids=%ld\n", busy);
	ck_assert_msg(strstr(c1, want) != NULL, "busy served by: %s", c1);
	h_load_assert_clean(c2, 3);
	ck_assert_int_eq(h_count_lines(starts), 1);	/* busy: one start */
	ck_assert_int_eq(h_hello(a, T_MS), busy);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(b);
	free(starts);
}
END_TEST

START_TEST(a_holder_without_broker_exits_after_its_timeout)
{
	char *a = h_rt("sock-a"), *hs = h_rt("virt-broker-holder-sock");
	pid_t holder, old;
	long t0;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\nholder_timeout = 1\n[busy]\nexec = %s\n"
	    "socket = a.socket sock-a\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	holder = wait_holder(H.broker);
	ck_assert_int_gt(holder, 0);
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	t0 = h_now_ms();
	ck_assert(h_wait_exit(old, T_MS) >= 0);	/* reaped */
	ck_assert(h_pid_alive(holder));
	ck_assert(h_connect(a) >= 0);		/* queued, not refused */
	ck_assert(h_wait_gone(holder, T_MS));
	ck_assert_int_ge(h_now_ms() - t0, 900);
	ck_assert_int_ne(access(hs, F_OK), 0);	/* its socket removed */
	ck_assert_int_eq(access(a, F_OK), 0);	/* nothing else */
	H.broker = -1;
	ck_assert_int_eq(h_start_broker(&H), 0);	/* a dead socket: ok */
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(hs);
}
END_TEST

START_TEST(a_clean_stop_ends_the_holder)
{
	char *hs = h_rt("virt-broker-holder-sock");
	pid_t holder;

	holder = start_busy();
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_wait_gone(holder, T_MS));
	ck_assert_int_ne(access(hs, F_OK), 0);
	free(hs);
}
END_TEST

/* A reload's new unit: its socket is held too (a new holder). */
START_TEST(a_reload_gives_a_holder_of_the_new_sockets)
{
	char *b = h_rt("sock-b");
	pid_t h1, h2, old;
	int fd;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nsocket = a.socket sock-a\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	h1 = wait_holder(H.broker);
	ck_assert_int_gt(h1, 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nsocket = a.socket sock-a\n"
	    "[more]\nexec = %s\nsocket = b.socket sock-b\n", h_fake_daemon(),
	    h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert(h_wait_gone(h1, T_MS));
	h2 = wait_holder(H.broker);
	ck_assert_int_gt(h2, 0);
	ck_assert_int_ne(h2, h1);
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(h_wait_exit(old, T_MS) >= 0);	/* reaped */
	fd = h_connect(b);
	ck_assert_msg(fd >= 0, "sock-b refused with no broker: %s",
	    strerror(errno));
	close(fd);
	H.broker = -1;
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "holder: took 4 sockets back", T_MS));
	ck_assert_int_gt(h_hello(b, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(b);
}
END_TEST

/*
 * What the holder sends on c (holder.c's hand_over), read until EOF: the
 * number of fds, or -1 if a message is not the holder's.
 */
static int
fds_handed(int c)
{
	static const char magic[] = "virt-broker-holder 1";
	int n = 0;

	for (;;) {
		union {
			char buf[CMSG_SPACE(250 * sizeof(int))];
			struct cmsghdr align;
		} u;
		char got[sizeof(magic)];
		struct iovec iov = { .iov_base = got, .iov_len = sizeof(got) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		ssize_t r = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);

		if (r <= 0)
			return n;
		if ((size_t)r != sizeof(magic) || memcmp(got, magic, r) != 0)
			return -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(int));
				close(fd);
				n++;
			}
		}
	}
}

/*
 * A next broker may connect while the dying one still has files open (they
 * close one by one, R's lock among them): it is kept waiting, not refused,
 * and gets the sockets when the pipe says the broker died.
 */
START_TEST(a_next_broker_early_gets_the_sockets_at_the_eof)
{
	char *hs = h_rt("virt-broker-holder-sock");
	struct timeval tv = { .tv_sec = T_MS / 1000 };
	pid_t holder, old;
	int c;

	holder = start_busy();
	c = h_connect(hs);			/* the broker lives */
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	h_let_run(200);				/* the holder has seen it */
	ck_assert(h_pid_alive(holder));
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(h_wait_exit(old, T_MS) >= 0);
	H.broker = -1;
	/* sock-a, sock-a's admin-less unit: the control and notify sockets */
	ck_assert_int_eq(fds_handed(c), 3);
	close(c);
	ck_assert(h_wait_gone(holder, T_MS));
	ck_assert_int_ne(access(hs, F_OK), 0);
	free(hs);
}
END_TEST

/* Killed the moment it execs itself: the holder before the exec holds on. */
START_TEST(a_sigkill_as_the_broker_reexecs_loses_no_socket)
{
	char *a = h_rt("sock-a");
	pid_t old;
	int fd;

	(void)start_busy();
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGUSR2), 0);
	ck_assert(h_wait_log(&H, "reexec: executing", T_MS));
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(h_wait_exit(old, T_MS) >= 0);
	fd = h_connect(a);
	ck_assert_msg(fd >= 0, "sock-a refused after a SIGKILL at the reexec: "
	    "%s", strerror(errno));
	close(fd);
	H.broker = -1;
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "holder: took 3 sockets back", T_MS));
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

static Suite *
holder_suite(void)
{
	Suite *s = suite_create("holder");
	TCase *tc = tcase_create("holder");

	h_add_tcases(s, &tc, 1, 120);
	tcase_add_test(tc, sigkill_and_a_new_broker_a_second_later_refuse_no_one);
	tcase_add_test(tc, a_holder_without_broker_exits_after_its_timeout);
	tcase_add_test(tc, a_clean_stop_ends_the_holder);
	tcase_add_test(tc, a_reload_gives_a_holder_of_the_new_sockets);
	tcase_add_test(tc, a_next_broker_early_gets_the_sockets_at_the_eof);
	tcase_add_test(tc, a_sigkill_as_the_broker_reexecs_loses_no_socket);
	return s;
}

int
main(void)
{
	return h_run(holder_suite());
}
