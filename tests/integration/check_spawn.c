/* SPDX-License-Identifier: MIT */
/*
 * spawn.c linked in and called directly, the test daemon as the child: the
 * protocol as the daemon sees it when the fds to pass sit on each other's
 * targets, the parent's signal state left as it was, exec errors coming
 * back as errno, and spawning under a storm of signals to the spawner's
 * process group. The child shares the spawner's memory until it execs
 * (clone(CLONE_VM)): a signal handler of the spawner's that ran in it would
 * run on the spawner's memory, and the storm test sees that.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "listenfds.h"
#include "spawn.h"

#define STORM_SPAWNS	200

/* A listening socket at H.dir/name, CLOEXEC and non-blocking (the broker's). */
static int
listen_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = h_dir(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	free(path);
	return fd;
}


/* Waits for pid, through EINTR; its wait status. */
static int
wait_status(pid_t pid)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	ck_assert_int_eq(r, pid);
	return st;
}

/* The exec-status pipe's answer: 0 (exec'd) or 1 with the errno. */
static int
read_status(int status_fd, int *ret_errno)
{
	int r;

	while ((r = spawn_read_status(status_fd, ret_errno)) == -EINTR)
		;
	ck_assert_int_ge(r, 0);
	close(status_fd);
	return r;
}

static void
on_hup(int sig)
{
	(void)sig;
}

/*
 * The broker's sockets are low fds, so what it passes may sit on the
 * targets 3.. in another order: here c at 3, b at 4 and a at 5, passed
 * as a, b, c. Non-blocking in the parent, blocking in the daemon; no fd
 * but 0..2 and the three; stdin /dev/null, stdout and stderr the pipe;
 * LISTEN_PID its own pid; no signal blocked or ignored though the parent
 * blocks one and ignores another; the parent's mask and dispositions as
 * they were.
 */
START_TEST(sockets_on_each_others_targets_reach_3_in_order)
{
	char *report = h_dir("report"), want[512], line[256];
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX "0";
	char *argv[] = { (char *)h_fake_daemon(), (char *)"--strict",
	    (char *)"--report", report, (char *)"--say",
	    (char *)"said on stderr", (char *)"--exit-on-start", (char *)"0",
	    NULL };
	char *envp[] = { (char *)"LISTEN_FDS=3",
	    (char *)"LISTEN_FDNAMES=a:b:c", slot, NULL };
	struct sigaction hup = { .sa_handler = on_hup }, old_hup, sa;
	const char *names[] = { "s-a", "s-b", "s-c" };
	int hi[3], saved[3], saved_cloexec[3], fds[3] = { 5, 4, 3 };
	int out[2], noise, status_fd, e = 0, st;
	sigset_t term, mask;
	struct spawn_req req = {
		.argv = argv,
		.envp = envp,
		.pid_slot = slot,
		.fds = fds,
		.nfds = 3,
	};
	pid_t pid;
	ssize_t n;

	/* The sockets high up first, then what sits at 3..5 aside. */
	for (int i = 0; i < 3; i++) {
		int fd = listen_at(names[i]);

		hi[i] = fcntl(fd, F_DUPFD_CLOEXEC, 100);
		ck_assert_int_ge(hi[i], 100);
		close(fd);
	}
	for (int i = 0; i < 3; i++) {
		saved_cloexec[i] = fcntl(3 + i, F_GETFD);
		saved[i] = fcntl(3 + i, F_DUPFD_CLOEXEC, 200);
	}
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dup3(hi[i], fds[i], O_CLOEXEC), fds[i]);
	noise = open("/dev/null", O_RDONLY);		/* not CLOEXEC */
	ck_assert_int_ge(noise, 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	req.out_fd = out[1];
	req.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(req.null_fd, 0);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, NULL), 0);
	sigemptyset(&hup.sa_mask);
	ck_assert_int_eq(sigaction(SIGHUP, &hup, &old_hup), 0);
	ck_assert_ptr_ne(signal(SIGUSR2, SIG_IGN), SIG_ERR);

	ck_assert_int_eq(spawn_daemon(&req, &pid, &status_fd), 0);
	ck_assert_int_eq(read_status(status_fd, &e), 0);
	st = wait_status(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "daemon wait status %#x (6: bad activation env)", st);

	/* The parent's signal state is as it was. */
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
	ck_assert_int_eq(sigismember(&mask, SIGTERM), 1);
	ck_assert_int_eq(sigismember(&mask, SIGHUP), 0);
	ck_assert_int_eq(sigismember(&mask, SIGCHLD), 0);
	ck_assert_int_eq(sigaction(SIGHUP, NULL, &sa), 0);
	ck_assert(sa.sa_handler == on_hup);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_IGN);
	ck_assert_int_eq(sigprocmask(SIG_UNBLOCK, &term, NULL), 0);
	ck_assert_int_eq(sigaction(SIGHUP, &old_hup, NULL), 0);
	ck_assert_ptr_ne(signal(SIGUSR2, SIG_DFL), SIG_ERR);

	snprintf(want, sizeof(want), "%ld", (long)pid);
	h_assert_report(report, "pid", want);
	h_assert_report(report, "listen_pid", want);
	for (int i = 0; i < 3; i++) {
		int fd = 3 + i;

		snprintf(want, sizeof(want), "%s/%s", H.dir, names[i]);
		h_assert_passed_fd(report, fd, want);
	}
	h_assert_report(report, "open_fds", "0,1,2,3,4,5");
	h_assert_report(report, "stdin", "/dev/null");
	h_assert_report(report, "sid_is_pid", "1");
	h_assert_report(report, "blocked_signals", "0");
	h_assert_report(report, "ignored_signals", "0");
	close(out[1]);
	n = read(out[0], line, sizeof(line) - 1);
	ck_assert_int_gt(n, 0);
	line[n] = '\0';
	ck_assert_str_eq(line, "said on stderr\n");

	close(out[0]);
	close(req.null_fd);
	close(noise);
	for (int i = 0; i < 3; i++) {
		close(hi[i]);
		if (saved[i] < 0) {
			close(3 + i);
			continue;
		}
		ck_assert_int_eq(dup3(saved[i], 3 + i, saved_cloexec[i] &
		    FD_CLOEXEC ? O_CLOEXEC : 0), 3 + i);
		close(saved[i]);
	}
	free(report);
}
END_TEST

