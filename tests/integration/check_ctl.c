/* SPDX-License-Identifier: MIT */
/*
 * Integration: virt-brokerctl (VB_BROKERCTL) against the real broker with
 * the test daemon: status in both formats, every command's effect on the
 * processes and sockets, readiness, and the error cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/socket.h>
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
conf_two(const char *extra)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\nargs = --notify --starts %s/starts"
	    "\nsocket = a.socket sock-a\n[other]\nexec = %s\n"
	    "socket = b.socket sock-b\n%s", h_fake_daemon(), H.dir,
	    h_fake_daemon(), extra);
}

/* The pid status shows for a unit, from the JSON. */
static long
json_pid(const char *json, const char *unit)
{
	char key[64];
	const char *p;
	long pid = -1;

	snprintf(key, sizeof(key), "{\"name\":\"%s\"", unit);
	p = strstr(json, key);
	if (p != NULL && (p = strstr(p, "\"pid\":")) != NULL)
		pid = strtol(p + 6, NULL, 10);
	return pid;
}

START_TEST(status_in_both_formats_with_readiness)
{
	char *a = h_rt("sock-a"), out[8192];
	long pid;

	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	ck_assert_int_eq(CTL(out, "status"), 0);
	ck_assert_ptr_nonnull(strstr(out, "UNIT"));
	ck_assert_ptr_nonnull(strstr(out, "running"));
	ck_assert_ptr_nonnull(strstr(out, "yes ("));		/* ready */
	ck_assert_int_eq(CTL(out, "status", "--json"), 0);
	ck_assert_ptr_eq(out, strstr(out, "{\"units\":["));
	ck_assert_int_eq(json_pid(out, "fake"), pid);
	ck_assert_int_eq(json_pid(out, "other"), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"state\":\"listening\""));
	ck_assert_ptr_null(strstr(out, "\"ready_ms\":-1,\"name\":\"fake\""));
	ck_assert_int_eq(CTL(out, "status", "fake"), 0);	/* detail */
	ck_assert_ptr_nonnull(strstr(out, "socket: a.socket "));
	ck_assert_ptr_nonnull(strstr(out, "exec: "));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(commands_act_on_daemons_and_sockets)
{
	char *a = h_rt("sock-a"), out[8192];
	long p1, p2;

	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(CTL(out, "start", "fake"), 0);
	ck_assert(h_wait_log(&H, "unit fake: started", T_MS));
	ck_assert_int_eq(CTL(out, "status", "--json"), 0);
	p1 = json_pid(out, "fake");
	ck_assert_int_gt(p1, 0);
	ck_assert_int_eq(CTL(out, "restart", "fake"), 0);
	ck_assert(h_wait_gone((pid_t)p1, T_MS));
	ck_assert(h_wait_hello(a, &p2, T_MS));
	ck_assert_int_ne(p2, p1);
	ck_assert_int_eq(CTL(out, "stop", "fake"), 0);
	ck_assert(h_wait_gone((pid_t)p2, T_MS));
	ck_assert_int_eq(access(a, F_OK), 0);		/* still bound */
	ck_assert_int_eq(CTL(out, "status", "fake"), 0);	/* listening */
	ck_assert_ptr_nonnull(strstr(out, "listening"));
	ck_assert(h_wait_hello(a, &p1, T_MS));		/* activates again */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

START_TEST(reset_leaves_failed_and_status_says_inactive)
{
	char *b = h_rt("sock-b"), *flag = h_dir("broken"), out[8192];
	long pid;
	int fd;

	fd = open(flag, O_CREAT | O_WRONLY, 0600);
	close(fd);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[other]\nexec = %s\nargs = --fail-while %s\n"
	    "socket = b.socket sock-b\n", h_fake_daemon(), flag);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(h_hello(b, T_MS), 0);		/* crash loop */
	ck_assert_int_eq(CTL(out, "status", "other"), 3);
	ck_assert_ptr_nonnull(strstr(out, "failed"));
	ck_assert_ptr_nonnull(strstr(out, "exited with status 1"));
	unlink(flag);
	ck_assert_int_eq(CTL(out, "reset", "other"), 0);
	ck_assert(h_wait_hello(b, &pid, 2000));		/* before cool-down */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(b);
	free(flag);
}
END_TEST

