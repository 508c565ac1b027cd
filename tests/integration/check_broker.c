/* SPDX-License-Identifier: MIT */
/*
 * Integration: the real virt-broker binary with the test daemon. Checks the
 * activation protocol as the daemon sees it, queued and concurrent clients,
 * re-arming after exit, failure handling, shutdown, and the path rules.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000		/* generous deadline for one step */

/* A unit "fake" with three sockets, and extra config lines. */
static void
conf_fake(const char *fake_args, const char *extra)
{
	h_write_conf(&H,
	    "[broker]\n"
	    "search_path = /nonexistent\npublish = none\n"
	    "[fake]\n"
	    "exec = %s\n"
	    "args = --report %s/report --starts %s/starts %s\n"
	    "socket = a.socket sock-a\n"
	    "socket = b.socket sock-b\n"
	    "socket = c.socket sock-c 0600\n"
	    "%s",
	    h_fake_daemon(), H.dir, H.dir, fake_args, extra);
}


START_TEST(activation_passes_fds_names_and_own_pid)
{
	char *sock_b = h_rt("sock-b"), *report = h_dir("report");
	char want[512], pidstr[32];
	long pid;

	conf_fake("--strict", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(sock_b, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_file(report, T_MS));
	snprintf(pidstr, sizeof(pidstr), "%ld", pid);
	h_assert_report(report, "pid", pidstr);
	h_assert_report(report, "listen_pid", pidstr);
	h_assert_report(report, "listen_fds", "3");
	h_assert_report(report, "listen_fdnames", "a.socket:b.socket:c.socket");
	for (int fd = 3; fd <= 5; fd++) {
		snprintf(want, sizeof(want), "%s/sock-%c", H.rt, 'a' + fd - 3);
		h_assert_passed_fd(report, fd, want);
	}
	h_assert_report(report, "blocked_signals", "0");
	h_assert_report(report, "ignored_signals", "0");
	h_assert_report(report, "open_fds", "0,1,2,3,4,5");
	h_assert_report(report, "sid_is_pid", "1");
	h_assert_report(report, "stdin", "/dev/null");
	/* R is libvirt's fallback: the daemon resolves it without XDG. */
	h_assert_report(report, "xdg_runtime_dir", "(unset)");
	h_assert_report(report, "pipewire_runtime_dir", H.xdg);
	h_assert_report(report, "dbus_session_bus_address", "(unset)");
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock_b);
	free(report);
}
END_TEST

START_TEST(sockets_have_their_modes_in_a_private_dir)
{
	char *a = h_rt("sock-a"), *c = h_rt("sock-c");
	struct stat st;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exec = %s\nsocket = a.socket sock-a 0660\n"
	    "socket = c.socket sock-c\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(lstat(H.rt, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(lstat(a, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_int_eq(lstat(c, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(c);
}
END_TEST

/* A free loopback port: bind to port 0 and ask. */
static unsigned
free_tcp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* listen_tcp adds an inet listener named UNIT-tcp.socket, after the rest. */
START_TEST(listen_tcp_passes_an_inet_socket_by_name)
{
	char *report = h_dir("report"), line[64];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned port = free_tcp_port();
	long pid;
	int fd;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\nargs = --report %s\n"
	    "socket = a.socket sock-a\nlisten_tcp = 127.0.0.1:%u\n",
	    h_fake_daemon(), report, port);
	ck_assert_int_eq(h_start_broker(&H), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_gt(h_read_line(fd, line, sizeof(line), T_MS), 0);
	ck_assert_int_eq(sscanf(line, "hello %ld", &pid), 1);
	close(fd);
	h_assert_report(report, "listen_fds", "2");
	h_assert_report(report, "listen_fdnames", "a.socket:fake-tcp.socket");
	h_assert_report(report, "fd4.listening", "1");
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(report);
}
END_TEST

