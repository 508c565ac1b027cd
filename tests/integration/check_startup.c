/* SPDX-License-Identifier: MIT */
/*
 * Integration: the real virt-broker binary started in unusual conditions:
 * fds 0-2 closed, a bad --ready-fd, a --pidfile shared with a second broker.
 * Each test forks and execs the broker itself to control its fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000		/* generous deadline for one step */

/* How the test execs the broker. */
struct start {
	const char	*args[8];	/* after "--session -f CONF" */
	const char	*log;		/* stderr; NULL: H.log */
	bool		 close_stdio;	/* exec with fds 0, 1 and 2 closed */
	int		 out;		/* >= 0: dup2()ed onto fd 1 */
	int		 fd3;		/* >= 0: dup2()ed onto fd 3; -1: closed */
};

static void
conf_fake(void)
{
	h_write_conf(&H,
	    "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "[fake]\nexec = %s\nsocket = a.socket sock-a\n", h_fake_daemon());
}

/*
 * Forks and execs the broker as s says, with the harness's environment
 * (private XDG_RUNTIME_DIR and HOME); VB_BROKER_WRAPPER goes in front.
 */
static pid_t
spawn(const struct start *s)
{
	const char *wrapper = getenv("VB_BROKER_WRAPPER");
	char *wcopy = NULL;
	const char *argv[40];
	int argc = 0, logfd;
	pid_t pid;

	if (wrapper != NULL && wrapper[0] != '\0') {
		wcopy = strdup(wrapper);
		for (char *tok = strtok(wcopy, " "); tok != NULL && argc < 20;
		    tok = strtok(NULL, " "))
			argv[argc++] = tok;
	}
	argv[argc++] = getenv("VB_BROKER");
	argv[argc++] = "--session";
	argv[argc++] = "-f";
	argv[argc++] = H.conf;
	for (size_t i = 0; s->args[i] != NULL && argc < 39; i++)
		argv[argc++] = s->args[i];
	argv[argc] = NULL;
	ck_assert_ptr_nonnull(argv[argc - 1]);
	logfd = open(s->log != NULL ? s->log : H.log,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_ge(logfd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		setenv("HOME", H.dir, 1);
		unsetenv("XDG_CONFIG_HOME");
		if (s->out >= 0 && dup2(s->out, STDOUT_FILENO) < 0)
			_exit(126);
		if (dup2(logfd, STDERR_FILENO) < 0)
			_exit(126);
		if (s->fd3 == 3 && fcntl(3, F_SETFD, 0) < 0)
			_exit(126);
		if (s->fd3 >= 0 && s->fd3 != 3 && dup2(s->fd3, 3) < 0)
			_exit(126);
		if (s->fd3 < 0)
			close(3);
		if (s->close_stdio) {
			close(STDIN_FILENO);
			close(STDOUT_FILENO);
			close(STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	free(wcopy);
	return pid;
}

/* A pipe whose write end (returned in p[1]) survives exec. */
static void
ready_pipe(int p[2])
{
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFD, FD_CLOEXEC), 0);
}

/* Waits for the ready newline on fd: true if it came in time. */
static bool
wait_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, T_MS) == 1 && read(fd, &c, 1) == 1 && c == '\n';
}

/* The pid in a pidfile, 0 if there is none, -1 if it is not a pid. */
static long
read_pid(const char *path)
{
	FILE *fp = fopen(path, "r");
	long pid = -1;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = -1;
	fclose(fp);
	return pid;
}

/* Starts the broker in the foreground with args; its pid once ready. */
static pid_t
start_foreground(const char *pidfile)
{
	struct start s = { .out = -1 };
	int p[2], n = 0;

	ready_pipe(p);
	s.fd3 = p[1];
	s.args[n++] = "--ready-fd";
	s.args[n++] = "3";
	if (pidfile != NULL) {
		s.args[n++] = "--pidfile";
		s.args[n++] = pidfile;
	}
	H.broker = spawn(&s);
	close(p[1]);
	ck_assert_msg(wait_ready(p[0]), "the broker did not get ready");
	close(p[0]);
	return H.broker;
}

/* Lines of the log file path that contain needle. */
static int
log_count(const char *path, const char *needle)
{
	struct harness h = { 0 };

	snprintf(h.log, sizeof(h.log), "%s", path);
	return h_log_count(&h, needle);
}

/* The runtime dir's lock is held by someone (not by us). */
static bool
lock_is_held(void)
{
	char *lock = h_rt("virt-broker.pid");
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	bool held;

	ck_assert_int_ge(fd, 0);
	held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	free(lock);
	return held;
}

/*
 * virt-broker -d <&- >&- 2>&-: its first files would land on 0-2 (libev
 * aborts on that); it opens /dev/null there first, and serves.
 */
START_TEST(closed_stdio_daemon_starts_and_serves)
{
	char *a = h_rt("sock-a"), *pidfile = h_dir("broker.pid");
	struct start s = { .args = { "-d", "--pidfile", pidfile },
	    .close_stdio = true, .out = -1, .fd3 = -1 };
	pid_t parent;
	long pid, daemon_pid;

	conf_fake();
	parent = spawn(&s);
	ck_assert_int_eq(h_wait_exit(parent, T_MS), 0);
	pid = read_pid(pidfile);
	ck_assert_int_gt(pid, 0);
	H.broker = (pid_t)pid;		/* killed by the teardown on failure */
	ck_assert(h_wait_hello(a, &daemon_pid, T_MS));
	ck_assert_int_ne(daemon_pid, pid);
	kill((pid_t)pid, SIGTERM);
	ck_assert(h_wait_gone((pid_t)pid, T_MS));
	H.broker = -1;
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	free(a);
	free(pidfile);
}
END_TEST

/*
 * Foreground, fds 0-2 closed, the ready pipe on 3: ready, serves, and its
 * fds 0-2 are /dev/null (not its lock or a socket, where its daemons'
 * output would go).
 */
START_TEST(closed_stdio_foreground_gets_ready_and_serves)
{
	char *a = h_rt("sock-a"), proc[64], link[256];
	ssize_t n;
	struct start s = { .args = { "--ready-fd", "3" },
	    .close_stdio = true, .out = -1 };
	int p[2];
	long daemon_pid;

	conf_fake();
	ready_pipe(p);
	s.fd3 = p[1];
	H.broker = spawn(&s);
	close(p[1]);
	ck_assert(wait_ready(p[0]));
	close(p[0]);
	ck_assert(h_wait_hello(a, &daemon_pid, T_MS));
	for (int fd = 0; fd <= 2; fd++) {
		snprintf(proc, sizeof(proc), "/proc/%ld/fd/%d", (long)H.broker,
		    fd);
		n = readlink(proc, link, sizeof(link) - 1);
		ck_assert_int_gt(n, 0);
		link[n] = '\0';
		ck_assert_msg(strcmp(link, "/dev/null") == 0,
		    "the broker's fd %d is %s", fd, link);
	}
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/* --ready-fd 3 with 3 closed: a clear error, nothing started. */
START_TEST(closed_ready_fd_is_refused_by_name)
{
	char *lock = h_rt("virt-broker.pid");
	struct start s = { .args = { "--ready-fd", "3" }, .out = -1,
	    .fd3 = -1 };
	pid_t pid;

	conf_fake();
	pid = spawn(&s);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	ck_assert_int_eq(h_log_count(&H, "--ready-fd 3: Bad file descriptor"),
	    1);
	ck_assert_int_ne(access(lock, F_OK), 0);
	free(lock);
}
END_TEST

/* --ready-fd naming a regular file: refused, the file left untouched. */
START_TEST(regular_file_as_ready_fd_is_refused)
{
	char *file = h_dir("not-a-pipe");
	struct start s = { .args = { "--ready-fd", "3" }, .out = -1 };
	struct stat st;
	pid_t pid;

	conf_fake();
	s.fd3 = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(s.fd3, 0);
	pid = spawn(&s);
	close(s.fd3);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	ck_assert_int_eq(h_log_count(&H, "--ready-fd 3 is a regular file, "
	    "not a pipe, socket or character device"), 1);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	free(file);
}
END_TEST

/*
 * --ready-fd 1 (stdout a pipe): once the newline is written, no file the
 * broker opens later may land on fd 1, where its daemons' output and any
 * stdout write would go.
 */
START_TEST(ready_fd_on_stdout_is_not_reused)
{
	char *a = h_rt("sock-a"), link[64], want[64], proc[64];
	struct start s = { .args = { "--ready-fd", "1" }, .fd3 = -1 };
	struct stat st;
	ssize_t n;
	long daemon_pid;
	int p[2];

	conf_fake();
	ready_pipe(p);
	s.out = p[1];
	H.broker = spawn(&s);
	close(p[1]);
	ck_assert(wait_ready(p[0]));
	ck_assert(h_wait_hello(a, &daemon_pid, T_MS));
	ck_assert_int_eq(fstat(p[0], &st), 0);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	snprintf(proc, sizeof(proc), "/proc/%ld/fd/1", (long)H.broker);
	n = readlink(proc, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_msg(strcmp(link, want) == 0 || strcmp(link, "/dev/null") == 0,
	    "the broker's fd 1 is %s", link);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	close(p[0]);
	free(a);
}
END_TEST

/*
 * A second broker with the same --pidfile fails on the lock: the pidfile
 * keeps the first broker's pid, which still holds the lock and serves.
 */
START_TEST(second_broker_keeps_the_first_ones_pidfile)
{
	char *a = h_rt("sock-a"), *pidfile = h_dir("broker.pid"),
	    *second_log = h_dir("second.log"), *lock = h_rt("virt-broker.pid");
	struct start s = { .args = { "--pidfile", pidfile }, .out = -1,
	    .fd3 = -1, .log = second_log };
	char want[64];
	pid_t first, second;
	long daemon_pid;

	conf_fake();
	first = start_foreground(pidfile);
	ck_assert_int_eq(read_pid(pidfile), first);
	second = spawn(&s);
	ck_assert_int_eq(h_wait_exit(second, T_MS), 1);
	snprintf(want, sizeof(want), "another virt-broker (pid %ld)",
	    (long)first);
	ck_assert_int_eq(log_count(second_log, want), 1);
	ck_assert_int_eq(read_pid(pidfile), first);
	ck_assert_int_eq(read_pid(lock), first);
	ck_assert(lock_is_held());
	ck_assert(h_wait_hello(a, &daemon_pid, T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	free(a);
	free(pidfile);
	free(second_log);
	free(lock);
}
END_TEST

/* A second broker that fails on the lock leaves no pidfile of its own. */
START_TEST(second_broker_leaves_no_dead_pid)
{
	char *pidfile = h_dir("second.pid"), *second_log = h_dir("second.log");
	struct start s = { .args = { "--pidfile", pidfile }, .out = -1,
	    .fd3 = -1, .log = second_log };
	pid_t second;

	conf_fake();
	(void)start_foreground(NULL);
	second = spawn(&s);
	ck_assert_int_eq(h_wait_exit(second, T_MS), 1);
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	ck_assert(lock_is_held());
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(pidfile);
	free(second_log);
}
END_TEST

/* At exit the broker removes its --pidfile only if it still names it. */
START_TEST(pidfile_naming_another_pid_is_left_at_exit)
{
	char *pidfile = h_dir("broker.pid"), *tmp = h_dir("broker.pid.new");
	FILE *fp;

	conf_fake();
	(void)start_foreground(pidfile);
	fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "%d\n", INT_MAX);
	fclose(fp);
	ck_assert_int_eq(rename(tmp, pidfile), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_eq(read_pid(pidfile), INT_MAX);
	free(pidfile);
	free(tmp);
}
END_TEST

static Suite *
startup_suite(void)
{
	Suite *s = suite_create("startup");
	TCase *stdio = tcase_create("stdio");
	TCase *fds = tcase_create("fds");
	TCase *pid = tcase_create("pidfile");
	TCase *all[] = { stdio, fds, pid };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 60);
	/*
	 * valgrind keeps fd 2 as its log fd even when it is closed, and
	 * refuses the broker an open() that would land there.
	 */
	tcase_set_tags(stdio, "no-valgrind");
	tcase_add_test(stdio, closed_stdio_daemon_starts_and_serves);
	tcase_add_test(stdio, closed_stdio_foreground_gets_ready_and_serves);
	tcase_add_test(fds, closed_ready_fd_is_refused_by_name);
	tcase_add_test(fds, regular_file_as_ready_fd_is_refused);
	tcase_add_test(fds, ready_fd_on_stdout_is_not_reused);
	tcase_add_test(pid, second_broker_keeps_the_first_ones_pidfile);
	tcase_add_test(pid, second_broker_leaves_no_dead_pid);
	tcase_add_test(pid, pidfile_naming_another_pid_is_left_at_exit);
	return s;
}

int
main(void)
{
	return h_run(startup_suite());
}
