/* SPDX-License-Identifier: MIT */
/*
 * Integration: re-execution in place (virt-brokerctl reexec, SIGUSR2) under
 * a steady client load (vb-load: a connect every 10 ms to a busy unit,
 * whose daemon runs throughout, and every 300 ms to each of two idle
 * units, whose daemons exit after 100 ms without a client, so that the
 * broker holds their sockets most of the time). No client may be refused, reset or left waiting; the busy
 * daemon keeps its pid; the units' history survives; a new binary at the
 * same path is what runs afterwards; a binary that cannot start is not
 * exec'd; a state of another format version is said and the sockets and
 * daemons are found without it; a daemon that runs on is still logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000

#define CTL(out, ...) h_ctl_as(-1, out, sizeof(out), \
	(const char *const[]){ __VA_ARGS__, NULL })

static void
conf_three(void)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nargs = --notify\n"
	    "socket = a.socket sock-a\n[idle1]\nexec = %s\n"
	    "args = --idle-ms 100\nsocket = b.socket sock-b\n[idle2]\n"
	    "exec = %s\nargs = --idle-ms 100\nsocket = c.socket sock-c\n",
	    h_fake_daemon(), h_fake_daemon(), h_fake_daemon());
}

/* A field of unit's object in virt-brokerctl status --json. */
static long
json_field(const char *json, const char *unit, const char *field)
{
	char key[64], f[64];
	const char *p;

	snprintf(key, sizeof(key), "{\"name\":\"%s\"", unit);
	snprintf(f, sizeof(f), "\"%s\":", field);
	p = strstr(json, key);
	if (p == NULL || (p = strstr(p, f)) == NULL)
		return -2;
	return strtol(p + strlen(f), NULL, 10);
}

static long
unit_field(const char *unit, const char *field)
{
	char out[16384];
	int r = CTL(out, "status", "--json");

	/* 3: a unit is not active (an idle one in backoff, say). */
	ck_assert_msg(r == 0 || r == 3, "status: %d: %s", r, out);
	return json_field(out, unit, field);
}

START_TEST(reexec_under_load_refuses_no_one)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b"), *c = h_rt("sock-c");
	char out[16384], counts[4096], want[128];
	long busy, acts1, acts2;
	pid_t load, load2;
	int fd, fd2;

	conf_three();
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	load = h_load_start("10", a, NULL, &fd);
	load2 = h_load_start("300", b, c, &fd2);
	h_let_run(800);
	for (int i = 1; i <= 3; i++) {
		acts1 = unit_field("idle1", "activations");
		ck_assert_int_gt(acts1, 0);
		ck_assert_int_eq(CTL(out, "reexec"), 0);
		ck_assert_int_eq(h_log_count(&H, "reexec: state of 3 units"),
		    i);
		ck_assert(h_pid_alive(H.broker));	/* the same process */
		ck_assert_int_eq(unit_field("busy", "pid"), busy);
		ck_assert_int_eq(unit_field("busy", "activations"), 1);
		ck_assert_int_ge(unit_field("busy", "ready_ms"), 0);
		acts2 = unit_field("idle1", "activations");
		ck_assert_msg(acts2 >= acts1, "idle1: %ld activations, %ld "
		    "before the reexec", acts2, acts1);
		h_let_run(300);
	}
	h_load_stop(load, fd, counts, sizeof(counts));
	fprintf(stderr, "reexec x3, busy unit every 10 ms: %s", counts);
	h_load_assert_clean(counts, 100);
	h_load_stop(load2, fd2, counts, sizeof(counts));
	fprintf(stderr, "reexec x3, idle units every 300 ms: %s", counts);
	h_load_assert_clean(counts, 5);
	snprintf(want, sizeof(want), "pids=%ld", busy);
	ck_assert_int_eq(h_hello(a, T_MS), busy);
	snprintf(want, sizeof(want), "unit busy: pid %ld runs on from before "
	    "the reexec", busy);
	ck_assert_int_eq(h_log_count(&H, want), 3);
	ck_assert_int_eq(h_log_count(&H, "unit busy: started"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_wait_gone((pid_t)busy, T_MS));	/* still its child */
	free(a);
	free(b);
	free(c);
}
END_TEST

