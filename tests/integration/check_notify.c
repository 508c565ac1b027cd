/* SPDX-License-Identifier: MIT */
/*
 * Integration: the notify protocol as libvirt 11.x speaks it, with the test
 * daemon playing the part (--notify-reload, --save-ms): a reload counted
 * from RELOADING=1 to READY=1, STOPPING=1 and STATUS= shown by
 * virt-brokerctl, EXTEND_TIMEOUT_USEC holding SIGKILL back while the
 * daemon saves guests, and messages from any other pid ignored. The
 * socket itself is 0600 from its bind on, whatever the umask.
 */
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define T_MS 10000

#define CTL(out, ...) h_ctl_as(-1, out, sizeof(out), \
	(const char *const[]){ __VA_ARGS__, NULL })

/* One unit, "fake", with ARGS and stop_timeout = 1. */
static void
conf_fake(const char *args)
{
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[fake]\nexec = %s\nargs = --notify %s\n"
	    "socket = a.socket sock-a\nstop_timeout = 1\n", h_fake_daemon(),
	    args);
}

/* Polls `status fake` until its output holds needle. */
static bool
wait_status(const char *needle, int timeout_ms)
{
	long until = h_now_ms() + timeout_ms;
	char out[8192];

	do {
		if (CTL(out, "status", "fake") >= 0 && strstr(out, needle))
			return true;
		usleep(20 * 1000);
	} while (h_now_ms() < until);
	return false;
}

static void
send_notify(const char *msg)
{
	char *ns = h_rt("virt-broker-notify-sock");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ns);
	ck_assert_int_eq(sendto(fd, msg, strlen(msg), 0,
	    (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)strlen(msg));
	close(fd);
	free(ns);
}

START_TEST(a_reload_is_counted_from_reloading_to_ready)
{
	char *a = h_rt("sock-a"), out[8192];
	long pid;

	conf_fake("--notify-reload");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	ck_assert_int_eq(kill((pid_t)pid, SIGHUP), 0);
	ck_assert(h_wait_log(&H, "unit fake: pid", T_MS));
	ck_assert(h_wait_log(&H, "reloaded (reload 1)", T_MS));
	ck_assert(wait_status("reloads: 1", T_MS));
	ck_assert_int_eq(CTL(out, "status", "--json"), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"reloads\":1,\"phase\":\"-\""));
	ck_assert_int_eq(kill((pid_t)pid, SIGHUP), 0);
	ck_assert(h_wait_log(&H, "reloaded (reload 2)", T_MS));
	ck_assert_int_eq(h_hello(a, T_MS), pid);	/* the same daemon */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/*
 * stop_timeout = 1 s, the daemon takes 2.5 s to save its guests and asks
 * for more time every 250 ms: it exits by itself, status 0, no SIGKILL;
 * meanwhile status shows it stopping, with its STATUS= line.
 */