START_TEST(reload_reports_errors_and_applies_a_good_config)
{
	char *c = h_rt("sock-c"), out[8192], want[512];

	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	conf_two("bogus = 1\n");
	ck_assert_int_eq(CTL(out, "reload"), 1);
	snprintf(want, sizeof(want), "%s:11: [unit other] unknown key "
	    "'bogus'", H.conf);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	conf_two("[third]\nexec = /bin/true\nsocket = c.socket sock-c\n");
	ck_assert_int_eq(CTL(out, "reload"), 0);
	ck_assert_int_eq(access(c, F_OK), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(c);
}
END_TEST

START_TEST(errors_are_clear)
{
	char out[8192], want[512], *sock = h_rt("virt-broker-ctl-sock");
	char *a = h_rt("sock-a");
	int fd;

	ck_assert_int_eq(CTL(out, "status"), 1);	/* no broker */
	snprintf(want, sizeof(want), "no broker is running: nothing listens "
	    "on %s", sock);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(CTL(out, "stop", "nosuch"), 1);
	ck_assert_ptr_nonnull(strstr(out, "unknown unit 'nosuch'"));
	ck_assert_int_eq(CTL(out, "status", "nosuch"), 1);
	/* A malformed request, raw on the socket: an error, no harm. */
	fd = h_connect(sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello broker\n", 13), 13);
	ck_assert_int_gt(h_read_line(fd, out, sizeof(out), T_MS), 0);
	ck_assert_str_eq(out, "ERR malformed%20request\n");
	close(fd);
	fd = h_connect(sock);				/* says nothing */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* still serving */
	ck_assert_int_eq(CTL(out, "status"), 0);
	close(fd);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock);
	free(a);
}
END_TEST

/*
 * Opens the way (0711 dirs, 0666 socket) so another uid reaches the
 * check: the test's dir, R's parent, whatever that is, and R.
 */
static void
open_the_way(const char *sock)
{
	char parent[sizeof(H.rt)];

	snprintf(parent, sizeof(parent), "%s", H.rt);
	*strrchr(parent, '/') = '\0';
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	ck_assert_int_eq(chmod(parent, 0711), 0);
	ck_assert_int_eq(chmod(H.rt, 0711), 0);
	ck_assert_int_eq(chmod(sock, 0666), 0);
}

/*
 * Another uid is refused by SO_PEERCRED even where it reaches the socket,
 * and is told so every time: the broker used to close before the client
 * had written its request, which killed the client with SIGPIPE.
 */
START_TEST(another_uid_is_refused)
{
	char out[8192], *sock = h_rt("virt-broker-ctl-sock");

	if (geteuid() != 0) {
		fprintf(stderr, "another_uid_is_refused: needs root to run the "
		    "client as another uid; checked in CI\n");
		free(sock);
		return;
	}
	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	open_the_way(sock);
	for (int i = 0; i < 50; i++) {
		int st = h_ctl_as(65534, out, sizeof(out),
		    (const char *const[]){ "status", NULL });

		ck_assert_msg(st == 1 && strstr(out, "permission denied") !=
		    NULL, "try %d: exit %d: %s", i, st, out);
	}
	ck_assert(h_wait_log(&H, "control: refused a request from uid 65534",
	    T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock);
}
END_TEST

/*
 * Runs as uid 65534: reads the refusal to its end, and only then writes
 * a request, the slowest client there is. Exits 0 when the write found
 * the broker still there, 2 + the step that failed otherwise.
 */
static noreturn void
late_writer(const char *sock)
{
	char line[256];
	int fd;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(2);
	if ((fd = h_connect(sock)) < 0)
		_exit(3);
	if (h_read_line(fd, line, sizeof(line), T_MS) <= 0 ||
	    strcmp(line, "ERR permission%20denied\n") != 0)
		_exit(4);
	if (h_read_line(fd, line, sizeof(line), T_MS) != 0)	/* EOF */
		_exit(5);
	if (send(fd, "VB1 status\n", 11, MSG_NOSIGNAL) != 11)
		_exit(6);
	_exit(0);
}

/* The refusal is a half-close: the broker still takes the request. */
START_TEST(refused_client_may_write_after_reading_the_refusal)
{
	char *sock = h_rt("virt-broker-ctl-sock");
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "refused_client_may_write_after_reading_the_"
		    "refusal: needs root; checked in CI\n");
		free(sock);
		return;
	}
	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	open_the_way(sock);
	for (int i = 0; i < 10; i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			late_writer(sock);
		ck_assert_int_eq(h_wait_exit(pid, T_MS), 0);
	}
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock);
}
END_TEST