/* Spawns argv0 with nothing to pass; the errno (0: exec'd), *ret_st. */
static int
spawn_errno(const char *argv0, int *ret_st)
{
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX "0";
	char *argv[] = { (char *)argv0, NULL };
	char *envp[] = { slot, NULL };
	struct spawn_req req = {
		.argv = argv,
		.envp = envp,
		.pid_slot = slot,
		.out_fd = -1,
	};
	int status_fd, e = 0;
	pid_t pid;

	req.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(req.null_fd, 0);
	ck_assert_int_eq(spawn_daemon(&req, &pid, &status_fd), 0);
	if (read_status(status_fd, &e) == 0)
		e = 0;
	*ret_st = wait_status(pid);
	close(req.null_fd);
	return e;
}

/* Writes a file with mode and contents. */
static char *
make_file(const char *name, mode_t mode, const char *text)
{
	char *path = h_dir(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);	/* whatever the umask */
	close(fd);
	return path;
}

/* ENOENT exits 127, the others 126, and each errno comes back as it was. */
/*
 * With low slots reserved (as the broker does at start-up) and the
 * sockets far above them (as a broker of many units has them), the clone
 * shares the fd table and the child keeps only the slots below: the same
 * fds at 3.. in order, nothing else open, and the broker left with no
 * copy of any of them (each socket's inode at one fd only, the status
 * pipe at EOF).
 */
