/* SPDX-License-Identifier: MIT */
/*
 * Integration, a second local user against a session broker (issue 10):
 * uid 65534 tries every path the broker made (R's sockets, the control
 * and notify sockets, the published links, the daemons' log files) and
 * gets nothing; where the way is opened on purpose (a failed unit's socket
 * made 0666, the control socket), its storms neither stop the broker
 * serving another client nor flood the log. Needs root, to be the other
 * user; the broker runs as the test's user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS	10000
#define OTHER	65534

static bool
need_root(const char *test)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "%s: needs root to act as another user; checked in "
	    "CI\n", test);
	return false;
}

/* In a child as OTHER: errno of connecting (stream or datagram) to path. */
static int
errno_as_other(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int st;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd, r;

		if (setgroups(0, NULL) < 0 || setgid(OTHER) < 0 ||
		    setuid(OTHER) < 0)
			_exit(255);
		if (type == 0) {	/* a file: open it */
			fd = open(path, O_RDONLY | O_CLOEXEC);
			_exit(fd >= 0 ? 0 : errno);
		}
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (type == SOCK_DGRAM)
			r = (int)sendto(fd, "READY=1", 7, 0,
			    (struct sockaddr *)&sa, sizeof(sa));
		else
			r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		_exit(r >= 0 ? 0 : errno);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
assert_refused(const char *path, int type)
{
	int e = errno_as_other(path, type);

	ck_assert_msg(e == EACCES || e == ENOENT, "uid %d reached %s (%s)",
	    OTHER, path, e == 0 ? "no error" : strerror(e));
}

/*
 * Every path the broker made is out of reach, even with the user's home
 * and cache dir traversable by all (0711, common): R is 0700 and its
 * sockets 0600; the published place likewise.
 */
START_TEST(another_user_reaches_nothing)
{
	char *a = h_rt("sock-a"), *ctl = h_rt("virt-broker-ctl-sock"),
	    *ntf = h_rt("virt-broker-notify-sock"), *cache = h_dir(".cache"),
	    *logf = h_dir("log/fake.log"), *link, *logd = h_dir("log");
	struct stat st;

	if (!need_root("another_user_reaches_nothing"))
		goto out;
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "log_dir = %s\n[fake]\nexec = %s\nargs = --say hello\n"
	    "socket = a.socket sock-a\n"
	    "log = file\n", logd, h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* a log file exists now */
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	ck_assert_int_eq(chmod(cache, 0711), 0);
	ck_assert_int_eq(chmod(H.xdg, 0711), 0);
	ck_assert_int_eq(stat(H.rt, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(asprintf(&link, "%s/libvirt/sock-a", H.xdg) > 0, 1);
	ck_assert(h_wait_file(link, T_MS));
	assert_refused(a, SOCK_STREAM);
	assert_refused(ctl, SOCK_STREAM);
	assert_refused(ntf, SOCK_DGRAM);
	assert_refused(link, SOCK_STREAM);
	ck_assert(h_wait_file(logf, T_MS));
	assert_refused(logf, 0);
	ck_assert_int_gt(h_hello(a, T_MS), 0);	/* still serving */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(link);
out:
	free(a);
	free(ctl);
	free(ntf);
	free(cache);
	free(logf);
	free(logd);
}
END_TEST

/* In a child as OTHER: n connects to path, each closed at once. */
static pid_t
storm_as_other(const char *path, int n, const char *say)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(OTHER) < 0 ||
		    setuid(OTHER) < 0)
			_exit(255);
		for (int i = 0; i < n; i++) {
			int fd = h_connect(path);

			if (fd >= 0) {
				if (say != NULL)
					(void)!write(fd, say, strlen(say));
				close(fd);
			}
		}
		_exit(0);
	}
	return pid;
}

/*
 * The way opened on purpose (as socket_mode = 0666 opens a socket in
 * system mode): 2000 connects to a failed unit and 500 to the control
 * socket, while the test's user is served throughout and asks the broker
 * for its status; the log gets one refusal line, not one per connect.
 */