/* n units u00.., each with a long argv, so a detailed status is big. */
static void
conf_many(int n)
{
	char *conf = NULL, say[200];
	size_t size = 0;
	FILE *fp = open_memstream(&conf, &size);

	ck_assert_ptr_nonnull(fp);
	memset(say, 'x', sizeof(say) - 1);
	say[150] = '\0';
	fprintf(fp, "[broker]\nsearch_path = /nonexistent\npublish = none\n");
	for (int i = 0; i < n; i++)
		fprintf(fp, "[u%02d]\nexec = %s\nargs = --say %s\n"
		    "socket = u%02d.socket sock-u%02d\n", i, h_fake_daemon(),
		    say, i, i);
	fclose(fp);
	h_write_conf(&H, "%s", conf);
	free(conf);
}

/* Sends a request line raw; the connected fd. */
static int
raw_request(const char *sock, const char *line)
{
	int fd = h_connect(sock);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, line, strlen(line), MSG_NOSIGNAL),
	    (ssize_t)strlen(line));
	return fd;
}

/* Waits for revents on fd (POLLIN, POLLHUP...) until the deadline. */
static bool
wait_fd(int fd, short events, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		struct pollfd p = { .fd = fd, .events = events };

		if (poll(&p, 1, (int)(end - h_now_ms())) == 1 &&
		    (p.revents & events) != 0)
			return true;
	} while (h_now_ms() < end);
	return false;
}

/*
 * A client that asks for a big status and never reads it holds nobody
 * up: the broker queues the reply, serves others at once, and drops the
 * silent client after its deadline.
 */
START_TEST(a_client_that_does_not_read_holds_nobody_up)
{
	char *sock = h_rt("virt-broker-ctl-sock"), line[8192], req[4096];
	size_t len;
	long t0;
	int stuck, other, n;

	conf_many(100);
	ck_assert_int_eq(h_start_broker(&H), 0);
	/* Every unit in detail, ten times over: far more than fits. */
	len = (size_t)snprintf(req, sizeof(req), "VB1 status");
	for (int i = 0; len + 5 < sizeof(req) - 1; i = (i + 1) % 100)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    " u%02d", i);
	req[len++] = '\n';
	req[len] = '\0';
	stuck = raw_request(sock, req);
	ck_assert(wait_fd(stuck, POLLIN, T_MS));	/* it is replying */
	t0 = h_now_ms();
	other = raw_request(sock, "VB1 status\n");
	do {
		n = h_read_line(other, line, sizeof(line), 3000);
		ck_assert_msg(n > 0, "status blocked by a client that does "
		    "not read (%d after %ld ms)", n, h_now_ms() - t0);
	} while (strcmp(line, "OK\n") != 0);
	ck_assert_int_lt(h_now_ms() - t0, 3000);
	close(other);
	/* The silent client is dropped, not kept for ever. */
	ck_assert(wait_fd(stuck, POLLHUP, 30000));
	ck_assert(h_wait_log(&H, "control: dropped a client", T_MS));
	close(stuck);
	ck_assert_int_eq(CTL(line, "status"), 0);	/* still serving */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock);
}
END_TEST

/*
 * The broker removes its sockets at exit, but not what replaced them: a
 * path is only unlinked while it is still the socket it bound.
 */
