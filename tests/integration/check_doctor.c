/* SPDX-License-Identifier: MIT */
/*
 * Integration: virt-brokerctl doctor against the real broker. Each bad
 * state is made for real and its line and fix asserted, then undone and
 * the line gone: no broker; a broker serving, its link published; a daemon
 * a client's autospawn started beside it (a copy of the test daemon named
 * virtqemud, run as libvirt runs one: --timeout=120); XDG_RUNTIME_DIR unset,
 * and open to others; a hard core limit of 0 until qemu.conf sets
 * max_core. --json carries the same findings.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "version.h"

#define T_MS 10000

static bool core0;	/* doctor() runs with a hard core limit of 0 */
static bool hide_fw;	/* doctor() runs with the host's firmware hidden */

/*
 * virt-brokerctl --session doctor [--json] with HOME = the test's and
 * XDG_RUNTIME_DIR = xdg (NULL: unset): its exit status, output in out.
 */
static int
doctor(const char *xdg, bool json, char *out, size_t size)
{
	const char *ctl = getenv("VB_BROKERCTL");
	int p[2];
	pid_t pid;

	ck_assert_ptr_nonnull(ctl);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (xdg != NULL)
			setenv("XDG_RUNTIME_DIR", xdg, 1);
		else
			unsetenv("XDG_RUNTIME_DIR");
		setenv("HOME", H.dir, 1);
		unsetenv("XDG_CACHE_HOME");
		unsetenv("XDG_CONFIG_HOME");
		unsetenv("XDG_DATA_HOME");
		unsetenv("FLATPAK_USER_DIR");
		setenv("FLATPAK_SYSTEM_DIR", H.dir, 1);	/* none of the host's */
		if (core0) {
			struct rlimit rl = { 0, 0 };

			if (setrlimit(RLIMIT_CORE, &rl) < 0)
				_exit(126);
		}
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (hide_fw) {
			/* a host without OVMF: empty dirs over QEMU's own */
			const char *argv[16];
			int n = 0;

			argv[n++] = "bwrap";
			argv[n++] = "--dev-bind";
			argv[n++] = "/";
			argv[n++] = "/";
			if (access("/usr/share/qemu", F_OK) == 0) {
				argv[n++] = "--tmpfs";
				argv[n++] = "/usr/share/qemu";
			}
			if (access("/etc/qemu", F_OK) == 0) {
				argv[n++] = "--tmpfs";
				argv[n++] = "/etc/qemu";
			}
			argv[n++] = ctl;
			argv[n++] = "--session";
			argv[n++] = "doctor";
			argv[n] = NULL;
			execvp("bwrap", (char *const *)argv);
			_exit(127);
		}
		execl(ctl, ctl, "--session", "doctor", json ? "--json" : NULL,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	return h_child_output(pid, p[0], out, size);
}

/* Does a line of doctor's output say fail? */
static bool
fails(const char *out)
{
	return strncmp(out, "fail ", 5) == 0 || strstr(out, "\nfail ") != NULL;
}

/* A broker whose virtqemud unit is the test daemon; its link in P. */
static void
start_with_virtqemud(void)
{
	char *p = h_path(&H, "run/libvirt/virtqemud-sock");
	char *r = h_rt("virtqemud-sock");

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "[virtqemud]\nexec = %s\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	ck_assert(h_wait_link(p, r, T_MS));
	free(p);
	free(r);
}

START_TEST(no_broker_fails_and_says_how_to_start_one)
{
	char out[16384];

	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "fail broker") != NULL &&
	    strstr(out, "no broker answers on") != NULL &&
	    strstr(out, "fix: " VB_SBINDIR "/virt-broker -d") != NULL, "%s",
	    out);
}
END_TEST