START_TEST(extend_timeout_holds_sigkill_back)
{
	char *a = h_rt("sock-a"), out[8192];
	long pid;

	conf_fake("--save-ms 2500");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	ck_assert_int_eq(CTL(out, "stop", "fake"), 0);
	ck_assert(wait_status("daemon status: Saving guests", T_MS));
	ck_assert_int_eq(CTL(out, "status"), 3);	/* not active */
	ck_assert_msg(strstr(out, "stopping") != NULL, "%s", out);
	ck_assert(h_wait_log(&H, "asks for more time to stop", T_MS));
	ck_assert(h_wait_gone((pid_t)pid, T_MS));
	ck_assert(h_wait_log(&H, "unit fake: pid", T_MS));
	ck_assert(wait_status("exited with status 0", T_MS));
	ck_assert(wait_status("daemon status: Guests saved", T_MS));
	ck_assert_int_eq(h_log_count(&H, "sending SIGKILL"), 0);
	ck_assert_int_eq(h_log_count(&H, "asks for more time"), 1);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/* The same daemon without EXTEND_TIMEOUT_USEC: SIGKILL at 1 s. */
START_TEST(without_extend_sigkill_comes_at_stop_timeout)
{
	char *a = h_rt("sock-a"), out[8192];
	long pid, t0;

	conf_fake("--save-ms 8000 --extend-usec 0");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	t0 = h_now_ms();
	ck_assert_int_eq(CTL(out, "stop", "fake"), 0);
	ck_assert(h_wait_log(&H, "sending SIGKILL", T_MS));
	ck_assert(h_wait_gone((pid_t)pid, T_MS));
	ck_assert_int_lt(h_now_ms() - t0, 8000);	/* not its own exit */
	ck_assert(wait_status("killed by signal 9", T_MS));
	ck_assert_int_eq(h_log_count(&H, "asks for more time"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

/* Another process on the notify socket (same uid) changes nothing. */
START_TEST(only_the_daemons_pid_is_believed)
{
	char *a = h_rt("sock-a"), out[8192], msg[128];
	long pid;

	conf_fake("--notify-reload");
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(a, T_MS);
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	snprintf(msg, sizeof(msg), "MAINPID=%ld\nSTOPPING=1\nSTATUS=spoofed\n"
	    "RELOADING=1", pid);
	send_notify(msg);
	send_notify("READY=1");
	/* The daemon's own reload, queued behind them: once it counts, the
	 * spoofed datagrams were read (one socket, in order). */
	ck_assert_int_eq(kill((pid_t)pid, SIGHUP), 0);
	ck_assert(h_wait_log(&H, "reloaded (reload 1)", T_MS));
	ck_assert_int_eq(CTL(out, "status", "fake"), 0);
	ck_assert_ptr_null(strstr(out, "spoofed"));
	ck_assert_ptr_null(strstr(out, "stopping"));
	ck_assert_ptr_null(strstr(out, "reloading"));
	ck_assert_int_eq(h_log_count(&H, "is stopping"), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(a);
}
END_TEST

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/*
 * The broker's stop: virtlogd (stop_on_exit = yes here) gets SIGTERM only
 * once virtqemud, saving guests for 1.5 s, has exited.
 */
START_TEST(virtlogd_stops_after_the_hypervisor_daemon)
{
	char *q = h_rt("virtqemud-sock"), *l = h_rt("virtlogd-sock"), *log;
	const char *exited, *stopping;
	char want[128];
	long qpid, lpid;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "publish = none\n[virtqemud]\nexec = %s\n"
	    "args = --notify --save-ms 1500\n[virtlogd]\nexec = %s\n"
	    "stop_on_exit = yes\n", h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	qpid = h_hello(q, T_MS);
	lpid = h_hello(l, T_MS);
	ck_assert_int_gt(qpid, 0);
	ck_assert_int_gt(lpid, 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	ck_assert(!h_pid_alive((pid_t)qpid) && !h_pid_alive((pid_t)lpid));
	log = slurp(H.log);
	snprintf(want, sizeof(want), "unit virtqemud: pid %ld exited with "
	    "status 0", qpid);
	exited = strstr(log, want);
	stopping = strstr(log, "unit virtlogd: stopping pid");
	ck_assert_msg(exited != NULL, "virtqemud's exit not logged:\n%s", log);
	ck_assert_msg(stopping != NULL, "virtlogd not stopped:\n%s", log);
	ck_assert_msg(exited < stopping, "virtlogd stopped first:\n%s", log);
	free(log);
	free(q);
	free(l);
}
END_TEST

/* argv[1] of this program run as the broker's wrapper (main). */
#define WITHOUT_CHMOD	"--exec-without-chmod"

/* A seccomp filter's pair: syscall nr fails with EPERM. */
#define DENY(nr)							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),		\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

/*
 * chmod() fails with EPERM from now on, here and in whatever this process
 * execs (glibc's chmod is the chmod or the fchmodat syscall, by
 * architecture). The broker runs on the test's architecture: no check of
 * seccomp_data.arch. 0, or -1 if the kernel will not.
 */
static int
deny_chmod(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
#ifdef __NR_chmod
		DENY(__NR_chmod),
#endif
		DENY(__NR_fchmodat),
#ifdef __NR_fchmodat2
		DENY(__NR_fchmodat2),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Does deny_chmod() work here? In a child, tried on a file of the test's. */
static bool
chmod_can_be_denied(void)
{
	char *probe = h_dir("probe");
	FILE *fp = fopen(probe, "w");
	int st;
	pid_t pid;

	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (deny_chmod() < 0)
			_exit(2);
		_exit(chmod(probe, 0600) < 0 && errno == EPERM ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	free(probe);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 1, "chmod() still "
	    "works under the seccomp filter");
	return WEXITSTATUS(st) == 0;
}

/*
 * The notify socket is 0600 from its bind on, under umask 0: the broker
 * runs with chmod() failing (this program as its wrapper), so a chmod
 * after the bind, which leaves a window when others may connect, would
 * leave the socket as umask 0 made it, 0777. Daemons still reach it.
 */
START_TEST(notify_socket_is_0600_from_its_bind_on)
{
	char *a = h_rt("sock-a"), *ns = h_rt("virt-broker-notify-sock"),
	    *ctl = h_rt("virt-broker-ctl-sock"), self[PATH_MAX], *wrapper = NULL;
	const char *outer = getenv("VB_BROKER_WRAPPER");
	struct stat st;
	ssize_t n;
	mode_t mask;

	if (!chmod_can_be_denied()) {
		fprintf(stderr, "notify_socket_is_0600_from_its_bind_on: "
		    "skipped: the kernel takes no seccomp filter\n");
		goto out;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	ck_assert_int_ge(asprintf(&wrapper, "%s %s %s", self, WITHOUT_CHMOD,
	    outer != NULL ? outer : ""), 0);
	conf_fake("");
	mask = umask(0);
	setenv("VB_BROKER_WRAPPER", wrapper, 1);
	ck_assert_int_eq(h_start_broker(&H), 0);
	if (outer != NULL)
		setenv("VB_BROKER_WRAPPER", outer, 1);
	else
		unsetenv("VB_BROKER_WRAPPER");
	umask(mask);
	ck_assert_int_eq(lstat(ns, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(lstat(ctl, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_gt(h_hello(a, T_MS), 0);
	ck_assert(h_wait_log(&H, "ready after", T_MS));
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
out:
	free(a);
	free(ns);
	free(ctl);
	free(wrapper);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	h_add_tcases(s, &tc, 1, 60);
	tcase_add_test(tc, a_reload_is_counted_from_reloading_to_ready);
	tcase_add_test(tc, extend_timeout_holds_sigkill_back);
	tcase_add_test(tc, without_extend_sigkill_comes_at_stop_timeout);
	tcase_add_test(tc, only_the_daemons_pid_is_believed);
	tcase_add_test(tc, virtlogd_stops_after_the_hypervisor_daemon);
	tcase_add_test(tc, notify_socket_is_0600_from_its_bind_on);
	return s;
}

int
main(int argc, char **argv)
{
	/* As the broker's wrapper: WITHOUT_CHMOD COMMAND [ARG...]. */
	if (argc > 2 && strcmp(argv[1], WITHOUT_CHMOD) == 0) {
		if (deny_chmod() < 0) {
			perror("seccomp");
			return 126;
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	}
	return h_run(notify_suite());
}
