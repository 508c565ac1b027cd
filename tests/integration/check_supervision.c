/* SPDX-License-Identifier: MIT */
/*
 * Integration, supervision: start limits and recovery, a daemon killed with
 * clients queued, output floods and rotation, a unit's output pipe, reload,
 * resource limits and a broker short of file descriptors. The real broker,
 * the test daemon.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

/* Two units, "keep" and "slow" (which ignores SIGTERM). */
#define CONF_KEEP_SLOW "[broker]\nsearch_path = /nonexistent\n" \
	"publish = none\n[keep]\nexec = %s\nsocket = k.socket sock-k\n" \
	"[slow]\nexec = %s\nargs = --ignore-term\nstop_timeout = 2\n" \
	"socket = a.socket sock-a\n"

#define T_MS 10000

static void
touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* Exactly start_limit_burst starts, refusal, then recovery. */
START_TEST(crash_loop_fails_after_burst_starts_then_recovers)
{
	char *a = h_rt("sock-a"), *starts = h_dir("starts"),
	    *flag = h_dir("broken");
	long t0, took, pid;

	touch(flag);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "log_dir = %s/logs\n[fake]\nexec = %s\n"
	    "args = --starts %s --fail-while %s --say \"cannot start: "
	    "flag file\"\nsocket = a.socket sock-a\nstart_limit_burst = 4\n"
	    "failed_cooldown = 2\n", H.dir, h_fake_daemon(), starts, flag);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_hello(a, T_MS), 0);	/* refused, not hung */
	ck_assert_int_eq(h_count_lines(starts), 4);
	ck_assert_int_eq(h_log_count(&H, "unit fake: failed: 4 failed starts "
	    "within 10 s (last: exited with status 1; output: cannot start: "
	    "flag file"), 1);
	t0 = h_now_ms();
	ck_assert_int_eq(h_hello(a, T_MS), 0);
	took = h_now_ms() - t0;
	ck_assert_msg(took < 100, "a failed unit's client waited %ld ms",
	    took);
	ck_assert_int_eq(h_count_lines(starts), 4);
	unlink(flag);
	ck_assert(h_wait_hello(a, &pid, T_MS));	/* after the cool-down */
	ck_assert_int_eq(h_count_lines(starts), 5);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
	free(flag);
}
END_TEST

/*
 * A failed unit's message names R/qemu/run/driver.pid, held by a live pid,
 * only for a daemon of the QEMU driver (exec virtqemud or libvirtd), whose
 * pidfile it is: /bin/false's failure has nothing to do with it.
 */