START_TEST(a_serving_broker_and_its_link_are_ok)
{
	char out[16384], want[1200];

	start_with_virtqemud();
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "ok   broker") != NULL, "%s", out);
	snprintf(want, sizeof(want), "ok   runtime-dir  %s/libvirt/virtqemud-"
	    "sock -> %s/virtqemud-sock", H.xdg, H.rt);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want,
	    out);
	ck_assert_msg(!fails(out), "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

START_TEST(an_autospawned_daemon_is_named_with_its_fix)
{
	char out[16384], want[128], *copy = h_dir("virtqemud"), comm[32];
	char src[4096];
	long until;
	pid_t dup;
	int in, o;
	ssize_t n;

	start_with_virtqemud();
	/* the test daemon under libvirt's name: /proc/PID/comm says so */
	in = open(h_fake_daemon(), O_RDONLY | O_CLOEXEC);
	o = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ck_assert(in >= 0 && o >= 0);
	while ((n = read(in, src, sizeof(src))) > 0)
		ck_assert_int_eq(write(o, src, (size_t)n), n);
	close(in);
	ck_assert_int_eq(close(o), 0);
	dup = fork();
	ck_assert_int_ge(dup, 0);
	if (dup == 0) {
		setenv("HOME", H.dir, 1);	/* the teardown finds it */
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		execl(copy, copy, "--timeout=120", (char *)NULL);
		_exit(127);
	}
	until = h_now_ms() + T_MS;
	for (;;) {
		char path[64];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%ld/comm", (long)dup);
		comm[0] = '\0';
		if ((fp = fopen(path, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), fp) == NULL)
				comm[0] = '\0';
			fclose(fp);
		}
		if (strcmp(comm, "virtqemud\n") == 0 || h_now_ms() > until)
			break;
		h_let_run(20);
	}
	ck_assert_str_eq(comm, "virtqemud\n");
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "fail daemons      pid %ld (", (long)dup);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	ck_assert_msg(strstr(out, "started by a client's autospawn") != NULL,
	    "%s", out);
	snprintf(want, sizeof(want), "kill %ld", (long)dup);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	/* the fix, applied */
	ck_assert_int_eq(kill(dup, SIGKILL), 0);
	ck_assert_int_eq(waitpid(dup, NULL, 0), dup);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "pid %ld", (long)dup);
	ck_assert_msg(strstr(out, want) == NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(copy);
}
END_TEST

START_TEST(a_runtime_dir_unset_or_open_to_others_is_said)
{
	char out[16384], want[1200];

	start_with_virtqemud();
	(void)doctor(NULL, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "runtime-dir  XDG_RUNTIME_DIR is unset")
	    != NULL, "%s", out);
	ck_assert_int_eq(chmod(H.xdg, 0777), 0);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "fix: chmod 0700 %s", H.xdg);
	ck_assert_msg(strstr(out, "fail runtime-dir  XDG_RUNTIME_DIR=") !=
	    NULL && strstr(out, want) != NULL, "%s", out);
	ck_assert_int_eq(chmod(H.xdg, 0700), 0);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(!fails(out), "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

/* A hard core limit below unlimited, until qemu.conf sets max_core. */
START_TEST(a_hard_core_limit_is_said_until_max_core_is_set)
{
	char out[16384], *dir = h_dir(".config/libvirt"), *conf;
	FILE *fp;

	core0 = true;
	(void)doctor(H.xdg, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "warn guests       the hard core limit is 0,")
	    != NULL && strstr(out, "echo 'max_core = 0' >> "
	    "~/.config/libvirt/qemu.conf") != NULL, "%s", out);
	/* the fix, applied */
	conf = h_dir(".config");
	ck_assert(mkdir(conf, 0700) == 0 || errno == EEXIST);
	ck_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
	free(conf);
	conf = h_dir(".config/libvirt/qemu.conf");
	ck_assert_ptr_nonnull(fp = fopen(conf, "w"));
	fprintf(fp, "max_core = 0\n");
	ck_assert_int_eq(fclose(fp), 0);
	(void)doctor(H.xdg, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "warn guests       the hard core") == NULL &&
	    strstr(out, "ok   guests       the hard core limit is 0 and "
	    "qemu.conf sets max_core") != NULL, "%s", out);
	core0 = false;
	free(conf);
	free(dir);
}
END_TEST

/* Write text to H.dir/rel, making its directories. */
static void
put(const char *rel, const char *text)
{
	char *path = h_dir(rel);
	FILE *fp;

	for (char *s = strchr(path + strlen(H.dir) + 1, '/'); s != NULL;
	    s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(path, 0700);
		*s = '/';
	}
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

/*
 * sh -c cmd with HOME and XDG_RUNTIME_DIR the test's, FLATPAK_SYSTEM_DIR
 * H.dir: its exit status, its output in out.
 */
static int
sh(const char *cmd, char *out, size_t size)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("HOME", H.dir, 1);
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		setenv("FLATPAK_SYSTEM_DIR", H.dir, 1);
		unsetenv("XDG_DATA_HOME");
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	return h_child_output(pid, p[0], out, size);
}

#define VM "org.virt_manager.virt-manager"