/* socket_mode (the first socket) and socket_group (all of them). */
START_TEST(socket_mode_and_group_apply)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b");
	struct group *gr = getgrnam("nogroup");
	struct stat st;

	if (geteuid() != 0 || gr == NULL) {
		fprintf(stderr, "socket_mode_and_group_apply: needs root and "
		    "group nogroup to chown; checked in CI\n");
		return;
	}
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\nsocket_mode = 0660\nsocket_group = nogroup\n"
	    "[fake]\nexec = %s\nsocket = a.socket sock-a\n"
	    "socket = b.socket sock-b 0600\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(lstat(a, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_gid, gr->gr_gid);
	ck_assert_int_eq(lstat(b, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_gid, gr->gr_gid);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(clients_queued_before_the_start_are_all_served)
{
	char *a = h_rt("sock-a"), *starts = h_dir("starts");
	int fds[5];
	long first = 0;

	conf_fake("", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (int i = 0; i < 5; i++) {	/* all queued before any reply */
		fds[i] = h_connect(a);
		ck_assert_int_ge(fds[i], 0);
	}
	for (int i = 0; i < 5; i++) {
		char line[64];
		long pid;

		ck_assert_int_gt(h_read_line(fds[i], line, sizeof(line),
		    T_MS), 0);
		ck_assert_int_eq(sscanf(line, "hello %ld", &pid), 1);
		if (i == 0)
			first = pid;
		ck_assert_int_eq(pid, first);
		close(fds[i]);
	}
	ck_assert_int_eq(h_count_lines(starts), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
}
END_TEST

START_TEST(daemon_exit_rearms_and_next_client_starts_a_new_one)
{
	char *a = h_rt("sock-a"), *starts = h_dir("starts");
	long p1, p2;

	conf_fake("--idle-ms 100", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	p1 = h_hello(a, T_MS);
	ck_assert_int_gt(p1, 0);
	ck_assert(h_wait_gone((pid_t)p1, T_MS));	/* idle exit, reaped */
	ck_assert(h_wait_log(&H, "exited with status 0", T_MS));
	p2 = h_hello(a, T_MS);
	ck_assert_int_gt(p2, 0);
	ck_assert_int_ne(p1, p2);
	ck_assert_int_eq(h_count_lines(starts), 2);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
}
END_TEST

START_TEST(missing_binary_gives_one_clear_error_and_refuses)
{
	char *a = h_rt("sock-a");

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[ghost]\n"
	    "exec = /nonexistent/ghostd\nsocket = g.socket sock-a\n");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_hello(a, T_MS), 0);	/* closed, not hung */
	ck_assert_int_eq(h_log_count(&H, "unit ghost: exec "
	    "/nonexistent/ghostd: No such file or directory"), 1);
	ck_assert(h_pid_alive(H.broker));
	ck_assert_int_eq(h_hello(a, T_MS), 0);	/* still refused */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/* A file that is there but not executable: the errno, said once. */
START_TEST(unexecutable_binary_gives_the_errno_text)
{
	char *a = h_rt("sock-a"), *bin = h_dir("notexec"), *want = NULL;
	int f;

	f = open(bin, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(write(f, "#!/bin/sh\n", 10), 10);
	ck_assert_int_eq(fchmod(f, 0644), 0);	/* root may exec no 0644 */
	close(f);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[plain]\nexec = %s\nsocket = p.socket sock-a\n",
	    bin);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_hello(a, T_MS), 0);	/* closed, not hung */
	ck_assert_int_ge(asprintf(&want, "unit plain: exec %s: Permission "
	    "denied", bin), 0);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert(h_pid_alive(H.broker));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(want);
	free(bin);
	free(a);
}
END_TEST

/*
 * SIGHUP (a reload each) at the broker every millisecond while clients
 * start one daemon after another: the broker blocks every signal while it
 * starts a daemon, which shares its memory until exec. Each client gets a
 * daemon of its own with the activation env right (--strict), none is
 * killed before it serves, the reloads happen, and the broker stays up
 * and stops cleanly.
 */
START_TEST(sighup_storm_during_spawns_harms_no_daemon)
{
	enum { N = 40 };
	char *a = h_rt("sock-a"), *starts = h_dir("starts");
	char *report = h_dir("report"), pidstr[32];
	long pid = 0, prev = 0;
	pid_t storm;

	conf_fake("--strict --exit-after 1", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	storm = fork();
	ck_assert_int_ge(storm, 0);
	if (storm == 0) {
		while (kill(H.broker, SIGHUP) == 0)
			(void)poll(NULL, 0, 1);
		_exit(0);
	}
	for (int i = 0; i < N; i++) {
		pid = h_hello(a, T_MS);
		ck_assert_msg(pid > 0, "client %d: %ld", i, pid);
		ck_assert_int_ne(pid, prev);	/* a daemon of its own */
		prev = pid;
		/* Reaped first: an exit with a client queued is a failure. */
		ck_assert(h_wait_gone((pid_t)pid, T_MS));
	}
	ck_assert_int_eq(kill(storm, SIGKILL), 0);
	ck_assert_int_eq(h_wait_exit(storm, T_MS), 128 + SIGKILL);
	ck_assert(h_pid_alive(H.broker));
	ck_assert_int_eq(h_count_lines(starts), N);
	ck_assert_int_gt(h_log_count(&H, "reload: done"), 0);
	ck_assert_int_eq(h_log_count(&H, "killed by signal"), 0);
	ck_assert_int_eq(h_log_count(&H, "exited with status 6"), 0);
	ck_assert_int_eq(h_log_count(&H, ": exec "), 0);
	snprintf(pidstr, sizeof(pidstr), "%ld", pid);
	h_assert_report(report, "listen_pid", pidstr);
	h_assert_report(report, "blocked_signals", "0");
	h_assert_report(report, "ignored_signals", "0");
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* still serving */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
	free(report);
}
END_TEST

/* 200 clients connect at once to a cold unit: one start, 200 served. */
START_TEST(storm_of_200_connects_makes_one_start)
{
	enum { N = 200 };
	char *b = h_rt("sock-b"), *starts = h_dir("starts");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fds[N], served = 0;

	conf_fake("", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b);
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_msg(connect(fds[i], (struct sockaddr *)&sa,
		    sizeof(sa)) == 0, "connect %d: %s", i, strerror(errno));
	}
	for (int i = 0; i < N; i++) {
		char line[64];

		fcntl(fds[i], F_SETFL, 0);
		if (h_read_line(fds[i], line, sizeof(line), T_MS) > 0 &&
		    strncmp(line, "hello ", 6) == 0)
			served++;
		close(fds[i]);
	}
	ck_assert_int_eq(served, N);
	ck_assert_int_eq(h_count_lines(starts), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(b);
	free(starts);
}
END_TEST

/* A daemon that exits without accepting: bounded retries, then refusal. */
START_TEST(quick_failures_stop_at_the_start_limit)
{
	char *a = h_rt("sock-a"), *starts = h_dir("starts");
	long t0;

	conf_fake("--exit-on-start 6", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	t0 = h_now_ms();
	ck_assert_int_eq(h_hello(a, T_MS), 0);	/* EOF: refused */
	ck_assert_int_lt(h_now_ms() - t0, T_MS);
	ck_assert_int_eq(h_count_lines(starts), 5);
	ck_assert_int_eq(h_log_count(&H, "unit fake: failed: 5 failed "
	    "starts within 10 s (last: exited with status 6)"), 1);
	/* While failed, new clients are refused at once, no new start. */
	ck_assert_int_eq(h_hello(a, T_MS), 0);
	ck_assert_int_eq(h_count_lines(starts), 5);
	ck_assert(h_pid_alive(H.broker));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(starts);
}
END_TEST

START_TEST(crashing_daemon_never_takes_the_broker_down)
{
	char *a = h_rt("sock-a");
	long p1, p2;

	conf_fake("--crash-after 1", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	p1 = h_hello(a, T_MS);
	ck_assert_int_gt(p1, 0);
	ck_assert(h_wait_log(&H, "killed by signal 11", T_MS));
	p2 = h_hello(a, T_MS);
	ck_assert_int_gt(p2, 0);
	ck_assert_int_ne(p1, p2);
	ck_assert(h_pid_alive(H.broker));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(sigterm_stops_daemons_and_removes_only_our_paths)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b"),
	    *c = h_rt("sock-c"), *pidfile = h_rt("virt-broker.pid"),
	    *other = h_rt("not-ours");
	long pid;
	int fd;

	conf_fake("", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	fd = open(other, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert(h_wait_file(pidfile, T_MS));
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(!h_pid_alive((pid_t)pid));
	ck_assert_int_ne(access(a, F_OK), 0);
	ck_assert_int_ne(access(b, F_OK), 0);
	ck_assert_int_ne(access(c, F_OK), 0);
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0);
	free(a);
	free(b);
	free(c);
	free(pidfile);
	free(other);
}
END_TEST

START_TEST(stop_on_exit_no_leaves_the_daemon_on_its_socket)
{
	char *a = h_rt("sock-a");
	long pid;

	conf_fake("", "stop_on_exit = no\n");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_pid_alive((pid_t)pid));
	ck_assert_int_eq(access(a, F_OK), 0);
	ck_assert_int_eq(h_hello(a, T_MS), pid);	/* still serving */
	kill((pid_t)pid, SIGKILL);
	free(a);
}
END_TEST

START_TEST(daemon_ignoring_sigterm_is_killed_after_stop_timeout)
{
	char *a = h_rt("sock-a");
	long pid, t0;

	conf_fake("--ignore-term", "stop_timeout = 1\n");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	t0 = h_now_ms();
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_ge(h_now_ms() - t0, 900);
	ck_assert(!h_pid_alive((pid_t)pid));
	ck_assert_int_eq(h_log_count(&H, "sending SIGKILL"), 1);
	free(a);
}
END_TEST

START_TEST(second_broker_on_the_same_dir_names_the_first)
{
	struct harness second;
	char want[64];
	pid_t pid;

	conf_fake("", "");
	ck_assert_int_eq(h_start_broker(&H), 0);
	second = H;
	snprintf(second.log, sizeof(second.log), "%s/second.log", H.dir);
	pid = h_spawn_broker(&second, -1);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	snprintf(want, sizeof(want), "another virt-broker (pid %ld)",
	    (long)H.broker);
	ck_assert_int_eq(h_log_count(&second, want), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

/* Forks the broker with extra arguments and environment, stderr to log. */
static pid_t
spawn_with(const char *const *args, const char *envvar)
{
	const char *argv[16];
	int n = 0, logfd;
	pid_t pid;

	argv[n++] = getenv("VB_BROKER");
	argv[n++] = "--session";
	argv[n++] = "-f";
	argv[n++] = H.conf;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	logfd = open(H.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_ge(logfd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		setenv("HOME", H.dir, 1);
		if (envvar != NULL)
			putenv((char *)envvar);
		dup2(logfd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	return pid;
}

/* -d: the parent exits 0 only once the sockets exist; --pidfile names
 * the daemon, which SIGTERM stops, removing the pidfile. */
START_TEST(daemon_mode_returns_when_ready_and_writes_the_pidfile)
{
	char *a = h_rt("sock-a"), *pidfile = h_dir("broker.pid");
	const char *args[] = { "-d", "--pidfile", pidfile, NULL };
	pid_t parent;
	long pid = 0;
	FILE *fp;

	conf_fake("", "");
	parent = spawn_with(args, NULL);
	ck_assert_int_eq(h_wait_exit(parent, T_MS), 0);
	ck_assert_int_eq(access(a, F_OK), 0);		/* bound before */
	fp = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	ck_assert_int_ne(pid, parent);
	ck_assert(h_pid_alive((pid_t)pid));
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	kill((pid_t)pid, SIGTERM);
	ck_assert(h_wait_gone((pid_t)pid, T_MS));
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	ck_assert_int_ne(access(a, F_OK), 0);
	free(a);
	free(pidfile);
}
END_TEST

START_TEST(daemon_mode_reports_a_failed_start)
{
	const char *args[] = { "-d", NULL };
	pid_t parent;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\nbogus = 1\n");
	parent = spawn_with(args, NULL);
	ck_assert_int_eq(h_wait_exit(parent, T_MS), 1);
	ck_assert_int_eq(h_log_count(&H, "unknown key 'bogus'"), 1);
}
END_TEST

/* NOTIFY_SOCKET: READY=1 once the sockets are bound. */
START_TEST(notify_socket_gets_ready)
{
	char *ns = h_dir("notify"), *a = h_rt("sock-a"), buf[64], env[600];
	const char *args[] = { NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	ssize_t n;
	int fd;

	conf_fake("", "");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ns);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", ns);
	H.broker = spawn_with(args, env);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, T_MS), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "READY=1");
	ck_assert_int_eq(access(a, F_OK), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	close(fd);
	free(ns);
	free(a);
}
END_TEST

/* A live socket we did not bind blocks its unit only, and stays put. */
START_TEST(live_foreign_socket_blocks_only_its_unit)
{
	char *a = h_rt("sock-a"), *x = h_rt("sock-x");
	struct stat before, after;
	int foreign;

	conf_fake("", "[other]\nexec = /bin/true\nsocket = x.socket sock-x\n");
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	foreign = h_listen_at(a);
	ck_assert_int_eq(lstat(a, &before), 0);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_log_count(&H, "is served by a daemon the broker "
	    "did not start"), 1);
	ck_assert_int_eq(lstat(x, &after), 0);		/* other unit bound */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_eq(lstat(a, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	close(foreign);
	free(a);
	free(x);
}
END_TEST

START_TEST(stale_socket_is_replaced)
{
	char *a = h_rt("sock-a");

	conf_fake("", "");
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	close(h_listen_at(a));		/* bound, nobody listening now */
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(file_or_symlink_at_a_socket_path_is_left_alone)
{
	char *a = h_rt("sock-a"), *b = h_rt("sock-b"),
	    *target = h_dir("target");
	char buf[256];
	ssize_t n;
	int fd;

	conf_fake("", "");
	ck_assert_int_eq(mkdir(H.rt, 0700), 0);
	fd = open(a, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink(target, b), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n"
	    "[one]\nexec = /bin/true\nsocket = a.socket sock-a\n"
	    "[two]\nexec = /bin/true\nsocket = b.socket sock-b\n"
	    "[three]\nexec = /bin/true\nsocket = c.socket sock-c\n");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_log_count(&H, "unit one: "), 1);
	ck_assert_int_eq(h_log_count(&H, "sock-a exists and is not a socket; "
	    "refusing to replace it"), 1);
	ck_assert_int_eq(h_log_count(&H, "sock-b is a symlink we did not "
	    "create"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_eq(access(a, F_OK), 0);
	n = readlink(b, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, target);
	ck_assert_int_ne(access(target, F_OK), 0);	/* not followed */
	free(a);
	free(b);
	free(target);
}
END_TEST

START_TEST(symlinked_runtime_dir_is_refused)
{
	char *elsewhere = h_dir("elsewhere");
	pid_t pid;

	conf_fake("", "");
	ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
	ck_assert_int_eq(symlink(elsewhere, H.rt), 0);
	pid = h_spawn_broker(&H, -1);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	ck_assert_int_eq(h_log_count(&H, "is a symlink; refusing to follow "
	    "it"), 1);
	free(elsewhere);
}
END_TEST

START_TEST(bad_config_names_file_and_line_and_does_not_start)
{
	char want[400];
	pid_t pid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none\n[fake]\n"
	    "exce = /bin/true\nstart = sometimes\n");
	pid = h_spawn_broker(&H, -1);
	ck_assert_int_eq(h_wait_exit(pid, T_MS), 1);
	snprintf(want, sizeof(want), "%s:5: [unit fake] unknown key 'exce'",
	    H.conf);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	snprintf(want, sizeof(want), "%s:6: [unit fake] start: 'sometimes'",
	    H.conf);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert_int_ne(access(H.rt, F_OK), 0);	/* nothing bound */
}
END_TEST

/* What init systems send for their own purposes does not stop the broker. */
START_TEST(init_system_signals_are_ignored)
{
	char *a = h_rt("sock-a"), *report = h_dir("report"), *v;
	const int sigs[] = { SIGUSR1, SIGALRM };	/* SIGUSR2: reexec */

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n[fake]\n"
	    "exec = %s\nargs = --report %s\nsocket = a.socket sock-a\n",
	    h_fake_daemon(), report);
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		ck_assert_int_eq(kill(H.broker, sigs[i]), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* a round trip after them */
	ck_assert(h_pid_alive(H.broker));
	v = h_report_get(report, "ignored_signals");	/* not passed on */
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "0");
	free(v);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
	free(report);
}
END_TEST

static Suite *
broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *act = tcase_create("activation");
	TCase *fail = tcase_create("failures");
	TCase *life = tcase_create("lifecycle");
	TCase *paths = tcase_create("paths");
	TCase *all[] = { act, fail, life, paths };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 60);
	tcase_add_test(act, activation_passes_fds_names_and_own_pid);
	tcase_add_test(act, init_system_signals_are_ignored);
	tcase_add_test(act, sockets_have_their_modes_in_a_private_dir);
	tcase_add_test(act, clients_queued_before_the_start_are_all_served);
	tcase_add_test(act, daemon_exit_rearms_and_next_client_starts_a_new_one);
	tcase_add_test(act, storm_of_200_connects_makes_one_start);
	tcase_add_test(act, sighup_storm_during_spawns_harms_no_daemon);
	tcase_add_test(act, listen_tcp_passes_an_inet_socket_by_name);
	tcase_add_test(act, socket_mode_and_group_apply);
	tcase_add_test(fail, missing_binary_gives_one_clear_error_and_refuses);
	tcase_add_test(fail, unexecutable_binary_gives_the_errno_text);
	tcase_add_test(fail, quick_failures_stop_at_the_start_limit);
	tcase_add_test(fail, crashing_daemon_never_takes_the_broker_down);
	tcase_add_test(life, sigterm_stops_daemons_and_removes_only_our_paths);
	tcase_add_test(life, stop_on_exit_no_leaves_the_daemon_on_its_socket);
	tcase_add_test(life,
	    daemon_ignoring_sigterm_is_killed_after_stop_timeout);
	tcase_add_test(life, second_broker_on_the_same_dir_names_the_first);
	tcase_add_test(life,
	    daemon_mode_returns_when_ready_and_writes_the_pidfile);
	tcase_add_test(life, daemon_mode_reports_a_failed_start);
	tcase_add_test(life, notify_socket_gets_ready);
	tcase_add_test(paths, live_foreign_socket_blocks_only_its_unit);
	tcase_add_test(paths, stale_socket_is_replaced);
	tcase_add_test(paths, file_or_symlink_at_a_socket_path_is_left_alone);
	tcase_add_test(paths, symlinked_runtime_dir_is_refused);
	tcase_add_test(paths, bad_config_names_file_and_line_and_does_not_start);
	return s;
}

int
main(void)
{
	return h_run(broker_suite());
}