START_TEST(replaced_sockets_survive_the_broker)
{
	char *ctl = h_rt("virt-broker-ctl-sock");
	char *ntf = h_rt("virt-broker-notify-sock");
	char *tmp_sock = h_rt("foreign-sock"), *tmp_file = h_rt("foreign-file");
	ino_t ino;
	int lfd, fd;

	conf_two("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	/*
	 * Each put in place by rename(), in one step: an unlink first would
	 * let the broker, which binds its removed sockets again, win a race.
	 */
	lfd = h_listen_at(tmp_sock);		/* a foreign socket */
	ino = h_inode(tmp_sock);
	ck_assert_int_eq(rename(tmp_sock, ctl), 0);
	fd = open(tmp_file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);	/* file */
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rename(tmp_file, ntf), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_eq(h_inode(ctl), ino);
	ck_assert_int_eq(access(ntf, F_OK), 0);
	close(lfd);
	/* Its own sockets it does remove. */
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(unlink(ntf), 0);	/* a file is not replaced */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert_int_ne(access(ctl, F_OK), 0);
	ck_assert_int_ne(access(ntf, F_OK), 0);
	free(ctl);
	free(ntf);
	free(tmp_sock);
	free(tmp_file);
}
END_TEST

/*
 * A runtime dir too long for sun_path (107 bytes and a NUL) costs the
 * control and notify sockets: the log says so, naming path and limit.
 * runtime_dir= is at most 80 bytes, too short to overflow (80 + 24 for
 * "/virt-broker-notify-sock" = 104), so a long XDG_RUNTIME_DIR does it.
 */
START_TEST(a_runtime_dir_too_long_for_sockets_is_reported)
{
	char want[512], *ctl, *ntf, *a = h_dir("sock-a");
	int len;

	len = snprintf(H.xdg, sizeof(H.xdg), "%s/%075d", H.dir, 0);
	ck_assert_int_lt(len, (int)sizeof(H.xdg));
	snprintf(H.rt, sizeof(H.rt), "%s/libvirt", H.xdg);
	ck_assert_int_eq(mkdir(H.xdg, 0700), 0);
	ctl = h_rt("virt-broker-ctl-sock");
	ntf = h_rt("virt-broker-notify-sock");
	ck_assert_uint_gt(strlen(ctl), 107);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "runtime_dir = xdg\npublish = none\n[fake]\nexec = %s\n"
	    "socket = a.socket %s\n", h_fake_daemon(), a);
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(want, sizeof(want), "control socket %s: the path is %zu "
	    "bytes, over the 107 a UNIX socket address holds; virt-brokerctl "
	    "cannot reach this broker", ctl, strlen(ctl));
	ck_assert_msg(h_wait_log(&H, want, T_MS), "no '%s'", want);
	snprintf(want, sizeof(want), "notify socket %s: the path is %zu "
	    "bytes, over the 107 a UNIX socket address holds; daemons' "
	    "readiness is not reported", ntf, strlen(ntf));
	ck_assert_msg(h_wait_log(&H, want, T_MS), "no '%s'", want);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* still serving */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(ctl);
	free(ntf);
	free(a);
}
END_TEST

/* A unit with an admin socket, as libvirt's daemons have; extra args. */
static void
conf_admin(const char *args)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fakeadm]\nexec = %s\nargs = --starts %s/starts"
	    " %s\nsocket = fakeadm.socket sock-f\n"
	    "socket = fakeadm-admin.socket sock-f-admin\n", h_fake_daemon(),
	    H.dir, args);
}

/*
 * The CLIENTS column of unit in the table, or -1: UNIT STATE PID SINCE ACT
 * CLIENTS ..., SINCE being a date and a time, or "-".
 */
