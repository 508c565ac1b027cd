/* SPDX-License-Identifier: MIT */
/*
 * Integration: users' session brokers run by a system broker ([broker]
 * users), as root with a real user made for the test (vb-it-user, and
 * group vb-it-group). The system broker (--system, R in the test's dir)
 * serves the test daemon as virtqemud and runs the user's broker: the
 * real binary, --session, as the user, with the user's own config in the
 * user's home. Asserted: the user's ids, groups, environment and working
 * dir; its sockets are the user's; a killed user's broker is started
 * again; at shutdown the user's broker stops before the system daemons;
 * a user dropped from the group loses their broker at the next reload
 * while the system daemon runs on; a user's symlinks into root's files
 * gain nothing. Root only (useradd); skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS	20000
#define USER	"vb-it-user"
#define GROUP	"vb-it-group"

static struct passwd pw;	/* the user's entry, copied */
static char home[256], urt[300];	/* its home, its R */

static void
run(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

static void
users_setup(void)
{
	const struct passwd *p;
	char *copy;

	h_fixture_setup();
	if (geteuid() != 0)
		return;
	(void)system("pkill -KILL -u " USER " 2>/dev/null; userdel -r "
	    USER " 2>/dev/null; groupdel " GROUP " 2>/dev/null");
	run("groupadd " GROUP " && useradd -m -s /bin/sh -G " GROUP " "
	    USER);
	ck_assert_ptr_nonnull(p = getpwnam(USER));
	pw = *p;
	snprintf(home, sizeof(home), "%s", p->pw_dir);
	snprintf(urt, sizeof(urt), "%s/.cache/libvirt", home);
	/* the broker's binary and the test daemon, where the user reaches */
	copy = h_path(&H, "virt-broker");
	h_copy_file(getenv("VB_BROKER"), copy, 0755);
	setenv("VB_BROKER", copy, 1);
	free(copy);
	copy = h_path(&H, "fake-daemon");
	h_copy_file(h_fake_daemon(), copy, 0755);
	free(copy);
	/* the test daemon under virtqemud's name (guests at shutdown) */
	copy = h_path(&H, "bin");
	ck_assert_int_eq(mkdir(copy, 0755), 0);
	free(copy);
	copy = h_path(&H, "bin/virtqemud");
	h_copy_file(h_fake_daemon(), copy, 0755);
	free(copy);
	/* virt-brokerctl beside the broker, which saves guests */
	copy = h_path(&H, "virt-brokerctl");
	h_copy_file(getenv("VB_BROKERCTL"), copy, 0755);
	free(copy);
	H.system = true;
}

static void
users_teardown(void)
{
	if (geteuid() == 0)
		(void)system("pkill -KILL -u " USER " 2>/dev/null; sleep 0.1; "
		    "userdel -r " USER " 2>/dev/null; groupdel " GROUP
		    " 2>/dev/null");
	h_fixture_teardown();
}

/* The user's own config, written as the user would (then chowned). */
static void
user_conf(void)
{
	char *cmd = NULL;

	ck_assert_int_ge(asprintf(&cmd, "install -d -o " USER " -g " USER
	    " -m 0700 %s/.config %s/.config/virt-broker && printf '[broker]\\n"
	    "search_path = /nonexistent\\npublish = none\\n[virtqemud]\\n"
	    "exec = %s/fake-daemon\\n' > %s/.config/virt-broker/"
	    "virt-broker.conf && chown " USER ": %s/.config/virt-broker/"
	    "virt-broker.conf", home, home, H.dir, home, home), 0);
	run(cmd);
	free(cmd);
}

/* The system broker: virtqemud (the test daemon, at launch), users. */
static void
system_conf(const char *users)
{
	h_write_conf(&H, "[broker]\nruntime_dir = %s/sys\nlog_dir = %s/log\n"
	    "publish = none\nsearch_path = /nonexistent\nusers = %s\n"
	    "[virtqemud]\nexec = %s\nstart = at-launch\n", H.dir, H.dir, users,
	    h_fake_daemon());
}

/* The pid the user's broker wrote in its R, once it is not old. */
static pid_t
user_broker(pid_t old)
{
	char path[400];
	long until = h_now_ms() + T_MS;
	pid_t pid = 0;

	snprintf(path, sizeof(path), "%s/virt-broker.pid", urt);
	do {
		FILE *fp = fopen(path, "r");
		long v = 0;

		if (fp != NULL) {
			if (fscanf(fp, "%ld", &v) != 1)
				v = 0;
			fclose(fp);
		}
		pid = (pid_t)v;
		if (pid > 0 && pid != old && h_pid_alive(pid))
			return pid;
		h_let_run(20);
	} while (h_now_ms() < until);
	ck_abort_msg("no user's broker other than %ld wrote %s", (long)old,
	    path);
	return -1;
}

/* /proc/PID/FILE's line starting with key, or "" (static buffer). */
static const char *
proc_line(pid_t pid, const char *file, const char *key)
{
	static char line[512];
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	line[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL)
		return line;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			break;
		else
			line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/* The environment of pid, NUL-separated entries joined by '\n'. */
static void
proc_environ(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	ck_assert_int_ge(fd = open(path, O_RDONLY | O_CLOEXEC), 0);
	n = read(fd, buf, size - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = '\n';
	buf[n] = '\0';
}

/* Where needle is in file (its first 64 KiB, now), or -1. */
static long
file_offset(const char *file, const char *needle)
{
	char buf[65536];
	FILE *fp = fopen(file, "r");
	size_t n;
	char *at;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	at = strstr(buf, needle);
	return at != NULL ? at - buf : -1;
}

START_TEST(the_users_broker_runs_as_the_user_with_a_login_environment)
{
	char want[600], env[8192], cwd[300], *sys_q = h_path(&H, "sys/"
	    "virtqemud-sock"), *ctl;
	pid_t ub;
	ssize_t n;
	struct stat st;
	long qemud;

	if (geteuid() != 0)
		return;
	user_conf();
	system_conf("@" GROUP);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	snprintf(want, sizeof(want), "Uid:\t%lu\t%lu\t%lu\t%lu",
	    (unsigned long)pw.pw_uid, (unsigned long)pw.pw_uid,
	    (unsigned long)pw.pw_uid, (unsigned long)pw.pw_uid);
	ck_assert_str_eq(proc_line(ub, "status", "Uid:"), want);
	snprintf(want, sizeof(want), "Gid:\t%lu\t%lu\t%lu\t%lu",
	    (unsigned long)pw.pw_gid, (unsigned long)pw.pw_gid,
	    (unsigned long)pw.pw_gid, (unsigned long)pw.pw_gid);
	ck_assert_str_eq(proc_line(ub, "status", "Gid:"), want);
	{
		unsigned long a = pw.pw_gid, b = getgrnam(GROUP)->gr_gid;

		/* the kernel lists them sorted */
		snprintf(want, sizeof(want), "Groups:\t%lu %lu ", a < b ? a : b,
		    a < b ? b : a);
	}
	ck_assert_str_eq(proc_line(ub, "status", "Groups:"), want);
	proc_environ(ub, env, sizeof(env));
	snprintf(want, sizeof(want), "HOME=%s\nUSER=" USER "\nLOGNAME=" USER
	    "\nSHELL=/bin/sh\n", home);
	ck_assert_msg(strncmp(env, "PATH=", 5) == 0 &&
	    strstr(env, want) != NULL && strstr(env, "XDG_") == NULL &&
	    strstr(env, "VB_") == NULL && strstr(env, "LISTEN_") == NULL,
	    "environment:\n%s", env);
	snprintf(want, sizeof(want), "/proc/%ld/cwd", (long)ub);
	n = readlink(want, cwd, sizeof(cwd) - 1);
	ck_assert_int_gt(n, 0);
	cwd[n] = '\0';
	ck_assert_str_eq(cwd, home);
	/* what it made is the user's, from the user's config */
	snprintf(want, sizeof(want), "%s/virtqemud-sock", urt);
	ck_assert(h_wait_file(want, T_MS));
	ck_assert_int_eq(lstat(want, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode) && st.st_uid == pw.pw_uid &&
	    (st.st_mode & 0777) == 0600);
	ck_assert_int_eq(lstat(urt, &st), 0);
	ck_assert(S_ISDIR(st.st_mode) && st.st_uid == pw.pw_uid &&
	    (st.st_mode & 0777) == 0700);
	/* the user's own client reaches the user's daemon, not root's */
	qemud = h_hello(sys_q, T_MS);
	ck_assert_int_gt(qemud, 0);
	ck_assert_int_ne(h_hello(want, T_MS), qemud);
	/* root's virt-brokerctl lists the user's broker */
	ctl = h_path(&H, "sys/virt-broker-ctl-sock");
	{
		char out[8192], cmd[600];
		FILE *fp;
		size_t len;

		snprintf(cmd, sizeof(cmd), "%s -s %s status", getenv(
		    "VB_BROKERCTL"), ctl);
		ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
		len = fread(out, 1, sizeof(out) - 1, fp);
		out[len] = '\0';
		ck_assert_int_eq(pclose(fp), 0);
		snprintf(want, sizeof(want), "user@" USER);
		ck_assert_msg(strstr(out, want) != NULL && strstr(out,
		    "running") != NULL, "%s", out);
		snprintf(want, sizeof(want), " %ld ", (long)ub);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	}
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_wait_gone(ub, T_MS));
	free(ctl);
	free(sys_q);
}
END_TEST

START_TEST(a_killed_users_broker_is_started_again)
{
	pid_t ub, ub2;

	if (geteuid() != 0)
		return;
	user_conf();
	system_conf(USER);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	ck_assert_int_eq(kill(ub, SIGKILL), 0);
	ub2 = user_broker(ub);
	ck_assert_int_ne(ub2, ub);
	ck_assert(h_wait_log(&H, "unit user@" USER ": started", T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

static long log_offset(const char *needle);

START_TEST(a_reexec_keeps_the_users_broker)
{
	char *ctl = h_path(&H, "sys/virt-broker-ctl-sock"), *cmd = NULL;
	pid_t ub;

	if (geteuid() != 0)
		return;
	user_conf();
	system_conf(USER);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	ck_assert_int_ge(asprintf(&cmd, "%s -s %s reexec", getenv(
	    "VB_BROKERCTL"), ctl), 0);
	run(cmd);
	ck_assert(h_wait_log(&H, "unit user@" USER ": pid", T_MS));
	ck_assert_int_ge(log_offset("runs on from before the reexec"), 0);
	ck_assert(h_pid_alive(ub));
	ck_assert_int_lt(log_offset("activation 2"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(h_wait_gone(ub, T_MS));
	free(cmd);
	free(ctl);
}
END_TEST

static bool user_log_has(const char *needle);

/* Where needle is in the user's broker's log (now), or -1. */
static long
user_log_offset(const char *needle)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/log/user@" USER ".log", H.dir);
	return file_offset(path, needle);
}

/*
 * The host's shutdown (virt-brokerctl stop --shutdown): the user's broker
 * hears it (SIGPWR), and runs virt-brokerctl guests-stop for its
 * virtqemud before it stops it. (The test daemon speaks no libvirt: the
 * helper fails, and the broker stops the daemon all the same; the saving
 * itself is e2e users.sh's, with real libvirt.)
 */
START_TEST(the_hosts_shutdown_saves_the_users_guests_before_virtqemud_stops)
{
	char *ctl = h_path(&H, "sys/virt-broker-ctl-sock"), *cmd = NULL;
	long heard, job, done, stop;
	pid_t ub;

	if (geteuid() != 0)
		return;
	ck_assert_int_ge(asprintf(&cmd, "install -d -o " USER " -g " USER
	    " -m 0700 %s/.config %s/.config/virt-broker && printf '[broker]\\n"
	    "search_path = /nonexistent\\npublish = none\\n"
	    "shutdown_timeout = 5\\n[virtqemud]\\nexec = %s/bin/virtqemud\\n"
	    "start = at-launch\\n' > %s/.config/virt-broker/virt-broker.conf",
	    home, home, H.dir, home), 0);
	run(cmd);
	free(cmd);
	system_conf(USER);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	ck_assert(user_log_has("unit virtqemud: started"));
	ck_assert_int_ge(asprintf(&cmd, "%s -s %s stop --shutdown", getenv(
	    "VB_BROKERCTL"), ctl), 0);
	run(cmd);
	ck_assert_int_ge(h_wait_exit(H.broker, T_MS), 0);
	H.broker = -1;
	ck_assert(h_wait_gone(ub, T_MS));
	heard = user_log_offset("SIGPWR: the host shuts down");
	job = user_log_offset("unit virtqemud: the host shuts down: saving its "
	    "guests first (");
	done = user_log_offset("unit virtqemud: guests ");
	stop = user_log_offset("unit virtqemud: stopping pid");
	ck_assert_msg(heard >= 0 && job > heard && done > job && stop > done,
	    "heard %ld, job %ld, done %ld, stop %ld", heard, job, done, stop);
	ck_assert_int_ge(log_offset("stopping pid"), 0);
	ck_assert_int_ge(log_offset("(SIGPWR: the host shuts down)"), 0);
	free(cmd);
	free(ctl);
}
END_TEST

/* Where needle is in the broker's log, or -1. */
static long
log_offset(const char *needle)
{
	return file_offset(H.log, needle);
}

START_TEST(at_shutdown_the_users_broker_stops_before_the_system_daemons)
{
	char want[128];
	pid_t ub;
	long exited, qemud_stop;

	if (geteuid() != 0)
		return;
	user_conf();
	system_conf(USER);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	ck_assert(h_wait_log(&H, "unit virtqemud: started", T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	snprintf(want, sizeof(want), "unit user@" USER ": pid %ld exited",
	    (long)ub);
	exited = log_offset(want);
	qemud_stop = log_offset("unit virtqemud: stopping pid");
	ck_assert_msg(exited >= 0 && qemud_stop > exited, "'%s' at %ld, "
	    "virtqemud's stop at %ld", want, exited, qemud_stop);
}
END_TEST

START_TEST(a_user_dropped_from_the_group_loses_only_their_broker)
{
	char *sys_q = h_path(&H, "sys/virtqemud-sock");
	long qemud;
	pid_t ub;

	if (geteuid() != 0)
		return;
	user_conf();
	system_conf("@" GROUP);
	ck_assert_int_eq(h_start_broker(&H), 0);
	ub = user_broker(0);
	qemud = h_hello(sys_q, T_MS);
	ck_assert_int_gt(qemud, 0);
	run("gpasswd -d " USER " " GROUP " >/dev/null");
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert(h_wait_gone(ub, T_MS));
	ck_assert_int_eq(h_hello(sys_q, T_MS), qemud);	/* the same daemon */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sys_q);
}
END_TEST

/* Does the user's broker's log (its unit's, in log_dir) say needle? */
static bool
user_log_has(const char *needle)
{
	char path[400], buf[16384];
	long until = h_now_ms() + T_MS;

	snprintf(path, sizeof(path), "%s/log/user@" USER ".log", H.dir);
	do {
		FILE *fp = fopen(path, "r");
		size_t n = 0;

		if (fp != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
		}
		buf[n] = '\0';
		if (strstr(buf, needle) != NULL)
			return true;
		h_let_run(50);
	} while (h_now_ms() < until);
	fprintf(stderr, "%s has no '%s':\n%s\n", path, needle, buf);
	return false;
}

/*
 * The user points ~/.cache/libvirt at a root-owned directory, and the
 * config at /etc/shadow: the user's broker, running as the user, fails;
 * root's files are untouched, and the system broker serves on.
 */
START_TEST(a_users_symlinks_to_roots_files_gain_nothing)
{
	char *victim = h_path(&H, "victim"), *sys_q = h_path(&H,
	    "sys/virtqemud-sock"), cmd[1200], vfile[400];
	struct stat before, after;
	long qemud;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(mkdir(victim, 0755), 0);
	snprintf(vfile, sizeof(vfile), "%s/precious", victim);
	{
		FILE *fp = fopen(vfile, "w");

		ck_assert_ptr_nonnull(fp);
		fputs("root's\n", fp);
		fclose(fp);
	}
	ck_assert_int_eq(stat(victim, &before), 0);
	snprintf(cmd, sizeof(cmd), "runuser -u " USER " -- sh -c 'mkdir -p "
	    "%s/.cache %s/.config/virt-broker && ln -s %s %s/.cache/libvirt "
	    "&& ln -s /etc/shadow %s/.config/virt-broker/virt-broker.conf'",
	    home, home, victim, home, home);
	run(cmd);
	system_conf(USER);
	ck_assert_int_eq(h_start_broker(&H), 0);
	/* the user's broker, as the user, cannot read root's file */
	ck_assert(user_log_has("virt-broker.conf: cannot read: Permission "
	    "denied"));
	/* nor, with the link to it gone, use root's directory */
	snprintf(cmd, sizeof(cmd), "rm %s/.config/virt-broker/"
	    "virt-broker.conf", home);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "runtime directory %s/.cache/libvirt is a "
	    "symlink; refusing to follow it", home);
	ck_assert(user_log_has(cmd));
	qemud = h_hello(sys_q, T_MS);
	ck_assert_int_gt(qemud, 0);
	ck_assert_int_eq(stat(victim, &after), 0);
	ck_assert(after.st_mtime == before.st_mtime &&
	    after.st_ino == before.st_ino && after.st_uid == 0 &&
	    (after.st_mode & 07777) == 0755);
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = precious", victim);
	run(cmd);
	ck_assert_int_eq(stat("/etc/shadow", &after), 0);
	ck_assert_int_eq(after.st_uid, 0);
	ck_assert_int_eq(h_hello(sys_q, T_MS), qemud);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(victim);
	free(sys_q);
}
END_TEST

static Suite *
users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");

	tcase_add_checked_fixture(tc, users_setup, users_teardown);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(tc,
	    the_users_broker_runs_as_the_user_with_a_login_environment);
	tcase_add_test(tc, a_killed_users_broker_is_started_again);
	tcase_add_test(tc, a_reexec_keeps_the_users_broker);
	tcase_add_test(tc,
	    at_shutdown_the_users_broker_stops_before_the_system_daemons);
	tcase_add_test(tc, a_user_dropped_from_the_group_loses_only_their_broker);
	tcase_add_test(tc,
	    the_hosts_shutdown_saves_the_users_guests_before_virtqemud_stops);
	tcase_add_test(tc, a_users_symlinks_to_roots_files_gain_nothing);
	return s;
}

int
main(void)
{
	return h_run(users_suite());
}