/*
 * flathub's virt-manager (--filesystem=xdg-run/libvirt and /run/libvirt)
 * sees the links in XDG_RUNTIME_DIR/libvirt but not ~/.cache/libvirt,
 * where they point: in the sandbox (bubblewrap, with the mount view its
 * --filesystem entries give) the client cannot reach the broker's
 * virtqemud. doctor says so and gives the override; applied with flatpak
 * itself, the client reaches the one daemon and doctor says ok.
 */
START_TEST(a_flatpak_client_reaches_the_broker_once_its_fix_is_applied)
{
	const char *sandbox = getenv("VB_FLATPAK_SANDBOX");
	char out[16384], cmd[2048], fix[512], *fixp, *nl;
	char *sock = h_path(&H, "run/libvirt/virtqemud-sock");
	long pid;

	ck_assert_ptr_nonnull(sandbox);
	start_with_virtqemud();
	put(".local/share/flatpak/app/" VM "/current/active/metadata",
	    "[Application]\nname=" VM "\n\n[Context]\nshared=network;ipc;\n"
	    "filesystems=xdg-documents;xdg-download;/run/libvirt;"
	    "xdg-run/libvirt;~/.ssh;\n");
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "warn flatpak      " VM " (user) sees ") !=
	    NULL, "%s", out);
	fixp = strstr(out, "fix: flatpak override --user --filesystem="
	    "~/.cache/libvirt " VM "\n");
	ck_assert_msg(fixp != NULL, "%s", out);
	snprintf(fix, sizeof(fix), "%s", fixp + 5);
	if ((nl = strchr(fix, '\n')) != NULL)
		*nl = '\0';

	/* in the sandbox: the link is there, its target is not */
	snprintf(cmd, sizeof(cmd), "%s " VM " sh -c 'test -L %s && socat -u "
	    "UNIX-CONNECT:%s STDOUT'", sandbox, sock, sock);
	ck_assert_int_ne(sh(cmd, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "No such file or directory") != NULL, "%s",
	    out);

	/* the fix, as doctor gave it, run by flatpak */
	ck_assert_msg(sh(fix, out, sizeof(out)) == 0, "%s: %s", fix, out);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "ok   flatpak      " VM " (user) sees ") !=
	    NULL, "%s", out);
	ck_assert_int_eq(sh(cmd, out, sizeof(out)), 0);
	ck_assert_msg(sscanf(out, "hello %ld", &pid) == 1, "%s", out);
	ck_assert_int_eq(h_hello(sock, T_MS), pid);	/* the one daemon */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(sock);
}
END_TEST

/*
 * A client without XDG_RUNTIME_DIR (ssh, cron) looks in ~/.cache/libvirt:
 * the broker's own R by default, so doctor says ok; a broker whose R is
 * elsewhere leaves such clients to spawn their own.
 */
START_TEST(clients_without_xdg_runtime_dir_reach_the_same_socket)
{
	char out[16384], want[1200];

	start_with_virtqemud();
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "ok   runtime-dir  clients without "
	    "XDG_RUNTIME_DIR (ssh, cron) use %s/virtqemud-sock, the broker's "
	    "socket", H.rt);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want,
	    out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

/*
 * The broker's warnings (its stderr or syslog is often out of reach): a
 * reload of a bad config leaves them for doctor, with file and line; the
 * fix, a good config reloaded, clears them.
 */
START_TEST(the_brokers_warnings_are_said_until_a_good_reload)
{
	char out[16384];

	start_with_virtqemud();
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "[virtqemud]\nexec = %s\nstart = sometimes\n", h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "keeping the running configuration",
	    T_MS), 0);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "warn broker       the broker warned at ")
	    != NULL && strstr(out, "broker.conf:6: [unit virtqemud] start: "
	    "'sometimes' is not") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "fix: the warning names the file") != NULL,
	    "%s", out);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "[virtqemud]\nexec = %s\n", h_fake_daemon());
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert_int_eq(doctor(H.xdg, false, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "the broker warned") == NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
}
END_TEST

/*
 * A host without OVMF (QEMU's firmware dirs hidden in a bubblewrap view):
 * UEFI guests cannot start, and doctor says so; a description in
 * ~/.config/qemu/firmware, where libvirt's session daemons also look,
 * turns it ok.
 */