START_TEST(driver_pid_hint_only_for_the_qemu_driver)
{
	char *a = h_rt("sock-a"), *q = h_rt("sock-q"), *qemu = h_rt("qemu"),
	    *run = h_rt("qemu/run"), *pidfile = h_rt("qemu/run/driver.pid"),
	    *virtqemud = h_dir("virtqemud"), *want = NULL;
	FILE *fp;

	ck_assert_int_eq(symlink(h_fake_daemon(), virtqemud), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[plain]\nexec = /bin/false\n"
	    "socket = a.socket sock-a\nstart_limit_burst = 1\n[qemu]\n"
	    "exec = %s\nargs = --exit-on-start 1\nsocket = q.socket sock-q\n"
	    "start_limit_burst = 1\n", virtqemud);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(mkdir(qemu, 0700), 0);
	ck_assert_int_eq(mkdir(run, 0700), 0);
	fp = fopen(pidfile, "w");		/* the test's pid: alive */
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "%ld\n", (long)getpid());
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(h_hello(a, T_MS), 0);		/* refused */
	ck_assert(h_wait_log(&H, "unit plain: failed: 1 failed starts", T_MS));
	ck_assert_int_eq(h_log_count(&H, "driver.pid"), 0);
	ck_assert_int_eq(h_hello(q, T_MS), 0);
	ck_assert(h_wait_log(&H, "unit qemu: failed: 1 failed starts", T_MS));
	ck_assert_int_ge(asprintf(&want, "; %s is held by pid %ld (", pidfile,
	    (long)getpid()), 0);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert_int_eq(h_log_count(&H, "driver.pid"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(q);
	free(qemu);
	free(run);
	free(pidfile);
	free(virtqemud);
	free(want);
}
END_TEST

/* SIGKILL with 100 clients queued: the next instance serves them all. */
START_TEST(sigkill_with_100_queued_clients_all_served_next)
{
	enum { N = 100 };
	char *a = h_rt("sock-a"), *starts = h_dir("starts"),
	    *stall = h_dir("stalled");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64], *first;
	int fds[N + 1], served = 0;
	long p1, p2 = 0;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nargs = --starts %s --stall-once %s\n"
	    "socket = a.socket sock-a\n", h_fake_daemon(), starts, stall);
	ck_assert_int_eq(h_start_broker(&H), 0);
	fds[0] = h_connect(a);
	ck_assert_int_ge(fds[0], 0);
	ck_assert(h_wait_file(stall, T_MS));	/* running, not accepting */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a);
	for (int i = 1; i <= N; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
	}
	first = NULL;
	{
		FILE *fp = fopen(starts, "r");

		ck_assert_ptr_nonnull(fp);
		ck_assert_int_eq(fscanf(fp, "%ld", &p1), 1);
		fclose(fp);
	}
	ck_assert_int_eq(kill((pid_t)p1, SIGKILL), 0);
	for (int i = 0; i <= N; i++) {
		long pid;

		if (h_read_line(fds[i], line, sizeof(line), T_MS) > 0 &&
		    sscanf(line, "hello %ld", &pid) == 1) {
			served++;
			ck_assert_int_ne(pid, p1);
			if (p2 == 0)
				p2 = pid;
			ck_assert_int_eq(pid, p2);
		}
		close(fds[i]);
	}
	(void)first;
	ck_assert_int_eq(served, N + 1);
	ck_assert_int_eq(h_count_lines(starts), 2);
	ck_assert_int_eq(h_log_count(&H, "killed by signal 9"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
	free(stall);
}
END_TEST

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static bool
last_line_is(const char *path, const char *want)
{
	char line[4096], last[4096] = "";
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL)
		memcpy(last, line, sizeof(last));
	fclose(fp);
	return strstr(last, want) != NULL;
}

/* 50 MB of stderr: rotation holds, the last line is kept, others serve. */
START_TEST(stderr_flood_rotates_and_keeps_the_broker_responsive)
{
	char *f = h_rt("sock-f"), *q = h_rt("sock-q"), *log0, *log1, *log2, *log3;
	long fpid, qpid;
	int ffd;
	char line[64];

	log0 = h_dir("logs/flood.log");
	log1 = h_dir("logs/flood.log.1");
	log2 = h_dir("logs/flood.log.2");
	log3 = h_dir("logs/flood.log.3");
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "log_dir = %s/logs\n"
	    "[flood]\nexec = %s\nargs = --flood 52428800\n"
	    "socket = f.socket sock-f\nlog_max_size = 1M\nlog_keep = 2\n"
	    "[quick]\nexec = %s\nsocket = q.socket sock-q\n",
	    H.dir, h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ffd = h_connect(f);			/* starts the flood */
	ck_assert_int_ge(ffd, 0);
	qpid = h_hello(q, T_MS);		/* meanwhile, another unit */
	ck_assert_int_gt(qpid, 0);
	ck_assert_int_gt(h_read_line(ffd, line, sizeof(line), 60000), 0);
	ck_assert_int_eq(sscanf(line, "hello %ld", &fpid), 1);
	close(ffd);
	/* The flood is over once the daemon answered; the broker drains. */
	{
		long end = h_now_ms() + T_MS;

		while (!last_line_is(log0, "fake-daemon: end of flood") &&
		    h_now_ms() < end)
			(void)h_hello(q, 1000);		/* keeps the loop busy */
	}
	ck_assert(last_line_is(log0, "fake-daemon: end of flood"));
	ck_assert_int_le(file_size(log0), 1024 * 1024);
	ck_assert_int_gt(file_size(log1), 900 * 1024);
	ck_assert_int_le(file_size(log1), 1024 * 1024);
	ck_assert_int_le(file_size(log2), 1024 * 1024);
	ck_assert_int_gt(file_size(log2), 0);
	ck_assert_int_eq(file_size(log3), -1);
	ck_assert_int_eq(h_log_count(&H, "lost"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(f);
	free(q);
	free(log0);
	free(log1);
	free(log2);
	free(log3);
}
END_TEST

START_TEST(log_stderr_prefixes_lines_with_the_unit)
{
	char *a = h_rt("sock-a");
	char want[64];
	long pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nargs = --say \"hello from the daemon\"\n"
	    "socket = a.socket sock-a\nlog = stderr\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	snprintf(want, sizeof(want), "fake[%ld]: hello from the daemon", pid);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/* What fd of pid is ("pipe:[123]"), or "" if it is none. */
static void
fd_target(pid_t pid, int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%ld/fd/%d", (long)pid, fd);
	len = readlink(link, buf, size - 1);
	buf[len > 0 ? len : 0] = '\0';
}

/* Does the broker hold an fd that is target? */
static bool
broker_holds(const char *target)
{
	char dir[64], link[PATH_MAX], t[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)H.broker);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t len;

		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, t, sizeof(t) - 1);
		if (len <= 0)
			continue;
		t[len] = '\0';
		found = strcmp(t, target) == 0;
	}
	closedir(d);
	return found;
}