START_TEST(storms_do_not_stop_service_nor_flood_the_log)
{
	char *bad = h_rt("sock-bad"), *good = h_rt("sock-good"),
	    *ctl = h_rt("virt-broker-ctl-sock"), *cache = h_dir(".cache"),
	    out[8192];
	pid_t s1, s2;
	int st, lines, served = 0;
	long end;

	if (!need_root("storms_do_not_stop_service_nor_flood_the_log"))
		goto out;
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[bad]\nexec = %s\nargs = --exit-on-start 1\n"
	    "socket = bad.socket sock-bad\nstart_limit_burst = 1\n"
	    "failed_cooldown = 600\n[good]\nexec = %s\n"
	    "socket = good.socket sock-good\n", h_fake_daemon(),
	    h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	ck_assert_int_eq(chmod(cache, 0711), 0);
	ck_assert_int_eq(chmod(H.rt, 0711), 0);
	ck_assert_int_eq(chmod(bad, 0666), 0);
	ck_assert_int_eq(chmod(ctl, 0666), 0);
	close(h_connect(bad));			/* its one start fails */
	ck_assert(h_wait_log(&H, "unit bad: starting -> failed", T_MS) ||
	    h_wait_log(&H, "-> failed", T_MS));
	s1 = storm_as_other(bad, 2000, NULL);
	s2 = storm_as_other(ctl, 500, "status\n");
	end = h_now_ms() + 4 * T_MS;
	while (h_now_ms() < end) {
		pid_t w1 = waitpid(s1, &st, WNOHANG);
		long p = h_hello(good, T_MS);

		ck_assert_msg(p > 0, "good not served during the storms");
		served++;
		if (w1 == s1) {
			s1 = -1;
			break;
		}
	}
	ck_assert_msg(s1 == -1, "the storm on the failed unit did not end");
	ck_assert_int_eq(waitpid(s2, &st, 0), s2);
	ck_assert_int_eq(h_ctl_as(-1, out, sizeof(out),
	    (const char *const[]){ "status", NULL }), 3);	/* bad failed */
	ck_assert_msg(strstr(out, "good") != NULL, "%s", out);
	lines = h_log_count(&H, "unit bad: refused");
	ck_assert_msg(lines >= 1 && lines <= 2, "%d refusal lines", lines);
	ck_assert_int_gt(served, 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
out:
	free(bad);
	free(good);
	free(ctl);
	free(cache);
}
END_TEST

/*
 * Root's virt-brokerctl against a user's broker: a fake one, run as OTHER,
 * answers each request with what the case says (a broker's reply is the
 * user's to forge: trust.h in ctl/). A case is a few lines: the
 * reply, the command, its exit status, text its output must have and text
 * it must never have.
 */
struct ctl_case {
	const char	*reply;		/* NULL: never answers */
	unsigned	 repeat;	/* the reply this many times (0: once) */
	const char	*args[6];	/* after -s SOCKET */
	int		 status;	/* 3: a unit not "running" */
	const char	*want;		/* in the output */
	const char	*never;		/* never in the output */
};

#define UNIT_LINE(state) "unit name=virtqemud state=" state " pid=1 " \
	"since=0 activations=1 last=- ready_ms=1 reloads=0 phase=- status=\n"

static const struct ctl_case ctl_cases[] = {
	/* 0. debug acts only as the broker's own user. */
	{ UNIT_LINE("running") "OK\n", 0, { "debug", "virtqemud", "off" }, 1,
	    "debug acts only as the broker's own user", NULL },
	/* 1. a unit "name" that is a path names no file and no URI. */
	{ "unit name=x/../../etc/profile state=running pid=1\nOK\n", 0,
	    { "status" }, 1, "which is not a unit name", NULL },
	/* 2. escape sequences and carriage returns reach no terminal. */
	{ UNIT_LINE("running\x1b]0;owned\x07\x1b[2J\rFORGED") "OK\n", 0,
	    { "status" }, 3, "running\\x1b]0;owned\\x07\\x1b[2J\\x0dFORGED",
	    "\x1b" },
	/* 3. ... nor C1 controls (U+009B is a CSI to some terminals). */
	{ UNIT_LINE("running\xc2\x9b" "2J") "OK\n", 0, { "status" }, 3,
	    "running\\u009b2J", "\xc2\x9b" },
	/* 4. ... and JSON escapes every control character. */
	{ UNIT_LINE("running\x7f\xc2\x9b") "OK\n", 0, { "status", "--json" },
	    3, "running\\u007f\\u009b", "\x7f" },
	/* 5. a reply over 1 MiB ends the command, not the machine. */
	{ "tail line=0123456789012345678901234567890123456789012345678901"
	  "2345678901234567890123456789012345678901234567890123456789\n",
	  20000, { "status" }, 1, "the reply is over 1048576 bytes", NULL },
	/* 6. a broker that never answers: --timeout. */
	{ NULL, 0, { "--timeout", "1", "status" }, 1,
	    "no answer within 1 s", NULL },
	/* 7. the log file is the user's: root's files are not read. */
	{ UNIT_LINE("running") "log unit=virtqemud dest=file "
	  "path=/etc/shadow\nOK\n", 0, { "log", "virtqemud" }, 1,
	  "not a regular file of the broker's user", "root:" },
};

/* As OTHER, at path: answers every request with c's reply. */
static pid_t
fake_broker(const char *path, const struct ctl_case *c)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int l, k;

		if (setgroups(0, NULL) < 0 || setgid(OTHER) < 0 ||
		    setuid(OTHER) < 0)
			_exit(126);
		/* A client that stops reading (a reply too big) is no end. */
		signal(SIGPIPE, SIG_IGN);
		l = h_listen_at(path);
		while ((k = accept(l, NULL, NULL)) >= 0) {
			char buf[4096];

			(void)!read(k, buf, sizeof(buf));
			if (c->reply == NULL)
				continue;	/* k stays open: silence */
			for (unsigned i = 0; i < (c->repeat ? c->repeat : 1);
			    i++)
				if (write(k, c->reply, strlen(c->reply)) < 0)
					break;
			close(k);
		}
		_exit(0);
	}
	ck_assert(h_wait_file(path, T_MS));
	return pid;
}

