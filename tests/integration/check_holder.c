/* SPDX-License-Identifier: MIT */
/*
 * Integration: the fd holder. A broker killed with SIGKILL under a steady
 * client load, and a new one started a second later: no client refused,
 * reset or left waiting, the daemon the dead broker started serves on and
 * is adopted, nothing is started twice. A holder whose broker does not come
 * back exits after holder_timeout, removing its own socket only; one whose
 * broker stops cleanly exits at once; a reload gives a new holder that holds
 * the new unit's socket too.
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

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nsocket = a.socket sock-a\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	holder = wait_holder(H.broker);
	ck_assert_int_gt(holder, 0);
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
	return s;
}

int
main(void)
{
	return h_run(holder_suite());
}