START_TEST(no_firmware_description_is_said_until_there_is_one)
{
	char out[16384], want[1200];

	hide_fw = true;
	(void)doctor(H.xdg, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "warn guests       no firmware description "
	    "(*.json) in /usr/share/qemu/firmware, /etc/qemu/firmware or ") !=
	    NULL && strstr(out, "fix: install OVMF (Debian, Devuan: apt-get "
	    "install ovmf;") != NULL, "%s", out);
	put(".config/qemu/firmware/60-edk2-x86_64.json", "{ \"description\": "
	    "\"UEFI firmware for x86_64\", \"interface-types\": [ \"uefi\" "
	    "], \"mapping\": { \"device\": \"flash\" } }\n");
	(void)doctor(H.xdg, false, out, sizeof(out));
	hide_fw = false;
	snprintf(want, sizeof(want), "ok   guests       1 firmware description "
	    "in %s/.config/qemu/firmware: UEFI guests can start", H.dir);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want,
	    out);
	ck_assert_msg(strstr(out, "no firmware description") == NULL, "%s",
	    out);
}
END_TEST

/* virt-brokerctl -s R/virt-broker-ctl-sock --system doctor: as root. */
static void
doctor_system(char *out, size_t size)
{
	const char *ctl = getenv("VB_BROKERCTL");
	char *sock = h_rt("virt-broker-ctl-sock");
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(ctl, ctl, "-s", sock, "--system", "doctor", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	(void)h_child_output(pid, p[0], out, size);
	free(sock);
}

/*
 * System mode: group libvirt (made for the test where the host has none)
 * cannot use a broker's 0600 main socket, which every distribution's
 * libvirt lets it use; the fix, socket_group and socket_mode in [broker],
 * turns it ok. Root only (groupadd, chown).
 */
START_TEST(the_libvirt_group_locked_out_of_system_sockets_is_said)
{
	char out[16384], want[1200];
	bool made = false;

	if (geteuid() != 0)
		return;
	if (getgrnam("libvirt") == NULL) {
		ck_assert_int_eq(system("groupadd -r libvirt"), 0);
		made = true;
	}
	start_with_virtqemud();
	doctor_system(out, sizeof(out));
	snprintf(want, sizeof(want), "warn sockets      %s/virtqemud-sock is "
	    "mode 0600, group 0: group libvirt (", H.rt);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want,
	    out);
	ck_assert_msg(strstr(out, "fix: in [broker] of ") != NULL &&
	    strstr(out, "socket_group = libvirt and socket_mode = 0660") !=
	    NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\n"
	    "socket_group = libvirt\nsocket_mode = 0660\n"
	    "[virtqemud]\nexec = %s\n", h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	doctor_system(out, sizeof(out));
	snprintf(want, sizeof(want), "ok   sockets      group libvirt (");
	ck_assert_msg(strstr(out, want) != NULL && strstr(out, "may use") !=
	    NULL && strstr(out, "(mode 0660)") != NULL, "%s", out);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	if (made)
		ck_assert_int_eq(system("groupdel libvirt"), 0);
}
END_TEST

START_TEST(json_has_the_same_findings)
{
	char out[16384];

	ck_assert_int_eq(doctor(H.xdg, true, out, sizeof(out)), 1);
	ck_assert_msg(out[0] == '[' && strstr(out, "{\"check\": \"broker\", "
	    "\"result\": \"fail\", \"found\": \"no broker answers on ") !=
	    NULL && strstr(out, "\"fix\": \"" VB_SBINDIR "/virt-broker -d") !=
	    NULL, "%s", out);
}
END_TEST

static Suite *
doctor_suite(void)
{
	Suite *s = suite_create("doctor");
	TCase *tc = tcase_create("doctor");

	h_add_tcases(s, &tc, 1, 60);
	tcase_add_test(tc, no_broker_fails_and_says_how_to_start_one);
	tcase_add_test(tc, a_serving_broker_and_its_link_are_ok);
	tcase_add_test(tc, an_autospawned_daemon_is_named_with_its_fix);
	tcase_add_test(tc, a_runtime_dir_unset_or_open_to_others_is_said);
	tcase_add_test(tc, a_hard_core_limit_is_said_until_max_core_is_set);
	tcase_add_test(tc, a_flatpak_client_reaches_the_broker_once_its_fix_is_applied);
	tcase_add_test(tc, clients_without_xdg_runtime_dir_reach_the_same_socket);
	tcase_add_test(tc, the_brokers_warnings_are_said_until_a_good_reload);
	tcase_add_test(tc, no_firmware_description_is_said_until_there_is_one);
	tcase_add_test(tc, the_libvirt_group_locked_out_of_system_sockets_is_said);
	tcase_add_test(tc, json_has_the_same_findings);
	return s;
}

int
main(void)
{
	return h_run(doctor_suite());
}