static bool
wait_let_go(const char *target, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	while (broker_holds(target) && h_now_ms() < end)
		usleep(10000);
	return !broker_holds(target);
}

/*
 * One run of the unit's daemon (it serves two clients, then exits 0): its
 * stderr is a pipe the broker reads while it runs and lets go of once it
 * exited. Returns the daemon's pid.
 */
static long
run_once_and_let_go(const char *sock)
{
	char target[64], want[96];
	long pid;

	ck_assert(h_wait_hello(sock, &pid, T_MS));
	fd_target((pid_t)pid, 2, target, sizeof(target));
	ck_assert_msg(strncmp(target, "pipe:", 5) == 0, "stderr is %s",
	    target);
	ck_assert(broker_holds(target));
	ck_assert_int_eq(h_hello(sock, T_MS), pid);	/* then it exits */
	snprintf(want, sizeof(want), "unit fake: pid %ld exited with status 0",
	    pid);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert(wait_let_go(target, T_MS));
	return pid;
}

/*
 * A daemon that ran and exited leaves its unit listening with no output
 * pipe (nor its buffers: check_daemonlog), yet status still shows its last
 * words; the next start makes a pipe again and its output is logged.
 */
START_TEST(a_unit_back_to_listening_keeps_no_pipe_and_logs_again)
{
	char *a = h_rt("sock-a"), want[96], out[8192];
	long p1, p2;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\n"
	    "args = --say \"hello from the daemon\" "
	    "--exit-after 2\nsocket = a.socket sock-a\nlog = stderr\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	p1 = run_once_and_let_go(a);
	ck_assert_int_eq(h_log_count(&H, "unit fake: output pipe closed: no "
	    "process writes to it"), 1);
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", "fake", NULL }), 0);
	ck_assert_msg(strstr(out, "last output:\n    hello from the daemon") !=
	    NULL, "no last output in: %s", out);
	p2 = run_once_and_let_go(a);			/* the second start */
	ck_assert_int_ne(p2, p1);
	snprintf(want, sizeof(want), "fake[%ld]: hello from the daemon", p2);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert_int_eq(h_log_count(&H, "unit fake: output pipe closed"), 2);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(reload_with_a_broken_config_keeps_serving)
{
	char *a = h_rt("sock-a");
	char want[400];
	long pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nsocket = a.socket sock-a\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nsocket = a.socket sock-a\nbogus = 1\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "reload: keeping the running "
	    "configuration", T_MS), 0);
	snprintf(want, sizeof(want), "reload: %s:7: [unit fake] unknown key "
	    "'bogus'", H.conf);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert(h_wait_hello(a, &pid, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/*
 * one: unchanged; two: new args (same socket); three: removed while its
 * daemon runs; four: new; six: new path while idle; seven: new path while
 * its daemon runs.
 */
/* "[uFIRST]" .. "[uLAST-1]", one socket each, into a malloc'd config. */
static char *
many_units(int first, int last)
{
	size_t cap = 100 + (size_t)(last - first) * 120, len;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	len = (size_t)snprintf(s, cap, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n");
	for (int u = first; u < last; u++)
		len += (size_t)snprintf(s + len, cap - len, "[u%d]\nexec = %s\n"
		    "socket = a.socket sock-u%d\n", u, h_fake_daemon(), u);
	return s;
}

/*
 * A reload that removes 300 units and adds 300 (one pass each way: the
 * units are found by name through a hash, removed ones freed together):
 * the kept ones untouched, the removed ones' files gone, the new served.
 */
START_TEST(reload_removes_and_adds_hundreds_of_units)
{
	char *conf = many_units(0, 600), name[32], *path;
	ino_t kept;

	h_write_conf(&H, "%s", conf);
	free(conf);
	ck_assert_int_eq(h_start_broker(&H), 0);
	path = h_rt("sock-u450");
	kept = h_inode(path);
	ck_assert_uint_ne(kept, 0);
	conf = many_units(300, 900);
	h_write_conf(&H, "%s", conf);
	free(conf);
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert_uint_eq(h_inode(path), kept);
	free(path);
	for (int u = 0; u < 900; u += 7) {
		snprintf(name, sizeof(name), "sock-u%d", u);
		path = h_rt(name);
		ck_assert_msg((access(path, F_OK) == 0) == (u >= 300), "%s", name);
		free(path);
	}
	path = h_rt("sock-u899");
	ck_assert_int_gt(h_hello(path, T_MS), 0);
	free(path);
	ck_assert_int_eq(h_log_count(&H, "unit u0: no longer configured"), 1);
	ck_assert_int_eq(h_log_count(&H, "unit u899: added"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

START_TEST(reload_adds_changes_and_removes_units)
{
	const char *fake = h_fake_daemon();
	char *s1 = h_rt("sock-1"), *s2 = h_rt("sock-2"), *s3 = h_rt("sock-3"),
	    *s4 = h_rt("sock-4"), *s6 = h_rt("sock-6"), *s6b = h_rt("sock-6b"),
	    *s7 = h_rt("sock-7"), *s7b = h_rt("sock-7b"), *r2 = h_dir("r2"),
	    *r2b = h_dir("r2b");
	ino_t i1, i2;
	long p3, p7, pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "[one]\nexec = %s\nsocket = one.socket sock-1\n"
	    "[two]\nexec = %s\nargs = --report %s\nsocket = two.socket sock-2\n"
	    "[three]\nexec = %s\nsocket = three.socket sock-3\n"
	    "[six]\nexec = %s\nsocket = six.socket sock-6\n"
	    "[seven]\nexec = %s\nsocket = seven.socket sock-7\n",
	    fake, fake, r2, fake, fake, fake);
	ck_assert_int_eq(h_start_broker(&H), 0);
	p3 = h_hello(s3, T_MS);
	p7 = h_hello(s7, T_MS);
	ck_assert_int_gt(p3, 0);
	ck_assert_int_gt(p7, 0);
	i1 = h_inode(s1);
	i2 = h_inode(s2);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "[one]\nexec = %s\nsocket = one.socket sock-1\n"
	    "[two]\nexec = %s\nargs = --report %s\nsocket = two.socket sock-2\n"
	    "[four]\nexec = %s\nsocket = four.socket sock-4\n"
	    "[six]\nexec = %s\nsocket = six.socket sock-6b\n"
	    "[seven]\nexec = %s\nsocket = seven.socket sock-7b\n",
	    fake, fake, r2b, fake, fake, fake);
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert_uint_eq(h_inode(s1), i1);		/* untouched */
	ck_assert_uint_eq(h_inode(s2), i2);		/* same fd */
	ck_assert_int_gt(h_hello(s2, T_MS), 0);
	ck_assert(h_wait_file(r2b, T_MS));		/* new args applied */
	ck_assert_int_ne(access(r2, F_OK), 0);
	ck_assert(h_wait_gone((pid_t)p3, T_MS));	/* removed: stopped */
	ck_assert(h_wait_log(&H, "unit three: removed", T_MS));
	ck_assert_int_ne(access(s3, F_OK), 0);
	ck_assert(h_wait_hello(s4, &pid, T_MS));	/* added */
	ck_assert_int_ne(access(s6, F_OK), 0);		/* idle: rebound */
	ck_assert(h_wait_hello(s6b, &pid, T_MS));
	ck_assert_int_eq(access(s7, F_OK), 0);		/* busy: not yet */
	ck_assert_int_ne(access(s7b, F_OK), 0);
	ck_assert_int_eq(kill((pid_t)p7, SIGTERM), 0);
	ck_assert(h_wait_file(s7b, T_MS));
	ck_assert_int_ne(access(s7, F_OK), 0);
	ck_assert(h_wait_hello(s7b, &pid, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	free(s6);
	free(s6b);
	free(s7);
	free(s7b);
	free(r2);
	free(r2b);
}
END_TEST


/*
 * The environment is built at each start: a reload's new env line and new
 * socket reach the next start, and the broker's own variables are there
 * each time. The unit's output after the reload is logged under its name
 * (valgrind saw the name read from the old spec, freed by the reload).
 */
START_TEST(reload_changes_the_environment_of_the_next_start)
{
	char *a = h_rt("sock-a"), *report = h_dir("report"), want[96];
	long p1, p2;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\n"
	    "args = --report %s --exit-after 1\n"
	    "socket = a.socket sock-a\nenv = VB_TEST=one\n", h_fake_daemon(),
	    report);
	ck_assert_int_eq(h_start_broker(&H), 0);
	p1 = h_hello(a, T_MS);
	ck_assert_int_gt(p1, 0);
	h_assert_report(report, "vb_test", "one");
	h_assert_report(report, "listen_fdnames", "a.socket");
	h_assert_report(report, "xdg_runtime_dir", "(unset)");
	snprintf(want, sizeof(want), "unit fake: pid %ld exited", p1);
	ck_assert(h_wait_log(&H, want, T_MS));
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\n"
	    "args = --report %s --exit-after 1 --say two\n"
	    "socket = a.socket sock-a\nsocket = b.socket sock-b\n"
	    "env = VB_TEST=two\nlog = stderr\n", h_fake_daemon(), report);
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	unlink(report);
	ck_assert(h_wait_hello(a, &p2, T_MS));
	ck_assert_int_ne(p2, p1);
	h_assert_report(report, "vb_test", "two");
	h_assert_report(report, "listen_fdnames", "a.socket:b.socket");
	h_assert_report(report, "listen_fds", "2");
	h_assert_report(report, "xdg_runtime_dir", "(unset)");
	/* Its output is logged under the unit's name (the new spec's). */
	snprintf(want, sizeof(want), "fake[%ld]: two", p2);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(report);
}
END_TEST

/*
 * A unit removed by a reload is stopping (its daemon ignores SIGTERM for
 * a while) when a second reload puts it back: it is kept, its socket stays
 * and serves the next client (it used to be removed for good at the exit).
 */
START_TEST(reload_readding_a_stopping_unit_keeps_it)
{
	char *a = h_rt("sock-a"), *k = h_rt("sock-k");
	long p1, p2;

	h_write_conf(&H, CONF_KEEP_SLOW, h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	p1 = h_hello(a, T_MS);
	ck_assert_int_gt(p1, 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[keep]\nexec = %s\nsocket = k.socket sock-k\n",
	    h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "unit slow: no longer configured",
	    T_MS), 0);
	ck_assert(h_pid_alive((pid_t)p1));		/* ignoring SIGTERM */
	h_write_conf(&H, CONF_KEEP_SLOW, h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "unit slow: configured again; kept",
	    T_MS), 0);
	ck_assert(h_wait_gone((pid_t)p1, 3 * T_MS));	/* SIGKILL at 2 s */
	ck_assert(h_wait_hello(a, &p2, T_MS));
	ck_assert_int_ne(p2, p1);
	ck_assert_int_eq(h_log_count(&H, "unit slow: removed"), 0);
	ck_assert_int_gt(h_hello(k, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(k);
}
END_TEST

START_TEST(limit_nofile_reaches_the_daemon)
{
	char *a = h_rt("sock-a"), *report = h_dir("report"), *v;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nargs = --report %s\nsocket = a.socket sock-a\n"
	    "limit_nofile = 1000\n", h_fake_daemon(), report);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	v = h_report_get(report, "nofile_soft");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "1000");
	free(v);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(report);
}
END_TEST

/* SOFT:HARD, below the broker's hard limit: both reach the daemon. */
START_TEST(limit_nofile_soft_and_hard_reach_the_daemon)
{
	char *a = h_rt("sock-a"), *report = h_dir("report"), *v;

	H.nofile = 4096;
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "[fake]\nexec = %s\nargs = --report %s\nsocket = a.socket sock-a\n"
	    "limit_nofile = 1000:2000\n", h_fake_daemon(), report);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	v = h_report_get(report, "nofile_soft");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "1000");
	free(v);
	v = h_report_get(report, "nofile_hard");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "2000");
	free(v);
	ck_assert_int_eq(h_log_count(&H, "lowered"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(report);
}
END_TEST

/*
 * Above the hard limit: raised if the broker may (CAP_SYS_RESOURCE), else
 * the daemon gets the hard limit and the broker says so once.
 */
START_TEST(limit_nofile_above_the_hard_limit)
{
	char *a = h_rt("sock-a"), *report = h_dir("report"), *v;

	H.nofile = 512;
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nargs = --report %s\nsocket = a.socket sock-a\n"
	    "limit_nofile = 4096\n", h_fake_daemon(), report);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* warned once, not twice */
	v = h_report_get(report, "nofile_soft");
	ck_assert_ptr_nonnull(v);
	if (strcmp(v, "4096") != 0) {
		ck_assert_str_eq(v, "512");
		ck_assert_int_eq(h_log_count(&H, "unit fake: limit_nofile "
		    "lowered to the hard limit 512"), 1);
	} else {
		ck_assert_int_eq(h_log_count(&H, "lowered"), 0);
	}
	free(v);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(report);
}
END_TEST

/* A broker short of fds serves what it could bind and names the rest. */
START_TEST(low_fd_limit_serves_what_could_be_bound)
{
	FILE *fp;
	long pid;
	int named = 0, served = 0;
	char *s0;

	H.nofile = 30;
	fp = fopen(H.conf, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "[broker]\nsearch_path = /nonexistent\npublish = none\n");
	for (int i = 0; i < 10; i++)
		fprintf(fp, "[u%d]\nexec = %s\nsocket = a%d.socket sock-a%d\n"
		    "socket = b%d.socket sock-b%d\n", i, h_fake_daemon(), i, i,
		    i, i);
	fclose(fp);
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (int i = 0; i < 10; i++) {
		char name[64], *path;

		snprintf(name, sizeof(name), "sock-a%d", i);
		path = h_rt(name);
		snprintf(name, sizeof(name), "unit u%d: ", i);
		if (access(path, F_OK) == 0) {
			ck_assert_int_gt(h_hello(path, T_MS), 0);
			served++;
		} else {
			char want[96];

			snprintf(want, sizeof(want), "unit u%d: socket: Too many "
			    "open files", i);
			named += h_log_count(&H, want) == 1;
		}
		free(path);
	}
	ck_assert_int_gt(served, 0);
	ck_assert_int_gt(named, 0);
	ck_assert_int_eq(served + named, 10);
	s0 = h_rt("sock-a0");
	ck_assert(h_wait_hello(s0, &pid, T_MS));	/* still serving */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(s0);
}
END_TEST

static Suite *
supervision_suite(void)
{
	Suite *s = suite_create("supervision");
	TCase *faults = tcase_create("faults");
	TCase *logs = tcase_create("logs");
	TCase *reload = tcase_create("reload");
	TCase *limits = tcase_create("limits");
	TCase *all[] = { faults, logs, reload, limits };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 120);
	/* valgrind keeps fds of its own: a tiny fd limit is not for it. */
	tcase_set_tags(limits, "no-valgrind");
	tcase_add_test(faults, crash_loop_fails_after_burst_starts_then_recovers);
	tcase_add_test(faults, sigkill_with_100_queued_clients_all_served_next);
	tcase_add_test(faults, driver_pid_hint_only_for_the_qemu_driver);
	tcase_add_test(logs, stderr_flood_rotates_and_keeps_the_broker_responsive);
	tcase_add_test(logs, log_stderr_prefixes_lines_with_the_unit);
	tcase_add_test(logs,
	    a_unit_back_to_listening_keeps_no_pipe_and_logs_again);
	tcase_add_test(reload, reload_with_a_broken_config_keeps_serving);
	tcase_add_test(reload, reload_adds_changes_and_removes_units);
	tcase_add_test(reload, reload_removes_and_adds_hundreds_of_units);
	tcase_add_test(reload, reload_readding_a_stopping_unit_keeps_it);
	tcase_add_test(reload,
	    reload_changes_the_environment_of_the_next_start);
	tcase_add_test(limits, limit_nofile_reaches_the_daemon);
	tcase_add_test(limits, limit_nofile_above_the_hard_limit);
	tcase_add_test(limits, limit_nofile_soft_and_hard_reach_the_daemon);
	tcase_add_test(limits, low_fd_limit_serves_what_could_be_bound);
	return s;
}

int
main(void)
{
	return h_run(supervision_suite());
}