static long
table_clients(const char *table, const char *unit)
{
	char line[512], *tok[8], *save = NULL;
	const char *p = table;
	size_t len = strlen(unit), n = 0;

	while (p != NULL && (strncmp(p, unit, len) != 0 || p[len] != ' '))
		p = (p = strchr(p, '\n')) != NULL ? p + 1 : NULL;
	if (p == NULL)
		return -1;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	for (char *t = strtok_r(line, " ", &save); t != NULL && n < 8;
	    t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	if (n < 7)
		return -1;
	return strtol(tok[strcmp(tok[3], "-") == 0 ? 5 : 6], NULL, 10);
}

/*
 * Asking about a unit that only listens must not start it: its admin
 * socket is the broker's, and a connection there is a client.
 */
START_TEST(an_idle_units_admin_socket_is_never_connected)
{
	char out[8192], *starts = h_dir("starts");

	conf_admin("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(CTL(out, "status", "fakeadm"), 0);
		ck_assert_msg(strstr(out, "admin: not asked: fakeadm is "
		    "listening") != NULL, "%s", out);
	}
	ck_assert_int_eq(CTL(out, "status", "--json", "fakeadm"), 0);
	ck_assert_msg(strstr(out, "\"activations\":0,") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"clients\":0,\"admin\":null") != NULL,
	    "%s", out);
	ck_assert_int_eq(CTL(out, "status"), 0);
	ck_assert_int_eq(table_clients(out, "fakeadm"), 0);
	ck_assert_int_eq(CTL(out, "debug", "fakeadm"), 3);
	ck_assert_msg(strstr(out, "fakeadm is listening, not running") !=
	    NULL, "%s", out);
	ck_assert_int_eq(access(starts, F_OK), -1);	/* never started */
	ck_assert_int_eq(CTL(out, "status", "--json"), 0);
	ck_assert_msg(strstr(out, "\"pid\":0,") != NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(starts);
}
END_TEST

/*
 * Clients queued for a daemon that never accepts are counted from the
 * kernel's table, without a connection; its admin socket does not answer
 * either: reported after the timeout, not waited for.
 */
START_TEST(clients_are_counted_and_a_silent_daemon_is_reported)
{
	char out[8192], *f = h_rt("sock-f"), *stall = h_dir("stall");
	char args[512];
	int fd[2];
	long t0;

	snprintf(args, sizeof(args), "--stall-once %s", stall);
	conf_admin(args);
	ck_assert_int_eq(h_start_broker(&H), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_ge(fd[i] = h_connect(f), 0);
	ck_assert(h_wait_file(stall, T_MS));	/* started, stalls */
	ck_assert_int_eq(CTL(out, "status"), 0);
	ck_assert_msg(table_clients(out, "fakeadm") == 2, "%s", out);
	t0 = h_now_ms();
	ck_assert_int_eq(CTL(out, "status", "fakeadm"), 0);
	ck_assert_int_lt(h_now_ms() - t0, 6000);
	ck_assert_msg(strstr(out, "  clients: 2 connected or queued") != NULL,
	    "%s", out);
	if (strstr(out, "admin: built without libvirt-admin") == NULL)
		ck_assert_msg(strstr(out, "no answer on its admin socket") !=
		    NULL && strstr(out, "within 3 s: is it hung?") != NULL,
		    "%s", out);
	close(fd[0]);
	close(fd[1]);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(f);
	free(stall);
}
END_TEST

/*
 * A daemon that answers something else than libvirt's protocol gives an
 * error naming the socket; one stopped by SIGSTOP, a timeout that says so.
 */
START_TEST(a_wrong_or_stopped_daemon_is_reported_in_time)
{
	char out[8192], out2[4096], *f = h_rt("sock-f");
	char *adm = h_rt("sock-f-admin"), want[512];
	long pid, t0;
	int rc;

	conf_admin("");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(f, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(CTL(out, "status", "fakeadm"), 0);
	if (strstr(out, "admin: built without libvirt-admin") != NULL) {
		ck_assert_int_eq(CTL(out, "debug", "fakeadm"), 1);
		ck_assert_ptr_nonnull(strstr(out, "built without "
		    "libvirt-admin"));
		goto out;
	}
	snprintf(want, sizeof(want), "admin: fakeadm: admin socket %s: ", adm);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_int_eq(kill((pid_t)pid, SIGSTOP), 0);
	t0 = h_now_ms();
	ck_assert_int_eq(CTL(out, "status", "fakeadm"), 0);
	rc = CTL(out2, "debug", "fakeadm");
	kill((pid_t)pid, SIGCONT);
	ck_assert_int_lt(h_now_ms() - t0, 2 * 3000 + 4000);
	snprintf(want, sizeof(want), "fakeadm (pid %ld): no answer on its "
	    "admin socket %s within 3 s: the process is stopped", pid, adm);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out2, want) != NULL, "%s", out2);
out:
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(f);
	free(adm);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("ctl");

	h_add_tcases(s, &tc, 1, 60);
	tcase_add_test(tc, status_in_both_formats_with_readiness);
	tcase_add_test(tc, commands_act_on_daemons_and_sockets);
	tcase_add_test(tc, reset_leaves_failed_and_status_says_inactive);
	tcase_add_test(tc, reload_reports_errors_and_applies_a_good_config);
	tcase_add_test(tc, errors_are_clear);
	tcase_add_test(tc, another_uid_is_refused);
	tcase_add_test(tc, refused_client_may_write_after_reading_the_refusal);
	tcase_add_test(tc, a_client_that_does_not_read_holds_nobody_up);
	tcase_add_test(tc, replaced_sockets_survive_the_broker);
	tcase_add_test(tc, a_runtime_dir_too_long_for_sockets_is_reported);
	tcase_add_test(tc, an_idle_units_admin_socket_is_never_connected);
	tcase_add_test(tc, clients_are_counted_and_a_silent_daemon_is_reported);
	tcase_add_test(tc, a_wrong_or_stopped_daemon_is_reported_in_time);
	return s;
}

int
main(void)
{
	return h_run(ctl_suite());
}