/*
 * More fds than a fixed table held (1200 sockets): every one is found
 * after the reexec, the same socket at the same inode, none bound again.
 */
START_TEST(reexec_keeps_every_socket_of_400_units)
{
	enum { N = 400 };
	size_t cap = 200 + N * 160, len;
	char *conf = malloc(cap), name[32], *path;
	static ino_t ino[N][3];
	char out[256];
	struct rlimit rl;

	ck_assert_ptr_nonnull(conf);
	/*
	 * The broker raises its soft open file limit to the hard one itself,
	 * but under valgrind, which fixes the limit when it starts, it cannot:
	 * with sudo's soft 1024 (a new user's run) some of the 1200 sockets
	 * were never bound. Start it with the room it would have made.
	 */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_ge(rl.rlim_max, 1500);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	len = (size_t)snprintf(conf, cap, "[broker]\nsearch_path = "
	    "/nonexistent\npublish = none\n");
	for (int u = 0; u < N; u++)
		len += (size_t)snprintf(conf + len, cap - len, "[u%d]\n"
		    "exec = %s\nsocket = a.socket u%d-a\nsocket = b.socket "
		    "u%d-b\nsocket = c.socket u%d-c\n", u, h_fake_daemon(), u,
		    u, u);
	h_write_conf(&H, "%s", conf);
	free(conf);
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (int u = 0; u < N; u++)
		for (int k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "u%d-%c", u, 'a' + k);
			path = h_rt(name);
			ino[u][k] = h_inode(path);
			ck_assert_uint_ne(ino[u][k], 0);
			free(path);
		}
	ck_assert_msg(CTL(out, "reexec") == 0, "virt-brokerctl reexec: %s", out);
	ck_assert(h_wait_log(&H, "reexec: state of 400 units", T_MS));
	for (int u = 0; u < N; u++)
		for (int k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "u%d-%c", u, 'a' + k);
			path = h_rt(name);
			ck_assert_msg(h_inode(path) == ino[u][k], "%s", name);
			free(path);
		}
	path = h_rt("u399-c");
	ck_assert_int_gt(h_hello(path, T_MS), 0);	/* served */
	free(path);
	ck_assert_int_eq(h_log_count(&H, "adopt"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

/* SIGUSR2 (runit's sv 2, s6-svc -2) does the same. */
START_TEST(sigusr2_reexecs)
{
	char *a = h_rt("sock-a");
	long busy;

	conf_three();
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	ck_assert_int_eq(kill(H.broker, SIGUSR2), 0);
	ck_assert(h_wait_log(&H, "reexec: state of 3 units", T_MS));
	ck_assert(h_wait_log(&H, "runs on from before the reexec", T_MS));
	ck_assert_int_eq(h_hello(a, T_MS), busy);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/*
 * A daemon that runs on keeps its output pipe across the reexec: what it
 * writes afterwards is logged by the new broker, which closes the pipe
 * once the daemon exits.
 */
START_TEST(a_daemon_running_on_is_still_logged)
{
	char *a = h_rt("sock-a"), want[96];
	long pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[talk]\nexec = %s\nargs = --say-each served "
	    "--exit-after 2\nsocket = a.socket sock-a\nlog = stderr\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	snprintf(want, sizeof(want), "talk[%ld]: served 1", pid);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(kill(H.broker, SIGUSR2), 0);
	ck_assert(h_wait_log(&H, "runs on from before the reexec", T_MS));
	ck_assert_int_eq(h_hello(a, T_MS), pid);	/* then it exits */
	snprintf(want, sizeof(want), "talk[%ld]: served 2", pid);
	ck_assert(h_wait_log(&H, want, T_MS));
	snprintf(want, sizeof(want), "unit talk: pid %ld exited with status 0",
	    pid);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert(h_wait_log(&H, "unit talk: output pipe closed", T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

static void
copy_binary(const char *from, const char *to)
{
	char tmp[512], buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.new", to);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ck_assert(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	ck_assert_int_eq(rename(tmp, to), 0);	/* as a package manager */
}

/* The binary's path holds a new file: that one runs after the reexec. */
START_TEST(reexec_runs_the_binary_now_at_the_path)
{
	char *bin = h_path(&H, "virt-broker"), *a = h_rt("sock-a"), out[4096];
	char exe[600], link[64];
	struct stat before, after;
	ssize_t n;

	copy_binary(getenv("VB_BROKER"), bin);
	setenv("VB_BROKER", bin, 1);
	conf_three();
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_eq(stat(bin, &before), 0);
	copy_binary(bin, bin);			/* the upgrade */
	ck_assert_int_eq(stat(bin, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);
	snprintf(link, sizeof(link), "/proc/%ld/exe", (long)H.broker);
	n = readlink(link, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	/* The old inode (under valgrind, exe is valgrind's tool). */
	if (getenv("VB_BROKER_WRAPPER") == NULL ||
	    getenv("VB_BROKER_WRAPPER")[0] == '\0')
		ck_assert_ptr_nonnull(strstr(exe, "(deleted)"));
	ck_assert_int_eq(CTL(out, "reexec"), 0);
	n = readlink(link, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_str_eq(exe, bin);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(bin);
	free(a);
}
END_TEST

/* A binary that fails its dry run is not exec'd (nor one that would not
 * read the configuration: below). */
START_TEST(a_binary_that_cannot_start_is_not_executed)
{
	char *bin = h_path(&H, "virt-broker"), *a = h_rt("sock-a"), out[4096];
	char *tmp = h_path(&H, "broken");
	FILE *fp;
	long busy;

	copy_binary(getenv("VB_BROKER"), bin);
	setenv("VB_BROKER", bin, 1);
	conf_three();
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("#!/bin/sh\nexit 3\n", fp);
	fclose(fp);
	chmod(tmp, 0755);
	ck_assert_int_eq(rename(tmp, bin), 0);
	ck_assert_int_eq(CTL(out, "reexec"), 0);
	ck_assert(h_wait_log(&H, "-n (a dry run with this broker's options) "
	    "failed (status 3): the binary does not start or the "
	    "configuration has errors; not re-executing; this broker serves "
	    "on", T_MS));
	ck_assert_int_eq(h_log_count(&H, "reexec: executing"), 0);
	ck_assert_int_eq(h_hello(a, T_MS), busy);
	ck_assert_int_eq(CTL(out, "status"), 0);	/* control works */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(bin);
	free(tmp);
	free(a);
}
END_TEST

/*
 * A broker of another version left its sockets, a daemon and a state this
 * one cannot read: it says so, takes the sockets and the daemon without
 * the history, and starts no second daemon. Played by the test: a process
 * binds sock-a, forks the daemon on it, then execs the broker with a
 * "virt-broker-state 99" memfd.
 */
START_TEST(a_state_of_another_version_falls_back)
{
	char *a = h_rt("sock-a"), *starts = h_dir("starts"), want[160];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ready[2];
	long pid;
	char c;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[busy]\nexec = %s\nargs = --starts %s\n"
	    "socket = a.socket sock-a\n", h_fake_daemon(), starts);
	ck_assert_int_eq(pipe(ready), 0);
	H.broker = fork();
	ck_assert_int_ge(H.broker, 0);
	if (H.broker == 0) {
		char fdenv[32], *rt = h_rt(""), *dir;
		int s, m, logfd;
		pid_t d;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		dir = strdup(rt);
		for (char *p = dir + 1; *p != '\0'; p++)
			if (*p == '/') {
				*p = '\0';
				mkdir(dir, 0700);
				*p = '/';
			}
		mkdir(dir, 0700);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(s, 64) < 0)
			_exit(120);
		d = fork();
		if (d == 0) {
			char pidenv[32];

			dup2(s, 3);
			snprintf(pidenv, sizeof(pidenv), "%ld", (long)getpid());
			setenv("LISTEN_PID", pidenv, 1);
			setenv("LISTEN_FDS", "1", 1);
			setenv("LISTEN_FDNAMES", "a.socket", 1);
			execl(h_fake_daemon(), "fake-daemon", "--starts", starts,
			    (char *)NULL);
			_exit(121);
		}
		m = memfd_create("state", 0);
		if (write(m, "virt-broker-state 99\nunit busy future=1\n", 40)
		    != 40 || lseek(m, 0, SEEK_SET) != 0)
			_exit(122);
		snprintf(fdenv, sizeof(fdenv), "%d", m);
		setenv("VIRT_BROKER_REEXEC_FD", fdenv, 1);
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		setenv("HOME", H.dir, 1);
		unsetenv("XDG_CACHE_HOME");
		logfd = open(H.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(logfd, 2);
		(void)!write(ready[1], "x", 1);
		execl(getenv("VB_BROKER"), "virt-broker", "--session", "-v",
		    "-f", H.conf, (char *)NULL);
		_exit(123);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	ck_assert(h_wait_file(starts, T_MS));
	ck_assert(h_wait_log(&H, "reexec: the previous broker's state: "
	    "format version 99, this broker reads 1; going on without the "
	    "units' history", T_MS));
	ck_assert(h_wait_log(&H, "runs on from before the reexec", T_MS));
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	snprintf(want, sizeof(want), "unit busy: pid %ld runs on from before "
	    "the reexec", pid);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert_int_eq(h_count_lines(starts), 1);	/* no second daemon */
	ck_assert_int_eq(h_log_count(&H, "unit busy: started"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_wait_gone((pid_t)pid, T_MS));
	free(a);
	free(starts);
}
END_TEST

/* A configuration with errors: the reexec is refused, as SIGHUP's reload
 * would keep the running one. */
START_TEST(a_bad_configuration_is_not_reexecuted_into)
{
	char *a = h_rt("sock-a"), out[4096];
	long busy;

	conf_three();
	ck_assert_int_eq(h_start_broker(&H), 0);
	busy = h_hello(a, T_MS);
	ck_assert_int_gt(busy, 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "bogus_key = 1\n");
	ck_assert_int_eq(CTL(out, "reexec"), 0);
	ck_assert(h_wait_log(&H, "the configuration has errors; not "
	    "re-executing; this broker serves on", T_MS));
	ck_assert_int_eq(h_log_count(&H, "reexec: executing"), 0);
	ck_assert_int_eq(h_hello(a, T_MS), busy);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

static Suite *
reexec_suite(void)
{
	Suite *s = suite_create("reexec");
	TCase *tc = tcase_create("reexec");

	h_add_tcases(s, &tc, 1, 120);
	tcase_add_test(tc, reexec_under_load_refuses_no_one);
	tcase_add_test(tc, sigusr2_reexecs);
	tcase_add_test(tc, reexec_keeps_every_socket_of_400_units);
	tcase_add_test(tc, a_daemon_running_on_is_still_logged);
	tcase_add_test(tc, reexec_runs_the_binary_now_at_the_path);
	tcase_add_test(tc, a_binary_that_cannot_start_is_not_executed);
	tcase_add_test(tc, a_bad_configuration_is_not_reexecuted_into);
	tcase_add_test(tc, a_state_of_another_version_falls_back);
	return s;
}

int
main(void)
{
	return h_run(reexec_suite());
}