START_TEST(shared_table_spawn_passes_the_same_fds_and_leaves_no_copy)
{
	char *report = h_dir("report"), want[512];
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX "0";
	char *argv[] = { (char *)h_fake_daemon(), (char *)"--strict",
	    (char *)"--report", report, (char *)"--exit-on-start", (char *)"0",
	    NULL };
	char *envp[] = { (char *)"LISTEN_FDS=3",
	    (char *)"LISTEN_FDNAMES=a:b:c", slot, NULL };
	const char *names[] = { "l-a", "l-b", "l-c" };
	int fds[3], out[2], status_fd, e = 0, st;
	struct spawn_req req = {
		.argv = argv,
		.envp = envp,
		.pid_slot = slot,
		.fds = fds,
		.nfds = 3,
	};
	struct stat sst[3];
	pid_t pid;

	spawn_reserve_low();
	for (int i = 0; i < 3; i++) {
		int fd = listen_at(names[i]);

		fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 600 + i);
		ck_assert_int_ge(fds[i], 600);
		close(fd);
		ck_assert_int_eq(fstat(fds[i], &sst[i]), 0);
	}
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	req.out_fd = fcntl(out[1], F_DUPFD_CLOEXEC, 700);
	close(out[1]);
	req.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(req.null_fd, 0);
	ck_assert_int_eq(spawn_daemon(&req, &pid, &status_fd), 0);
	ck_assert(spawn_last_was_shared());
	ck_assert_int_eq(read_status(status_fd, &e), 0);	/* EOF */
	st = wait_status(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "daemon wait status %#x", st);
	snprintf(want, sizeof(want), "%ld", (long)pid);
	h_assert_report(report, "listen_pid", want);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s/%s", H.dir, names[i]);
		h_assert_passed_fd(report, 3 + i, want);
	}
	h_assert_report(report, "open_fds", "0,1,2,3,4,5");
	h_assert_report(report, "stdin", "/dev/null");
	/* No copy left in this process: each socket at its one fd. */
	for (int fd = 3; fd < 1024; fd++) {
		struct stat s;

		if (fstat(fd, &s) < 0 || !S_ISSOCK(s.st_mode))
			continue;
		for (int i = 0; i < 3; i++)
			ck_assert_msg(s.st_ino != sst[i].st_ino || fd == fds[i],
			    "fd %d is a copy of %s", fd, names[i]);
	}
	close(out[0]);
	close(req.out_fd);
	close(req.null_fd);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	free(report);
}
END_TEST

START_TEST(exec_errors_come_back_as_errno)
{
	char *missing = h_dir("missing"), *plain, *garbage;
	int st;

	plain = make_file("plain", 0644, "#!/bin/sh\nexit 0\n");
	garbage = make_file("garbage", 0755, "\177ELF not really\n");
	ck_assert_int_eq(spawn_errno(missing, &st), ENOENT);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	ck_assert_int_eq(spawn_errno(plain, &st), EACCES);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 126);
	ck_assert_int_eq(spawn_errno(garbage, &st), ENOEXEC);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 126);
	free(missing);
	free(plain);
	free(garbage);
}
END_TEST

/*
 * The spawner's handlers note a run in another process: a child that
 * shares the spawner's memory writes the flag where the spawner reads it.
 */
static volatile sig_atomic_t storm_seen, storm_seen_elsewhere;
static pid_t storm_spawner;

static void
on_storm(int sig)
{
	(void)sig;
	if ((pid_t)syscall(SYS_getpid) != storm_spawner)
		storm_seen_elsewhere = 1;
	else
		storm_seen = 1;
}

enum storm_result {
	STORM_OK,
	STORM_SPAWN_FAILED,	/* spawn_daemon or the exec failed */
	STORM_CHILD_KILLED,	/* a child died of a signal */
	STORM_CHILD_FAILED,	/* a child exited but not with 0 */
	STORM_HANDLER_IN_CHILD,	/* a handler ran in a child */
	STORM_NOT_SEEN,		/* the storm never reached the spawner */
	STORM_MASK_CHANGED,	/* the spawner's mask after spawn_daemon */
};

/*
 * In its own process group, which the storm hits: says on ready once its
 * handlers are in place, spawns and exits.
 */