START_TEST(roots_brokerctl_trusts_nothing_of_a_users_broker)
{
	const struct ctl_case *c = &ctl_cases[_i];
	char *dir = h_dir("fake"), *sock = h_dir("fake/ctl-sock");
	char out[16384];
	const char *args[10] = { "-s", sock };
	size_t n = 2;
	pid_t fake;
	int st;

	if (!need_root("roots_brokerctl_trusts_nothing"))
		return;
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chown(dir, OTHER, OTHER), 0);
	fake = fake_broker(sock, c);
	for (size_t i = 0; i < 6 && c->args[i] != NULL; i++)
		args[n++] = c->args[i];
	args[n] = NULL;
	st = h_ctl_as(-1, out, sizeof(out), args);
	kill(fake, SIGKILL);
	ck_assert_int_eq(h_wait_exit(fake, T_MS), 128 + SIGKILL);
	ck_assert_msg(st == c->status, "case %d: status %d, not %d: %s", _i,
	    st, c->status, out);
	ck_assert_msg(strstr(out, c->want) != NULL, "case %d: no '%s' in: %s",
	    _i, c->want, out);
	ck_assert_msg(c->never == NULL || strstr(out, c->never) == NULL,
	    "case %d: '%s' in: %s", _i, c->never, out);
	free(dir);
	free(sock);
}
END_TEST

/*
 * The admin socket a user's broker names is asked only if the broker (or
 * the unit's daemon) serves it: here root's own listener stands for the
 * system daemon's admin socket, as a link in R would reach it.
 */
START_TEST(an_admin_socket_the_broker_does_not_serve_is_not_asked)
{
	char *dir = h_dir("fake"), *sock = h_dir("fake/ctl-sock"),
	    *adm = h_dir("system-admin-sock"), reply[2048], out[16384];
	struct ctl_case c = { .reply = reply };
	pid_t fake;
	int l, st;

	if (!need_root("an_admin_socket_the_broker_does_not_serve"))
		return;
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chown(dir, OTHER, OTHER), 0);
	l = h_listen_at(adm);
	/* Its own pid is a live one for the unit's "daemon". */
	snprintf(reply, sizeof(reply), "unit name=virtqemud state=running "
	    "pid=%ld since=0 activations=1 last=- ready_ms=1 reloads=0 "
	    "phase=- status=\nsocket unit=virtqemud "
	    "name=virtqemud-admin.socket path=%s\nOK\n", (long)getpid(), adm);
	fake = fake_broker(sock, &c);
	st = h_ctl_as(-1, out, sizeof(out), (const char *const[]){ "-s", sock,
	    "status", "virtqemud", NULL });
	kill(fake, SIGKILL);
	ck_assert_int_eq(h_wait_exit(fake, T_MS), 128 + SIGKILL);
	ck_assert_msg(st == 0, "status %d: %s", st, out);
	snprintf(reply, sizeof(reply), "admin: not asked: %s is served by "
	    "pid %ld of uid 0, not by the broker", adm, (long)getpid());
	ck_assert_msg(strstr(out, reply) != NULL, "%s", out);
	st = h_ctl_as(-1, out, sizeof(out), (const char *const[]){ "-s", sock,
	    "debug", "virtqemud", NULL });
	ck_assert_int_ne(st, 0);
	close(l);
	free(dir);
	free(sock);
	free(adm);
}
END_TEST

