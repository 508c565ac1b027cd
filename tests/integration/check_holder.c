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

static pid_t
start_load(const char *interval, const char *a, int *ret_out)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		execl(getenv("VB_LOAD"), "vb-load", "-i", interval, "-t",
		    "8000", a, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*ret_out = p[0];
	return pid;
}

static void
stop_load(pid_t pid, int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int st;

	kill(pid, SIGTERM);
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}

static long
count_of(const char *line, const char *key)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	if (p == NULL && strncmp(line, k + 1, strlen(k + 1)) == 0)
		p = line - 1;
	ck_assert_msg(p != NULL, "no %s in '%s'", key, line);
	return strtol(p + strlen(k), NULL, 10);
}

static void
let_run(int ms)
{
	long until = h_now_ms() + ms;

	while (h_now_ms() < until)
		usleep(20 * 1000);
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
	l1 = start_load("10", a, &f1);
	l2 = start_load("300", b, &f2);
	let_run(500);
	old = H.broker;
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(h_wait_exit(old, T_MS) >= 0);	/* reaped */
	let_run(1000);				/* no broker for a second */
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_log(&H, "holder: took 4 sockets back", T_MS));
	snprintf(want, sizeof(want), "unit busy: adopted pid %ld", busy);
	ck_assert(h_wait_log(&H, want, T_MS));
	let_run(800);
	stop_load(l1, f1, c1, sizeof(c1));
	stop_load(l2, f2, c2, sizeof(c2));
	ck_assert_msg(count_of(c1, "ok") >= 50, "%s", c1);
	ck_assert_msg(count_of(c1, "refused") == 0 &&
	    count_of(c1, "reset") == 0 && count_of(c1, "timeout") == 0 &&
	    count_of(c1, "other") == 0, "busy: %s", c1);
	snprintf(want, sizeof(want), "pids=%ld\n", busy);
	ck_assert_msg(strstr(c1, want) != NULL, "busy served by: %s", c1);
	ck_assert_msg(count_of(c2, "ok") >= 3, "%s", c2);
	ck_assert_msg(count_of(c2, "refused") == 0 &&
	    count_of(c2, "reset") == 0 && count_of(c2, "timeout") == 0 &&
	    count_of(c2, "other") == 0, "idle: %s", c2);
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