static noreturn void
storm_spawner_main(int ready)
{
	struct sigaction sa = {
		.sa_handler = on_storm,
		.sa_flags = SA_RESTART,
	};
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX "0";
	char *argv[] = { (char *)h_fake_daemon(), (char *)"--exit-on-start",
	    (char *)"0", NULL };
	char *envp[] = { slot, NULL };
	struct spawn_req req = {
		.argv = argv,
		.envp = envp,
		.pid_slot = slot,
		.out_fd = -1,
	};
	const int sigs[] = { SIGHUP, SIGUSR1, SIGCHLD, SIGINT, SIGTERM };
	sigset_t mask;

	storm_spawner = getpid();
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
	if (setpgid(0, 0) < 0 || write(ready, "", 1) != 1)
		_exit(STORM_SPAWN_FAILED);
	close(ready);
	req.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (req.null_fd < 0)
		_exit(STORM_SPAWN_FAILED);
	for (int i = 0; i < STORM_SPAWNS; i++) {
		int status_fd, e = 0, st;
		pid_t pid;

		if (spawn_daemon(&req, &pid, &status_fd) < 0)
			_exit(STORM_SPAWN_FAILED);
		if (sigprocmask(SIG_SETMASK, NULL, &mask) < 0 ||
		    sigismember(&mask, SIGHUP) != 0)
			_exit(STORM_MASK_CHANGED);
		while (spawn_read_status(status_fd, &e) == -EINTR)
			;
		close(status_fd);
		if (e != 0)
			_exit(STORM_SPAWN_FAILED);
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				_exit(STORM_SPAWN_FAILED);
		if (WIFSIGNALED(st))
			_exit(STORM_CHILD_KILLED);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(STORM_CHILD_FAILED);
		if (storm_seen_elsewhere)
			_exit(STORM_HANDLER_IN_CHILD);
	}
	_exit(storm_seen ? STORM_OK : STORM_NOT_SEEN);
}

/*
 * Signals to the spawner's process group, as fast as they can be sent,
 * while it spawns: a child is in that group until its setsid(). None may
 * run a handler in the child (it would run on the spawner's memory), none
 * may kill a child before its exec (a signal for the group is not for the
 * daemon), and the spawner gets them all the same. A race: each spawn is
 * a window of some microseconds, and there are STORM_SPAWNS of them.
 */
START_TEST(signal_storm_on_the_process_group_harms_no_child)
{
	static const char *what[] = {
		[STORM_OK] = "ok",
		[STORM_SPAWN_FAILED] = "a spawn failed",
		[STORM_CHILD_KILLED] = "a child was killed by a signal",
		[STORM_CHILD_FAILED] = "a child failed",
		[STORM_HANDLER_IN_CHILD] = "a handler ran in a child",
		[STORM_NOT_SEEN] = "the storm never reached the spawner",
		[STORM_MASK_CHANGED] = "spawn_daemon left signals blocked",
	};
	const int sigs[] = { SIGHUP, SIGUSR1, SIGCHLD, SIGINT, SIGTERM };
	pid_t spawner, storm;
	int st, code, ready[2];
	char c;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	spawner = fork();
	ck_assert_int_ge(spawner, 0);
	if (spawner == 0) {
		close(ready[0]);
		storm_spawner_main(ready[1]);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);	/* handlers set */
	close(ready[0]);
	storm = fork();
	ck_assert_int_ge(storm, 0);
	if (storm == 0) {
		for (unsigned i = 0;; i++)
			if (kill(-spawner, sigs[i % (sizeof(sigs) /
			    sizeof(sigs[0]))]) < 0 && errno == ESRCH)
				_exit(0);
	}
	st = wait_status(spawner);
	kill(storm, SIGKILL);
	(void)wait_status(storm);
	ck_assert_msg(WIFEXITED(st), "spawner wait status %#x", st);
	code = WEXITSTATUS(st);
	ck_assert_msg(code == STORM_OK, "%s (%d)", code >= 0 &&
	    code < (int)(sizeof(what) / sizeof(what[0])) && what[code] != NULL ?
	    what[code] : "?", code);
}
END_TEST

static Suite *
spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *proto = tcase_create("protocol");
	TCase *errors = tcase_create("errors");
	TCase *signals = tcase_create("signals");
	TCase *all[] = { proto, errors, signals };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 120);
	tcase_add_test(proto, sockets_on_each_others_targets_reach_3_in_order);
	tcase_add_test(proto,
	    shared_table_spawn_passes_the_same_fds_and_leaves_no_copy);
	tcase_add_test(errors, exec_errors_come_back_as_errno);
	tcase_add_test(signals,
	    signal_storm_on_the_process_group_harms_no_child);
	return s;
}

int
main(void)
{
	return h_run(spawn_suite());
}