/*
 * Where a published place is another user's (a /tmp/UID-runtime-dir that
 * user made first), the daemon named virtqemud serving a socket there is
 * theirs: the broker neither adopts it nor links R to it, and R's clients
 * reach the broker's own daemon.
 */
START_TEST(another_users_planted_daemon_is_not_adopted)
{
	char *x = h_dir("xdg-of-other"), *pub = h_dir("xdg-of-other/libvirt"),
	    *planted = h_dir("xdg-of-other/libvirt/virtqemud-sock"),
	    *bin = h_dir("virtqemud"), *sock = h_rt("virtqemud-sock"),
	    cmd[4400], want[600];
	struct stat st;
	long served;
	pid_t other;

	if (!need_root("another_users_planted_daemon_is_not_adopted"))
		return;
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", h_fake_daemon(), bin);
	ck_assert_int_eq(system(cmd), 0);	/* reachable by OTHER */
	ck_assert_int_eq(mkdir(x, 0755), 0);
	ck_assert_int_eq(mkdir(pub, 0755), 0);
	ck_assert_int_eq(chown(x, OTHER, OTHER), 0);
	ck_assert_int_eq(chown(pub, OTHER, OTHER), 0);
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		if (setgroups(0, NULL) < 0 || setgid(OTHER) < 0 ||
		    setuid(OTHER) < 0)
			_exit(126);
		execl(bin, "virtqemud", "--listen", planted, (char *)NULL);
		_exit(127);
	}
	ck_assert(h_wait_hello(planted, &served, T_MS));
	ck_assert_int_eq(served, other);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = %s\n[virtqemud]\nexec = %s\n"
	    "socket = virtqemud.socket virtqemud-sock\n", pub, bin);
	ck_assert_int_eq(h_start_broker(&H), 0);
	snprintf(want, sizeof(want), "unit virtqemud: %s is served by pid %ld "
	    "(listener uid %d), not a daemon of ours: its listener is uid %d; "
	    "not adopted, never linked to", planted, (long)other, OTHER, OTHER);
	ck_assert(h_wait_log(&H, want, T_MS));
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert_msg(S_ISSOCK(st.st_mode), "%s is not the broker's socket",
	    sock);
	ck_assert(h_wait_hello(sock, &served, T_MS));
	ck_assert_int_ne(served, other);	/* the broker's own daemon */
	ck_assert_int_eq(h_log_count(&H, "adopted pid"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	kill(other, SIGKILL);
	ck_assert_int_eq(h_wait_exit(other, T_MS), 128 + SIGKILL);
	free(x);
	free(pub);
	free(planted);
	free(bin);
	free(sock);
}
END_TEST

static Suite *
attacker_suite(void)
{
	Suite *s = suite_create("attacker");
	TCase *tc = tcase_create("attacker");

	h_add_tcases(s, &tc, 1, 120);
	tcase_add_test(tc, another_user_reaches_nothing);
	tcase_add_test(tc, storms_do_not_stop_service_nor_flood_the_log);
	tcase_add_loop_test(tc, roots_brokerctl_trusts_nothing_of_a_users_broker,
	    0, (int)(sizeof(ctl_cases) / sizeof(ctl_cases[0])));
	tcase_add_test(tc, an_admin_socket_the_broker_does_not_serve_is_not_asked);
	tcase_add_test(tc, another_users_planted_daemon_is_not_adopted);
	return s;
}

int
main(void)
{
	return h_run(attacker_suite());
}
