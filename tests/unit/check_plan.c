/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/plan.c: config + catalog + mode + environment ->
 * units. The file system is faked: is_executable() looks the path up in a
 * static list of binaries that "exist".
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenfds.h"
#include "plan.h"

#define F "/home/u/.config/virt-broker/virt-broker.conf"
#define R "/home/u/.cache/libvirt"	/* the session default */
#define HOME_LOG_DIR "/home/u/.local/state/virt-broker/log"

static struct config *t_cfg;
static struct plan *t_plan;
static char *t_str;
static struct unit_spec t_copy;

static void
teardown(void)
{
	unit_spec_clear(&t_copy);
	plan_free(t_plan);
	t_plan = NULL;
	cfg_free(t_cfg);
	t_cfg = NULL;
	free(t_str);
	t_str = NULL;
}

static const char *none[] = { NULL };
static const char *qemu[] = { "/usr/sbin/virtqemud", NULL };
static const char *qemu_net[] = {
	"/usr/sbin/virtqemud", "/usr/sbin/virtnetworkd", NULL,
};
static const char *debian[] = {	/* what Debian 12 ships */
	"/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/sbin/virtlockd",
	NULL,
};
static const char *everything[] = {
	"/usr/sbin/virtqemud", "/usr/sbin/virtnetworkd",
	"/usr/sbin/virtstoraged", "/usr/sbin/virtnodedevd",
	"/usr/sbin/virtsecretd", "/usr/sbin/virtinterfaced",
	"/usr/sbin/virtnwfilterd", "/usr/sbin/virtlogd", "/usr/sbin/virtlockd",
	"/usr/sbin/virtproxyd", "/usr/sbin/libvirtd", NULL,
};

static bool
fake_is_executable(const char *path, void *arg)
{
	const char **p = arg;

	for (; *p != NULL; p++)
		if (strcmp(*p, path) == 0)
			return true;
	return false;
}

static struct plan_input
session_input(const char **installed)
{
	struct plan_input in = {
		.default_mode = BROKER_MODE_SESSION,
		.xdg_runtime_dir = "/run/user/1000",
		.home = "/home/u",
		.is_executable = fake_is_executable,
		.arg = installed,
	};

	return in;
}

static struct plan_input
system_input(const char **installed)
{
	struct plan_input in = session_input(installed);

	in.default_mode = BROKER_MODE_SYSTEM;
	in.xdg_runtime_dir = NULL;
	in.home = "/root";
	return in;
}

/* Parses text (which must be valid), then plan_build(); its result. */
static int
build(const char *text, const struct plan_input *in)
{
	plan_free(t_plan);
	t_plan = NULL;
	cfg_free(t_cfg);
	t_cfg = cfg_new(F);
	ck_assert_msg(cfg_parse_string(t_cfg, text) == 0, "parse: %s",
	    t_cfg->errors.v[0]);
	return plan_build(t_cfg, in, &t_plan);
}

static void
build_ok(const char *text, const struct plan_input *in)
{
	int r = build(text, in);

	ck_assert_msg(r == 0, "plan_build: %d: %s", r,
	    t_cfg->errors.n > 0 ? t_cfg->errors.v[0] : "(no message)");
	ck_assert_ptr_nonnull(t_plan);
}

/* plan_build() fails, writes no plan, and reports exactly want. */
static void
build_fails(const char *text, const struct plan_input *in, int want_r,
    const char *want)
{
	int r = build(text, in);

	ck_assert_int_eq(r, want_r);
	ck_assert_ptr_null(t_plan);
	ck_assert_msg(t_cfg->errors.n == 1, "%zu errors, expected 1: %s",
	    t_cfg->errors.n, want);
	ck_assert_str_eq(t_cfg->errors.v[0], want);
}

static const struct unit_spec *
must_find(const char *name)
{
	const struct unit_spec *u = plan_find(t_plan, name);

	ck_assert_msg(u != NULL, "unit %s is not in the plan", name);
	return u;
}

static size_t
count_notices(const char *notice)
{
	size_t n = 0;

	for (size_t i = 0; i < t_plan->notices.n; i++)
		if (strcmp(t_plan->notices.v[i], notice) == 0)
			n++;
	return n;
}

/* The "not installed" notice (there must be exactly one) or NULL. */
static const char *
missing_notice(void)
{
	const char *found = NULL;

	for (size_t i = 0; i < t_plan->notices.n; i++) {
		if (strncmp(t_plan->notices.v[i], "not installed",
		    strlen("not installed")) != 0)
			continue;
		ck_assert_msg(found == NULL, "two 'not installed' notices");
		found = t_plan->notices.v[i];
	}
	return found;
}

/* How often name appears as a word in the "not served: a b c" list. */
static unsigned
missing_count(const char *name)
{
	const char *notice = missing_notice(), *p;
	unsigned n = 0;

	if (notice == NULL)
		return 0;
	p = strstr(notice, "not served: ");
	ck_assert_ptr_nonnull(p);
	p += strlen("not served: ");
	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (len == strlen(name) && strncmp(p, name, len) == 0)
			n++;
		p += len;
		p += strspn(p, " ");
	}
	return n;
}

static void
assert_argv(const struct unit_spec *u, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	ck_assert_msg(u->argv.n == n, "%s: %zu args, expected %zu", u->name,
	    u->argv.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(u->argv.v[i], want[i]);
	ck_assert_ptr_null(u->argv.v[n]);
	ck_assert_str_eq(u->exec, want[0]);
}

static void
assert_sock(const struct unit_spec *u, size_t i, const char *name,
    const char *path, unsigned mode)
{
	ck_assert_msg(i < u->nsockets, "%s has %zu sockets", u->name,
	    u->nsockets);
	ck_assert_str_eq(u->sockets[i].name, name);
	ck_assert_str_eq(u->sockets[i].path, path);
	ck_assert_uint_eq(u->sockets[i].mode, mode);
}

/* --- system mode: socket options, listeners, publish --- */

START_TEST(socket_mode_and_group_from_broker_and_section)
{
	const struct plan_input in = system_input(qemu_net);
	const struct unit_spec *q, *n;

	build_ok("[broker]\nsocket_mode = 0666\nsocket_group = libvirt\n"
	    "[virtnetworkd]\nsocket_mode = 0660\nsocket_group = net\n", &in);
	q = must_find("virtqemud");
	assert_sock(q, 0, "virtqemud.socket", "/run/libvirt/virtqemud-sock",
	    0666);
	assert_sock(q, 1, "virtqemud-ro.socket",
	    "/run/libvirt/virtqemud-sock-ro", 0666);
	assert_sock(q, 2, "virtqemud-admin.socket",
	    "/run/libvirt/virtqemud-admin-sock", 0600);
	ck_assert_str_eq(q->sockets[0].group, "libvirt");
	ck_assert_ptr_null(q->sockets[1].group);
	ck_assert_ptr_null(q->sockets[2].group);
	n = must_find("virtnetworkd");
	ck_assert_uint_eq(n->sockets[0].mode, 0660);
	ck_assert_str_eq(n->sockets[0].group, "net");
	ck_assert_uint_eq(n->sockets[1].mode, 0666);
	ck_assert_ptr_null(n->sockets[1].group);
	ck_assert_uint_eq(n->sockets[2].mode, 0600);
	ck_assert_ptr_null(n->sockets[2].group);
}
END_TEST

/* How many notices start with prefix. */
static size_t
count_notices_starting(const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < t_plan->notices.n; i++)
		n += strncmp(t_plan->notices.v[i], prefix, strlen(prefix)) == 0;
	return n;
}

static void
assert_sock_mode_group(const struct unit_spec *u, const char *name,
    unsigned mode, const char *group)
{
	for (size_t i = 0; i < u->nsockets; i++) {
		const struct sock_spec *s = &u->sockets[i];

		if (strcmp(s->name, name) != 0)
			continue;
		ck_assert_msg(s->mode == mode, "%s %s: mode %04o, expected "
		    "%04o", u->name, name, s->mode, mode);
		if (group == NULL)
			ck_assert_msg(s->group == NULL, "%s %s: group %s, "
			    "expected none", u->name, name, s->group);
		else
			ck_assert_msg(s->group != NULL &&
			    strcmp(s->group, group) == 0, "%s %s: group %s, "
			    "expected %s", u->name, name, s->group != NULL ?
			    s->group : "(none)", group);
		return;
	}
	ck_abort_msg("%s has no socket %s", u->name, name);
}

/*
 * The polkit set-up README recommends: [broker] socket_mode = 0666 opens
 * the read-write main sockets only. -ro stays libvirt's 0666, -admin and
 * virtlogd's and virtlockd's sockets stay root's 0600 (they have no access
 * control: 0666 there gives every local user root), with no group.
 */
START_TEST(broker_socket_mode_opens_only_main_sockets)
{
	static const char *drivers[] = { "virtqemud", "virtnetworkd",
	    "virtstoraged", "virtnodedevd", "virtsecretd", "virtinterfaced",
	    "virtnwfilterd", NULL };
	const struct plan_input in = system_input(everything);
	const struct unit_spec *u;
	char name[64];

	build_ok("[broker]\nsocket_mode = 0666\nsocket_group = libvirt\n",
	    &in);
	for (const char **d = drivers; *d != NULL; d++) {
		u = must_find(*d);
		snprintf(name, sizeof(name), "%s.socket", *d);
		assert_sock_mode_group(u, name, 0666, "libvirt");
		snprintf(name, sizeof(name), "%s-ro.socket", *d);
		assert_sock_mode_group(u, name, 0666, NULL);
		snprintf(name, sizeof(name), "%s-admin.socket", *d);
		assert_sock_mode_group(u, name, 0600, NULL);
	}
	u = must_find("virtproxyd");
	assert_sock_mode_group(u, "virtproxyd.socket", 0666, "libvirt");
	assert_sock_mode_group(u, "virtproxyd-ro.socket", 0666, NULL);
	assert_sock_mode_group(u, "virtproxyd-admin.socket", 0600, NULL);
	u = must_find("virtlogd");
	assert_sock_mode_group(u, "virtlogd.socket", 0600, NULL);
	assert_sock_mode_group(u, "virtlogd-admin.socket", 0600, NULL);
	u = must_find("virtlockd");
	assert_sock_mode_group(u, "virtlockd.socket", 0600, NULL);
	assert_sock_mode_group(u, "virtlockd-admin.socket", 0600, NULL);
	ck_assert_uint_eq(count_notices_starting("unit virtlogd: warning"), 0);
	ck_assert_uint_eq(count_notices_starting("unit virtlockd: warning"),
	    0);
}
END_TEST

START_TEST(broker_socket_mode_opens_libvirtd_main_socket)
{
	const struct plan_input in = system_input(debian);
	const struct unit_spec *u;

	build_ok("[broker]\nsocket_mode = 0660\nsocket_group = libvirt\n",
	    &in);
	u = must_find("libvirtd");
	assert_sock_mode_group(u, "libvirtd.socket", 0660, "libvirt");
	assert_sock_mode_group(u, "libvirtd-ro.socket", 0666, NULL);
	assert_sock_mode_group(u, "libvirtd-admin.socket", 0600, NULL);
	assert_sock_mode_group(must_find("virtlogd"), "virtlogd.socket", 0600,
	    NULL);
}
END_TEST

/* Session mode: the same rule (another user reaching virtlogd is as bad). */
START_TEST(session_helpers_ignore_broker_socket_mode)
{
	const struct plan_input in = session_input(everything);
	const struct unit_spec *u;

	build_ok("[broker]\nsocket_mode = 0666\nsocket_group = libvirt\n",
	    &in);
	u = must_find("virtqemud");
	assert_sock_mode_group(u, "virtqemud.socket", 0666, "libvirt");
	assert_sock_mode_group(u, "virtqemud-admin.socket", 0600, NULL);
	u = must_find("virtlogd");
	assert_sock_mode_group(u, "virtlogd.socket", 0600, NULL);
	assert_sock_mode_group(u, "virtlogd-admin.socket", 0600, NULL);
}
END_TEST

/* A socket line may open a helper's socket; the plan warns, naming why. */
START_TEST(helper_socket_line_opens_it_with_a_warning)
{
	const struct plan_input in = system_input(everything);
	const struct unit_spec *u;

	build_ok("[broker]\nsocket_mode = 0666\n"
	    "[virtlogd]\nsocket = virtlogd.socket virtlogd-sock 0660 kvm\n"
	    "socket = virtlogd-admin.socket virtlogd-admin-sock\n", &in);
	u = must_find("virtlogd");
	assert_sock_mode_group(u, "virtlogd.socket", 0660, "kvm");
	assert_sock_mode_group(u, "virtlogd-admin.socket", 0600, NULL);
	ck_assert_uint_eq(count_notices_starting("unit virtlogd: warning: "
	    "socket virtlogd.socket (/run/libvirt/virtlogd-sock) is mode 0660 "
	    "group kvm as its section says: it has no access control and acts "
	    "as its own user (root in system mode)"), 1);
	ck_assert_uint_eq(count_notices_starting("unit virtlogd: warning: "
	    "socket virtlogd-admin.socket"), 0);
	ck_assert_uint_eq(count_notices_starting("unit virtlockd: warning"),
	    0);
	assert_sock_mode_group(must_find("virtlockd"), "virtlockd.socket",
	    0600, NULL);
}
END_TEST

START_TEST(admin_socket_line_opens_it_with_a_warning)
{
	const struct plan_input in = system_input(qemu);
	const struct unit_spec *u;

	build_ok("[virtqemud]\nsocket = virtqemud.socket virtqemud-sock\n"
	    "socket = virtqemud-admin.socket virtqemud-admin-sock 0666\n",
	    &in);
	u = must_find("virtqemud");
	assert_sock_mode_group(u, "virtqemud.socket", 0600, NULL);
	assert_sock_mode_group(u, "virtqemud-admin.socket", 0666, NULL);
	ck_assert_uint_eq(count_notices_starting("unit virtqemud: warning: "
	    "socket virtqemud-admin.socket (/run/libvirt/virtqemud-admin-sock) "
	    "is mode 0666 as its section says: an admin socket"), 1);
	ck_assert_uint_eq(count_notices_starting("unit virtqemud: warning: "
	    "socket virtqemud.socket"), 0);
}
END_TEST

/* The helper's own section may set socket_mode: explicit, so warned. */
START_TEST(helper_section_socket_mode_warns)
{
	const struct plan_input in = system_input(everything);
	const struct unit_spec *u;

	build_ok("[virtlockd]\nsocket_mode = 0666\nsocket_group = kvm\n",
	    &in);
	u = must_find("virtlockd");
	assert_sock_mode_group(u, "virtlockd.socket", 0666, "kvm");
	assert_sock_mode_group(u, "virtlockd-admin.socket", 0600, NULL);
	ck_assert_uint_eq(count_notices_starting("unit virtlockd: warning: "
	    "socket virtlockd.socket (/run/libvirt/virtlockd-sock) is mode "
	    "0666 group kvm as its section says"), 1);
}
END_TEST

/*
 * A unit not in the catalog lists its sockets itself: [broker]'s mode goes
 * to its first socket, the group to every one, but never to an admin one.
 */
START_TEST(custom_unit_takes_broker_socket_mode_but_not_on_admin)
{
	const struct plan_input in = session_input(none);
	const struct unit_spec *u;

	build_ok("[broker]\nsocket_mode = 0660\nsocket_group = libvirt\n"
	    "[mine]\nexec = /opt/mine\nsocket = mine.socket mine-sock\n"
	    "socket = b.socket mine-b 0600\n"
	    "socket = mine-admin.socket mine-admin-sock\n", &in);
	u = must_find("mine");
	assert_sock_mode_group(u, "mine.socket", 0660, "libvirt");
	assert_sock_mode_group(u, "b.socket", 0600, "libvirt");
	assert_sock_mode_group(u, "mine-admin.socket", 0600, NULL);
	ck_assert_uint_eq(count_notices_starting("unit mine: warning"), 0);
}
END_TEST

START_TEST(listen_tcp_and_tls_add_named_inet_sockets)
{
	const char *proxy[] = { "/usr/sbin/virtqemud", "/usr/sbin/virtproxyd",
	    NULL };
	const struct plan_input in = system_input(proxy);
	const struct unit_spec *p;

	build_ok("[virtproxyd]\nlisten_tcp = 127.0.0.1\n"
	    "listen_tls = [::1]:1234\n", &in);
	p = must_find("virtproxyd");
	ck_assert_uint_eq(p->nsockets, 5);
	assert_sock(p, 0, "virtproxyd.socket", "/run/libvirt/libvirt-sock",
	    0600);
	assert_sock(p, 3, "virtproxyd-tcp.socket", "tcp:127.0.0.1:16509", 0);
	assert_sock(p, 4, "virtproxyd-tls.socket", "tcp:[::1]:1234", 0);
	ck_assert_ptr_null(p->sockets[3].group);
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
}
END_TEST

START_TEST(listen_tcp_is_off_by_default)
{
	const char *proxy[] = { "/usr/sbin/virtproxyd", NULL };
	const struct plan_input in = system_input(proxy);

	build_ok("", &in);
	ck_assert_uint_eq(must_find("virtproxyd")->nsockets, 3);
	build_ok("[virtproxyd]\nlisten_tcp = no\n", &in);
	ck_assert_uint_eq(must_find("virtproxyd")->nsockets, 3);
}
END_TEST

START_TEST(hypervisor_gets_memlock_in_system_mode_only)
{
	const struct plan_input sys = system_input(qemu);
	const struct plan_input ses = session_input(qemu);

	build_ok("", &sys);
	ck_assert_uint_eq(must_find("virtqemud")->limit_memlock, 64 << 20);
	ck_assert_uint_eq(must_find("virtqemud")->limit_nofile, 8192);
	build_ok("", &ses);
	ck_assert_uint_eq(must_find("virtqemud")->limit_memlock, 0);
}
END_TEST

START_TEST(publish_defaults_to_the_other_places_less_r)
{
	struct plan_input in = session_input(qemu);

	in.uid = 1000;
	build_ok("", &in);	/* R = ~/.cache/libvirt, XDG = /run/user/1000 */
	ck_assert_uint_eq(t_plan->publish.n, 1);
	ck_assert_str_eq(t_plan->publish.v[0], "/run/user/1000/libvirt");
	in.xdg_runtime_dir = "/tmp/xdg";	/* su, a container */
	build_ok("", &in);
	ck_assert_uint_eq(t_plan->publish.n, 2);
	ck_assert_str_eq(t_plan->publish.v[0], "/tmp/xdg/libvirt");
	ck_assert_str_eq(t_plan->publish.v[1], "/run/user/1000/libvirt");
	build_ok("[broker]\nruntime_dir = xdg\n", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/tmp/xdg/libvirt");
	ck_assert_uint_eq(t_plan->publish.n, 2);
	ck_assert_str_eq(t_plan->publish.v[0], "/run/user/1000/libvirt");
	ck_assert_str_eq(t_plan->publish.v[1], R);
	in.xdg_runtime_dir = NULL;
	build_ok("", &in);
	ck_assert_uint_eq(t_plan->publish.n, 1);
	ck_assert_str_eq(t_plan->publish.v[0], "/run/user/1000/libvirt");
	build_ok("[broker]\npublish = none\n", &in);
	ck_assert_uint_eq(t_plan->publish.n, 0);
	build_ok("[broker]\npublish = /a/libvirt /b/libvirt\n", &in);
	ck_assert_uint_eq(t_plan->publish.n, 2);
	ck_assert_str_eq(t_plan->publish.v[1], "/b/libvirt");
	in = system_input(qemu);
	build_ok("", &in);
	ck_assert_uint_eq(t_plan->publish.n, 0);
	/* /var/run not a link to /run: clients look in /var/run/libvirt. */
	in.var_run_separate = true;
	build_ok("", &in);
	ck_assert_uint_eq(t_plan->publish.n, 1);
	ck_assert_str_eq(t_plan->publish.v[0], "/var/run/libvirt");
	build_ok("[broker]\nruntime_dir = /srv/libvirt\n", &in);
	ck_assert_uint_eq(t_plan->publish.n, 0);	/* R not under /run */
	build_ok("[broker]\npublish = none\n", &in);
	ck_assert_uint_eq(t_plan->publish.n, 0);
}
END_TEST

/* --- which daemons are served --- */

START_TEST(only_found_daemons_become_units)
{
	struct plan_input in = session_input(qemu_net);

	build_ok("", &in);
	ck_assert_uint_eq(t_plan->nunits, 2);
	ck_assert_str_eq(must_find("virtqemud")->exec, "/usr/sbin/virtqemud");
	ck_assert_str_eq(must_find("virtnetworkd")->exec,
	    "/usr/sbin/virtnetworkd");
	ck_assert_ptr_null(plan_find(t_plan, "virtstoraged"));
	ck_assert_ptr_null(plan_find(t_plan, "virtlogd"));
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
}
END_TEST

START_TEST(nothing_installed_gives_empty_plan)
{
	struct plan_input in = session_input(none);

	build_ok("", &in);
	ck_assert_uint_eq(t_plan->nunits, 0);
	ck_assert_uint_eq(missing_count("virtqemud"), 1);
	ck_assert_uint_eq(missing_count("libvirtd"), 1);
}
END_TEST

START_TEST(search_path_first_match_wins)
{
	static const char *both[] = { "/usr/local/sbin/virtqemud",
	    "/usr/sbin/virtqemud", NULL };
	static const char *local[] = { "/usr/local/sbin/virtqemud", NULL };
	static const char *opt[] = { "/opt/b/virtqemud", "/usr/sbin/virtqemud",
	    NULL };
	struct plan_input in = session_input(both);

	build_ok("", &in);
	ck_assert_str_eq(must_find("virtqemud")->exec, "/usr/sbin/virtqemud");
	in.arg = local;
	build_ok("", &in);
	ck_assert_str_eq(must_find("virtqemud")->exec,
	    "/usr/local/sbin/virtqemud");
	in.arg = opt;
	build_ok("[broker]\nsearch_path = /opt/a:/opt/b\n", &in);
	ck_assert_str_eq(must_find("virtqemud")->exec, "/opt/b/virtqemud");
}
END_TEST

START_TEST(libvirtd_served_when_no_modular_daemon)
{
	struct plan_input in = session_input(debian);
	const struct unit_spec *u;

	build_ok("", &in);
	ck_assert_uint_eq(t_plan->nunits, 3);
	u = must_find("libvirtd");
	assert_argv(u, (const char *[]){ "/usr/sbin/libvirtd", "--timeout",
	    "120", NULL });
	ck_assert_int_eq(u->start, START_AT_LAUNCH);
	ck_assert_uint_eq(u->nsockets, 2);
	assert_sock(u, 0, "libvirtd.socket", R "/libvirt-sock", 0600);
	assert_sock(u, 1, "libvirtd-admin.socket", R "/libvirt-admin-sock",
	    0600);
}
END_TEST

START_TEST(libvirtd_skipped_when_modular_daemon_found)
{
	static const char *q_l[] = { "/usr/sbin/virtqemud",
	    "/usr/sbin/libvirtd", NULL };
	static const char *n_l[] = { "/usr/sbin/virtnetworkd",
	    "/usr/sbin/libvirtd", NULL };
	struct plan_input in = session_input(q_l);

	build_ok("", &in);
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
	ck_assert_uint_eq(count_notices("unit libvirtd: skipped, modular "
	    "daemons are installed"), 1);
	ck_assert_uint_eq(missing_count("libvirtd"), 0);
	in.arg = n_l;
	build_ok("", &in);
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
}
END_TEST

START_TEST(libvirtd_section_forces_it)
{
	static const char *q_l[] = { "/usr/sbin/virtqemud",
	    "/usr/sbin/libvirtd", NULL };
	struct plan_input in = session_input(q_l);

	build_ok("[libvirtd]\n", &in);
	ck_assert_ptr_nonnull(must_find("virtqemud"));
	ck_assert_ptr_nonnull(must_find("libvirtd"));
	ck_assert_uint_eq(count_notices("unit libvirtd: skipped, modular "
	    "daemons are installed"), 0);
}
END_TEST

START_TEST(nwfilterd_and_proxyd_not_served_in_session_mode)
{
	struct plan_input in = session_input(everything);

	build_ok("", &in);
	ck_assert_ptr_null(plan_find(t_plan, "virtnwfilterd"));
	ck_assert_ptr_null(plan_find(t_plan, "virtproxyd"));
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
	ck_assert_uint_eq(t_plan->nunits, 8);
	build_ok("[virtnwfilterd]\n", &in);
	ck_assert_ptr_null(plan_find(t_plan, "virtnwfilterd"));
	ck_assert_uint_eq(count_notices("unit virtnwfilterd: skipped, it has "
	    "no sockets in session mode"), 1);
}
END_TEST

/* --- defaults from the catalog --- */

START_TEST(start_at_launch_for_virtqemud_on_demand_for_others)
{
	struct plan_input in = session_input(everything);

	build_ok("", &in);
	ck_assert_int_eq(must_find("virtqemud")->start, START_AT_LAUNCH);
	ck_assert_int_eq(must_find("virtnetworkd")->start, START_ON_DEMAND);
	ck_assert_int_eq(must_find("virtstoraged")->start, START_ON_DEMAND);
	ck_assert_int_eq(must_find("virtsecretd")->start, START_ON_DEMAND);
	ck_assert_int_eq(must_find("virtlogd")->start, START_ON_DEMAND);
	ck_assert_int_eq(must_find("virtlockd")->start, START_ON_DEMAND);
	in.arg = debian;
	build_ok("", &in);
	ck_assert_int_eq(must_find("libvirtd")->start, START_AT_LAUNCH);
}
END_TEST

START_TEST(helpers_keep_running_and_have_no_args)
{
	struct plan_input in = session_input(everything);

	build_ok("", &in);
	ck_assert(!must_find("virtlogd")->stop_on_exit);
	ck_assert(!must_find("virtlockd")->stop_on_exit);
	assert_argv(must_find("virtlogd"),
	    (const char *[]){ "/usr/sbin/virtlogd", NULL });
	assert_argv(must_find("virtlockd"),
	    (const char *[]){ "/usr/sbin/virtlockd", NULL });
	ck_assert(must_find("virtqemud")->stop_on_exit);
	ck_assert(must_find("virtnetworkd")->stop_on_exit);
}
END_TEST

START_TEST(default_args_become_argv)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("", &in);
	u = must_find("virtqemud");
	assert_argv(u, (const char *[]){ "/usr/sbin/virtqemud", "--timeout",
	    "120", NULL });
	ck_assert_int_eq(u->restart, RESTART_ON_FAILURE);
	ck_assert_uint_eq(u->stop_timeout, CFG_DEFAULT_STOP_TIMEOUT);
	ck_assert_uint_eq(u->env.n, 0);
}
END_TEST

START_TEST(session_sockets_under_runtime_dir)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("", &in);
	ck_assert_str_eq(t_plan->runtime_dir, R);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->nsockets, 2);
	assert_sock(u, 0, "virtqemud.socket", R "/virtqemud-sock", 0600);
	assert_sock(u, 1, "virtqemud-admin.socket", R "/virtqemud-admin-sock",
	    0600);
	ck_assert_ptr_null(u->sockets[0].group);
}
END_TEST

/* --- config sections --- */

START_TEST(section_overrides_catalog_defaults)
{
	struct plan_input in = session_input(none);
	const struct unit_spec *u;

	build_ok("[virtqemud]\n"
	    "exec = /opt/bin/virtqemud\n"
	    "args = --verbose \"x y\"\n"
	    "start = on-demand\n"
	    "restart = no\n"
	    "stop_timeout = 5\n"
	    "stop_on_exit = no\n"
	    "env = LIBVIRT_DEBUG=1\n", &in);
	u = must_find("virtqemud");
	assert_argv(u, (const char *[]){ "/opt/bin/virtqemud", "--verbose",
	    "x y", NULL });
	ck_assert_int_eq(u->start, START_ON_DEMAND);
	ck_assert_int_eq(u->restart, RESTART_NO);
	ck_assert_uint_eq(u->stop_timeout, 5);
	ck_assert(!u->stop_on_exit);
	ck_assert_uint_eq(u->env.n, 1);
	ck_assert_str_eq(u->env.v[0], "LIBVIRT_DEBUG=1");
	/* The catalog's sockets stay. */
	ck_assert_uint_eq(u->nsockets, 2);
	assert_sock(u, 0, "virtqemud.socket", R "/virtqemud-sock", 0600);
}
END_TEST

START_TEST(section_keeps_unset_catalog_defaults)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("[virtqemud]\nrestart = always\n", &in);
	u = must_find("virtqemud");
	ck_assert_int_eq(u->restart, RESTART_ALWAYS);
	ck_assert_int_eq(u->start, START_AT_LAUNCH);
	assert_argv(u, (const char *[]){ "/usr/sbin/virtqemud", "--timeout",
	    "120", NULL });
}
END_TEST

START_TEST(empty_args_drop_default_args)
{
	struct plan_input in = session_input(qemu);

	build_ok("[virtqemud]\nargs =\n", &in);
	assert_argv(must_find("virtqemud"),
	    (const char *[]){ "/usr/sbin/virtqemud", NULL });
}
END_TEST

START_TEST(section_sockets_replace_catalog_sockets)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("[virtqemud]\nsocket = virtqemud.socket qemu-sock 0660 kvm\n",
	    &in);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->nsockets, 1);
	assert_sock(u, 0, "virtqemud.socket", R "/qemu-sock", 0660);
	ck_assert_str_eq(u->sockets[0].group, "kvm");
}
END_TEST

START_TEST(new_unit_is_added_after_catalog_units)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("[mydaemon]\n"
	    "exec = /usr/local/bin/mydaemon\n"
	    "args = -f\n"
	    "socket = my.socket my-sock 0660 kvm\n"
	    "socket = my-admin.socket /srv/my-admin-sock\n", &in);
	ck_assert_uint_eq(t_plan->nunits, 2);
	ck_assert_str_eq(t_plan->units[0].name, "virtqemud");
	ck_assert_str_eq(t_plan->units[1].name, "mydaemon");
	u = must_find("mydaemon");
	assert_argv(u, (const char *[]){ "/usr/local/bin/mydaemon", "-f",
	    NULL });
	ck_assert_int_eq(u->start, START_ON_DEMAND);
	ck_assert(u->stop_on_exit);
	ck_assert_uint_eq(u->nsockets, 2);
	assert_sock(u, 0, "my.socket", R "/my-sock", 0660);
	ck_assert_str_eq(u->sockets[0].group, "kvm");
	assert_sock(u, 1, "my-admin.socket", "/srv/my-admin-sock", 0600);
	ck_assert_ptr_null(u->sockets[1].group);
}
END_TEST

START_TEST(new_unit_without_exec_is_error_at_its_section)
{
	struct plan_input in = session_input(qemu);

	build_fails("[broker]\nmode = session\n\n[mydaemon]\n"
	    "socket = my.socket my-sock\n", &in, -EINVAL,
	    F ":4: [unit mydaemon] 'exec' is required for a unit that is not "
	    "in the catalog");
}
END_TEST

START_TEST(new_unit_without_socket_is_error_at_its_section)
{
	struct plan_input in = session_input(qemu);

	build_fails("[virtqemud]\n[mydaemon]\nexec = /usr/bin/mydaemon\n", &in,
	    -EINVAL, F ":2: [unit mydaemon] at least one 'socket' is required");
}
END_TEST

START_TEST(two_units_same_socket_path_is_error)
{
	struct plan_input in = session_input(qemu);

	build_fails("[mydaemon]\nexec = /x/mydaemon\n"
	    "socket = my.socket virtqemud-sock\n", &in, -EINVAL,
	    F ": socket path " R "/virtqemud-sock is given to both unit "
	    "virtqemud and unit mydaemon");
}
END_TEST

START_TEST(relative_and_absolute_same_path_is_error)
{
	struct plan_input in = session_input(none);

	build_fails("[a]\nexec = /x/a\nsocket = a.socket x-sock\n"
	    "[b]\nexec = /x/b\nsocket = b.socket " R "/x-sock\n", &in, -EINVAL,
	    F ": socket path " R "/x-sock is given to both unit a and unit b");
}
END_TEST

START_TEST(one_unit_same_socket_path_twice_is_error)
{
	struct plan_input in = session_input(none);

	build_fails("[a]\nexec = /x/a\nsocket = a.socket s\n"
	    "socket = b.socket s\n", &in, -EINVAL,
	    F ": socket path " R "/s is given to both unit a and unit a");
}
END_TEST

START_TEST(disabled_unit_not_in_plan_with_notice)
{
	struct plan_input in = session_input(qemu_net);

	build_ok("[virtqemud]\nstart = disabled\n", &in);
	ck_assert_ptr_null(plan_find(t_plan, "virtqemud"));
	ck_assert_ptr_nonnull(must_find("virtnetworkd"));
	ck_assert_uint_eq(count_notices("unit virtqemud: disabled"), 1);
	ck_assert_uint_eq(missing_count("virtqemud"), 0);
}
END_TEST

START_TEST(disabled_new_unit_needs_no_exec)
{
	struct plan_input in = session_input(none);

	build_ok("[mydaemon]\nstart = disabled\n", &in);
	ck_assert_ptr_null(plan_find(t_plan, "mydaemon"));
	ck_assert_uint_eq(count_notices("unit mydaemon: disabled"), 1);
}
END_TEST

START_TEST(missing_daemons_listed_once)
{
	static const char *const missing[] = { "virtnetworkd", "virtstoraged",
	    "virtnodedevd", "virtsecretd", "virtinterfaced", "virtlogd",
	    "virtlockd" };
	struct plan_input in = session_input(qemu);

	/* A catalog daemon with a section (a repeated one is an error). */
	build_ok("[virtnetworkd]\nargs = -v\n", &in);
	ck_assert_ptr_nonnull(missing_notice());
	ck_assert_ptr_nonnull(strstr(missing_notice(), "not installed in "
	    CFG_DEFAULT_SEARCH_PATH ", not served: "));
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		ck_assert_msg(missing_count(missing[i]) == 1, "%s: %u times",
		    missing[i], missing_count(missing[i]));
	ck_assert_uint_eq(missing_count("virtqemud"), 0);
	ck_assert_uint_eq(missing_count("libvirtd"), 0);
	ck_assert_uint_eq(missing_count("virtnwfilterd"), 0);
	ck_assert_uint_eq(missing_count("virtproxyd"), 0);
	ck_assert_uint_eq(missing_count("virtchd"), 0);	/* optional */
	ck_assert_uint_eq(missing_count("virtvboxd"), 0);
	build_ok("[virtchd]\nargs = -v\n", &in);	/* asked for */
	ck_assert_uint_eq(missing_count("virtchd"), 1);
	ck_assert_uint_eq(missing_count("virtvboxd"), 0);
}
END_TEST

/* Other hypervisors: on demand, served only where installed. */
START_TEST(other_hypervisors_on_demand_where_installed)
{
	static const char *ch[] = { "/usr/sbin/virtqemud", "/usr/sbin/virtchd",
	    "/usr/sbin/virtlxcd", NULL };
	struct plan_input in = session_input(ch);
	const struct unit_spec *u;

	build_ok("", &in);
	u = must_find("virtchd");
	ck_assert_int_eq(u->start, START_ON_DEMAND);
	ck_assert_uint_eq(u->nsockets, 2);
	ck_assert_ptr_null(plan_find(t_plan, "virtlxcd"));	/* no session mode */
	ck_assert_ptr_null(plan_find(t_plan, "virtvboxd"));	/* not installed */
	ck_assert_int_eq(must_find("virtqemud")->start, START_AT_LAUNCH);
	in = system_input(ch);
	build_ok("", &in);
	ck_assert_uint_eq(must_find("virtlxcd")->nsockets, 3);
	ck_assert_int_eq(must_find("virtlxcd")->start, START_ON_DEMAND);
	build_ok("[virtlxcd]\nstart = at-launch\n", &in);
	ck_assert_int_eq(must_find("virtlxcd")->start, START_AT_LAUNCH);
}
END_TEST

START_TEST(no_missing_notice_when_all_found)
{
	struct plan_input in = session_input(everything);

	build_ok("", &in);
	ck_assert_ptr_null(missing_notice());
}
END_TEST

/* --- mode and runtime dir --- */

START_TEST(system_mode_uses_run_libvirt_and_ro_sockets)
{
	struct plan_input in = system_input(everything);
	const struct unit_spec *u;

	build_ok("", &in);
	ck_assert_int_eq(t_plan->mode, BROKER_MODE_SYSTEM);
	ck_assert_str_eq(t_plan->runtime_dir, "/run/libvirt");
	ck_assert_ptr_null(t_plan->daemon_xdg_runtime_dir);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->nsockets, 3);
	assert_sock(u, 0, "virtqemud.socket", "/run/libvirt/virtqemud-sock",
	    0600);
	assert_sock(u, 1, "virtqemud-ro.socket",
	    "/run/libvirt/virtqemud-sock-ro", 0666);
	assert_sock(u, 2, "virtqemud-admin.socket",
	    "/run/libvirt/virtqemud-admin-sock", 0600);
	ck_assert_uint_eq(must_find("virtnwfilterd")->nsockets, 3);
	assert_sock(must_find("virtproxyd"), 0, "virtproxyd.socket",
	    "/run/libvirt/libvirt-sock", 0600);
	ck_assert_uint_eq(must_find("virtlogd")->nsockets, 2);
	/* virtproxyd owns libvirt-sock: libvirtd would clash with it. */
	ck_assert_ptr_null(plan_find(t_plan, "libvirtd"));
}
END_TEST

START_TEST(system_mode_libvirtd_has_ro_socket)
{
	struct plan_input in = system_input(debian);
	const struct unit_spec *u;

	build_ok("", &in);
	u = must_find("libvirtd");
	ck_assert_uint_eq(u->nsockets, 3);
	assert_sock(u, 1, "libvirtd-ro.socket", "/run/libvirt/libvirt-sock-ro",
	    0666);
}
END_TEST

START_TEST(every_planned_unit_has_valid_fd_names)
{
	const struct plan_input ins[] = { session_input(everything),
	    system_input(everything) };

	for (size_t k = 0; k < 2; k++) {
		build_ok("", &ins[k]);
		for (size_t i = 0; i < t_plan->nunits; i++) {
			const struct unit_spec *u = &t_plan->units[i];
			const char *names[8];
			char *joined = NULL;

			ck_assert_uint_le(u->nsockets, 8);
			for (size_t j = 0; j < u->nsockets; j++)
				names[j] = u->sockets[j].name;
			ck_assert_int_eq(lfd_build_names(names, u->nsockets,
			    &joined), 0);
			free(joined);
		}
	}
}
END_TEST

START_TEST(file_mode_used_unless_forced)
{
	struct plan_input in = session_input(qemu);

	build_ok("[broker]\nmode = system\n", &in);
	ck_assert_int_eq(t_plan->mode, BROKER_MODE_SYSTEM);
	ck_assert_str_eq(t_plan->runtime_dir, "/run/libvirt");
	in.mode_forced = true;
	build_ok("[broker]\nmode = system\n", &in);
	ck_assert_int_eq(t_plan->mode, BROKER_MODE_SESSION);
	ck_assert_str_eq(t_plan->runtime_dir, R);
	in = system_input(qemu);
	in.mode_forced = true;
	build_ok("[broker]\nmode = session\n", &in);
	ck_assert_int_eq(t_plan->mode, BROKER_MODE_SYSTEM);
}
END_TEST

START_TEST(session_runtime_dir_must_end_in_libvirt)
{
	struct plan_input in = session_input(qemu);

	build_fails("[broker]\nruntime_dir = /tmp/vb\n", &in, -EINVAL,
	    F ": runtime_dir '/tmp/vb' must end in '/libvirt': session "
	    "daemons look for their sockets in $XDG_RUNTIME_DIR/libvirt");
	build_fails("[broker]\nruntime_dir = /libvirt\n", &in, -EINVAL,
	    F ": runtime_dir '/libvirt' must end in '/libvirt': session "
	    "daemons look for their sockets in $XDG_RUNTIME_DIR/libvirt");
	build_fails("[broker]\nruntime_dir = /tmp/libvirtx\n", &in, -EINVAL,
	    F ": runtime_dir '/tmp/libvirtx' must end in '/libvirt': session "
	    "daemons look for their sockets in $XDG_RUNTIME_DIR/libvirt");
}
END_TEST

START_TEST(system_runtime_dir_may_be_anything)
{
	struct plan_input in = system_input(qemu);

	build_ok("[broker]\nruntime_dir = /tmp/vb\n", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/tmp/vb");
	assert_sock(must_find("virtqemud"), 0, "virtqemud.socket",
	    "/tmp/vb/virtqemud-sock", 0600);
}
END_TEST

/*
 * Session R is libvirt's fallback whatever XDG_RUNTIME_DIR says, and the
 * daemons resolve it the same way: without XDG_RUNTIME_DIR.
 */
START_TEST(session_runtime_dir_is_the_cache_fallback)
{
	struct plan_input in = session_input(qemu);

	build_ok("", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/home/u/.cache/libvirt");
	ck_assert_ptr_null(t_plan->daemon_xdg_runtime_dir);
	in.xdg_runtime_dir = NULL;
	build_ok("", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/home/u/.cache/libvirt");
	ck_assert_ptr_null(t_plan->daemon_xdg_runtime_dir);
	in.xdg_cache_home = "/var/cache/u";
	build_ok("", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/var/cache/u/libvirt");
	ck_assert_ptr_null(t_plan->daemon_xdg_runtime_dir);
}
END_TEST

START_TEST(daemon_xdg_runtime_dir_is_dirname_of_another_runtime_dir)
{
	struct plan_input in = session_input(qemu);

	build_ok("[broker]\nruntime_dir = xdg\n", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/run/user/1000/libvirt");
	ck_assert_str_eq(t_plan->daemon_xdg_runtime_dir, "/run/user/1000");
	build_ok("[broker]\nruntime_dir = /srv/x/libvirt\n", &in);
	ck_assert_str_eq(t_plan->runtime_dir, "/srv/x/libvirt");
	ck_assert_str_eq(t_plan->daemon_xdg_runtime_dir, "/srv/x");
	/* xdg without XDG_RUNTIME_DIR: libvirt's fallback, as a client. */
	in.xdg_runtime_dir = NULL;
	build_ok("[broker]\nruntime_dir = xdg\n", &in);
	ck_assert_str_eq(t_plan->runtime_dir, R);
	ck_assert_ptr_null(t_plan->daemon_xdg_runtime_dir);
}
END_TEST

/* What XDG_RUNTIME_DIR gave QEMU's audio is handed over explicitly. */
START_TEST(pipewire_runtime_dir_is_the_brokers_xdg_runtime_dir)
{
	struct plan_input in = session_input(qemu);

	build_ok("", &in);
	ck_assert_str_eq(t_plan->pipewire_runtime_dir, "/run/user/1000");
	in.xdg_runtime_dir = NULL;
	build_ok("", &in);
	ck_assert_ptr_null(t_plan->pipewire_runtime_dir);
}
END_TEST

START_TEST(unresolvable_runtime_dir_is_error)
{
	struct plan_input in = session_input(qemu);

	in.home = NULL;
	build_fails("", &in, -ENOENT, F ": cannot resolve the runtime "
	    "directory: neither XDG_CACHE_HOME nor HOME is set");
	in.xdg_runtime_dir = NULL;
	build_fails("[broker]\nruntime_dir = xdg\n", &in, -ENOENT, F ": cannot "
	    "resolve the runtime directory: neither XDG_RUNTIME_DIR, "
	    "XDG_CACHE_HOME nor HOME is set");
}
END_TEST

/*
 * plan.h: a sock_spec path is absolute. A relative $XDG_RUNTIME_DIR (the
 * XDG spec says to ignore those) must not give relative socket paths: the
 * plan may refuse it or resolve otherwise, but never bind "run/...".
 */
START_TEST(relative_xdg_runtime_dir_gives_no_relative_socket)
{
	struct plan_input in = session_input(qemu);
	int r;

	in.xdg_runtime_dir = "run/user/1000";
	r = build("[broker]\nruntime_dir = xdg\n", &in);
	if (r < 0)
		return;
	for (size_t i = 0; i < t_plan->nunits; i++)
		for (size_t j = 0; j < t_plan->units[i].nsockets; j++)
			ck_assert_msg(t_plan->units[i].sockets[j].path[0] ==
			    '/', "relative socket path %s",
			    t_plan->units[i].sockets[j].path);
}
END_TEST

START_TEST(broker_settings_carried_over)
{
	struct plan_input in = session_input(qemu);

	build_ok("[broker]\nbacklog = 64\nlog = syslog\n", &in);
	ck_assert_uint_eq(t_plan->backlog, 64);
	ck_assert(t_plan->log_syslog);
	build_ok("", &in);
	ck_assert_uint_eq(t_plan->backlog, CFG_DEFAULT_BACKLOG);
	ck_assert(!t_plan->log_syslog);
}
END_TEST

START_TEST(parse_errors_fail_the_plan)
{
	struct plan_input in = session_input(qemu);

	t_cfg = cfg_new(F);
	ck_assert_int_eq(cfg_parse_string(t_cfg, "[broker]\nbogus = 1\n"), 1);
	ck_assert_int_eq(plan_build(t_cfg, &in, &t_plan), -EINVAL);
	ck_assert_ptr_null(t_plan);
}
END_TEST

START_TEST(find_unknown_unit_is_null)
{
	struct plan_input in = session_input(qemu);

	build_ok("", &in);
	ck_assert_ptr_eq(plan_find(t_plan, "virtqemud"), &t_plan->units[0]);
	ck_assert_ptr_null(plan_find(t_plan, "virtfoo"));
	plan_free(NULL);
}
END_TEST

/* --- supervision settings and daemon logs --- */

START_TEST(supervision_defaults)
{
	struct plan_input in = session_input(everything);
	const struct unit_spec *u;

	build_ok("", &in);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->start_limit_burst, CFG_DEFAULT_START_LIMIT_BURST);
	ck_assert_uint_eq(u->start_limit_interval,
	    CFG_DEFAULT_START_LIMIT_INTERVAL);
	ck_assert_uint_eq(u->failed_cooldown, CFG_DEFAULT_FAILED_COOLDOWN);
	ck_assert_uint_eq(u->limit_memlock, 0);
	ck_assert_int_eq(u->log, DAEMON_LOG_FILE);
	ck_assert_uint_eq(u->log_max_size, CFG_DEFAULT_LOG_MAX_SIZE);
	ck_assert_uint_eq(u->log_keep, CFG_DEFAULT_LOG_KEEP);
	ck_assert_str_eq(u->log_path,
	    "/home/u/.local/state/virt-broker/log/virtqemud.log");
	ck_assert_str_eq(must_find("virtlogd")->log_path,
	    "/home/u/.local/state/virt-broker/log/virtlogd.log");
}
END_TEST

START_TEST(hypervisor_daemons_get_libvirts_nofile_limit)
{
	struct plan_input in = session_input(everything);

	build_ok("", &in);
	ck_assert_uint_eq(must_find("virtqemud")->limit_nofile,
	    PLAN_HYPERVISOR_NOFILE);
	ck_assert_uint_eq(must_find("virtnetworkd")->limit_nofile,
	    PLAN_DRIVER_NOFILE);
	ck_assert_uint_eq(must_find("virtlogd")->limit_nofile,
	    PLAN_VIRTLOGD_NOFILE);
	ck_assert_uint_eq(must_find("virtlockd")->limit_nofile,
	    PLAN_VIRTLOCKD_NOFILE);
	for (size_t i = 0; i < t_plan->nunits; i++)
		ck_assert_uint_eq(t_plan->units[i].limit_nofile_hard,
		    PLAN_NOFILE_HARD);
	in.arg = debian;
	build_ok("", &in);
	ck_assert_uint_eq(must_find("libvirtd")->limit_nofile,
	    PLAN_HYPERVISOR_NOFILE);
	/* A configured value replaces both; SOFT alone leaves hard free. */
	build_ok("[libvirtd]\nlimit_nofile = 4096\n[virtlogd]\n"
	    "limit_nofile = 100:200\n", &in);
	ck_assert_uint_eq(must_find("libvirtd")->limit_nofile, 4096);
	ck_assert_uint_eq(must_find("libvirtd")->limit_nofile_hard, 0);
	ck_assert_uint_eq(must_find("virtlogd")->limit_nofile, 100);
	ck_assert_uint_eq(must_find("virtlogd")->limit_nofile_hard, 200);
}
END_TEST

/* libvirt 12.5's order: virtlogd and virtlockd stop after the others. */
START_TEST(helpers_stop_last)
{
	struct plan_input in = system_input(everything);

	build_ok("", &in);
	for (size_t i = 0; i < t_plan->nunits; i++) {
		const struct unit_spec *u = &t_plan->units[i];
		bool helper = strcmp(u->name, "virtlogd") == 0 ||
		    strcmp(u->name, "virtlockd") == 0;

		ck_assert_msg(u->stop_last == helper, "%s", u->name);
	}
}
END_TEST

START_TEST(section_overrides_supervision_settings)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("[virtqemud]\nstart_limit_burst = 2\n"
	    "start_limit_interval = 7\nfailed_cooldown = 9\n"
	    "limit_nofile = infinity\nlimit_memlock = 64M\n"
	    "log_max_size = 8K\nlog_keep = 1\n", &in);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->start_limit_burst, 2);
	ck_assert_uint_eq(u->start_limit_interval, 7);
	ck_assert_uint_eq(u->failed_cooldown, 9);
	ck_assert_uint_eq(u->limit_nofile, CFG_LIMIT_INFINITY);
	ck_assert_uint_eq(u->limit_memlock, 64 * 1024 * 1024);
	ck_assert_uint_eq(u->log_max_size, 8192);
	ck_assert_uint_eq(u->log_keep, 1);
}
END_TEST

START_TEST(log_not_in_file_has_no_path)
{
	struct plan_input in = session_input(qemu_net);

	build_ok("[virtqemud]\nlog = syslog\n[virtnetworkd]\nlog = stderr\n",
	    &in);
	ck_assert_int_eq(must_find("virtqemud")->log, DAEMON_LOG_SYSLOG);
	ck_assert_ptr_null(must_find("virtqemud")->log_path);
	ck_assert_int_eq(must_find("virtnetworkd")->log, DAEMON_LOG_STDERR);
	ck_assert_ptr_null(must_find("virtnetworkd")->log_path);
}
END_TEST

START_TEST(log_dir_resolution)
{
	struct plan_input in = session_input(qemu);

	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, HOME_LOG_DIR);
	in.xdg_state_home = "/srv/state";
	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, "/srv/state/virt-broker/log");
	ck_assert_str_eq(must_find("virtqemud")->log_path,
	    "/srv/state/virt-broker/log/virtqemud.log");
	build_ok("[broker]\nlog_dir = /var/log/vb\n", &in);
	ck_assert_str_eq(t_plan->log_dir, "/var/log/vb");
	ck_assert_str_eq(must_find("virtqemud")->log_path,
	    "/var/log/vb/virtqemud.log");
	in = system_input(qemu);
	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, "/var/log/virt-broker");
}
END_TEST

START_TEST(log_dir_ignores_relative_or_empty_xdg_state_home)
{
	struct plan_input in = session_input(qemu);

	in.xdg_state_home = "state";
	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, HOME_LOG_DIR);
	in.xdg_state_home = "";
	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, HOME_LOG_DIR);
}
END_TEST

START_TEST(log_dir_home_root_and_no_home)
{
	struct plan_input in = session_input(qemu);

	in.home = "/";
	build_ok("", &in);
	ck_assert_str_eq(t_plan->log_dir, "/.local/state/virt-broker/log");
	in.home = NULL;
	build_ok("[broker]\nruntime_dir = xdg\n", &in);
	ck_assert_str_eq(t_plan->log_dir, "/run/user/1000/libvirt/log");
}
END_TEST

START_TEST(spec_copy_is_deep_and_equal)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("[virtqemud]\nenv = A=1\n"
	    "socket = virtqemud.socket virtqemud-sock 0660 kvm\n", &in);
	u = must_find("virtqemud");
	unit_spec_copy(&t_copy, u);
	ck_assert(unit_spec_equal(&t_copy, u));
	ck_assert(unit_spec_same_sockets(&t_copy, u));
	ck_assert_ptr_ne(t_copy.name, u->name);
	ck_assert_ptr_ne(t_copy.argv.v, u->argv.v);
	ck_assert_ptr_ne(t_copy.sockets, u->sockets);
	ck_assert_ptr_ne(t_copy.sockets[0].group, u->sockets[0].group);
	ck_assert_str_eq(t_copy.sockets[0].group, "kvm");
	ck_assert_str_eq(t_copy.log_path, u->log_path);
	unit_spec_clear(&t_copy);
	ck_assert_ptr_null(t_copy.name);
	ck_assert_uint_eq(t_copy.nsockets, 0);
}
END_TEST

START_TEST(spec_equal_notices_any_change)
{
	struct plan_input in = session_input(qemu);
	const struct unit_spec *u;

	build_ok("", &in);
	u = must_find("virtqemud");
	unit_spec_copy(&t_copy, u);
	t_copy.log_keep++;
	ck_assert(!unit_spec_equal(&t_copy, u));
	ck_assert(unit_spec_same_sockets(&t_copy, u));
	t_copy.log_keep--;
	strv_add(&t_copy.argv, "--verbose");
	ck_assert(!unit_spec_equal(&t_copy, u));
	ck_assert(unit_spec_same_sockets(&t_copy, u));
	unit_spec_clear(&t_copy);
	unit_spec_copy(&t_copy, u);
	t_copy.sockets[1].mode = 0666;
	ck_assert(!unit_spec_same_sockets(&t_copy, u));
	ck_assert(!unit_spec_equal(&t_copy, u));
	unit_spec_clear(&t_copy);
	unit_spec_copy(&t_copy, u);
	t_copy.nsockets = 1;
	ck_assert(!unit_spec_same_sockets(&t_copy, u));
	t_copy.nsockets = 2;
	unit_spec_clear(&t_copy);
}
END_TEST

/* --- plan_print --- */

static void
print_plan(void)
{
	size_t len = 0;
	FILE *fp = open_memstream(&t_str, &len);

	ck_assert_ptr_nonnull(fp);
	plan_print(t_plan, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
assert_printed(const char *line)
{
	ck_assert_msg(strstr(t_str, line) != NULL, "'%s' not in:\n%s", line,
	    t_str);
}

START_TEST(print_shows_default_unit)
{
	struct plan_input in = session_input(qemu);

	build_ok("", &in);
	print_plan();
	ck_assert_msg(strncmp(t_str, "mode session\nruntime_dir " R "\n",
	    strlen("mode session\nruntime_dir " R "\n")) == 0, "%s", t_str);
	assert_printed("unit virtqemud\n");
	assert_printed("\texec /usr/sbin/virtqemud --timeout 120\n");
	assert_printed("\tstart at-launch\n");
	assert_printed("\trestart on-failure\n");
	assert_printed("\tstop_timeout 30\n");
	assert_printed("\tstop_on_exit yes\n");
	assert_printed("\tsocket virtqemud.socket " R "/virtqemud-sock 0600\n");
	assert_printed("\tsocket virtqemud-admin.socket " R
	    "/virtqemud-admin-sock 0600\n");
	assert_printed("\tLISTEN_FDNAMES=virtqemud.socket:"
	    "virtqemud-admin.socket\n");
	assert_printed("\tstart_limit 5 in 10 s, failed_cooldown 30 s\n");
	assert_printed("\tlimit_nofile 8192\n");
	assert_printed("\tlog file /home/u/.local/state/virt-broker/log/"
	    "virtqemud.log (max 1048576 bytes, keep 3)\n");
	ck_assert_ptr_null(strstr(t_str, "limit_memlock"));
}
END_TEST

START_TEST(print_shows_limits_and_log_target)
{
	struct plan_input in = session_input(qemu);

	build_ok("[virtqemud]\nlimit_nofile = infinity\nlimit_memlock = 1K\n"
	    "log = syslog\nstart_limit_burst = 2\n", &in);
	print_plan();
	assert_printed("\tlimit_nofile infinity\n");
	assert_printed("\tlimit_memlock 1024\n");
	assert_printed("\tlog syslog\n");
	assert_printed("\tstart_limit 2 in 10 s, failed_cooldown 30 s\n");
}
END_TEST

START_TEST(print_shows_group_and_env)
{
	struct plan_input in = session_input(qemu);

	build_ok("[virtqemud]\nenv = LIBVIRT_DEBUG=1\nstop_on_exit = no\n"
	    "socket = virtqemud.socket virtqemud-sock 0660 libvirt\n", &in);
	print_plan();
	assert_printed("\tsocket virtqemud.socket " R "/virtqemud-sock 0660 "
	    "libvirt\n");
	assert_printed("\tenv LIBVIRT_DEBUG=1\n");
	assert_printed("\tstop_on_exit no\n");
	assert_printed("\tLISTEN_FDNAMES=virtqemud.socket\n");
}
END_TEST

START_TEST(print_system_mode_names_ro_socket)
{
	struct plan_input in = system_input(qemu);

	build_ok("", &in);
	print_plan();
	assert_printed("mode system\n");
	assert_printed("runtime_dir /run/libvirt\n");
	assert_printed("\tLISTEN_FDNAMES=virtqemud.socket:virtqemud-ro.socket:"
	    "virtqemud-admin.socket\n");
	assert_printed("\tsocket virtqemud-ro.socket "
	    "/run/libvirt/virtqemud-sock-ro 0666\n");
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc;

	tc = tcase_create("which_daemons");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, only_found_daemons_become_units);
	tcase_add_test(tc, nothing_installed_gives_empty_plan);
	tcase_add_test(tc, search_path_first_match_wins);
	tcase_add_test(tc, libvirtd_served_when_no_modular_daemon);
	tcase_add_test(tc, libvirtd_skipped_when_modular_daemon_found);
	tcase_add_test(tc, libvirtd_section_forces_it);
	tcase_add_test(tc, nwfilterd_and_proxyd_not_served_in_session_mode);
	tcase_add_test(tc, disabled_unit_not_in_plan_with_notice);
	tcase_add_test(tc, disabled_new_unit_needs_no_exec);
	tcase_add_test(tc, missing_daemons_listed_once);
	tcase_add_test(tc, no_missing_notice_when_all_found);
	tcase_add_test(tc, other_hypervisors_on_demand_where_installed);
	suite_add_tcase(s, tc);

	tc = tcase_create("catalog_defaults");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, start_at_launch_for_virtqemud_on_demand_for_others);
	tcase_add_test(tc, helpers_keep_running_and_have_no_args);
	tcase_add_test(tc, default_args_become_argv);
	tcase_add_test(tc, session_sockets_under_runtime_dir);
	tcase_add_test(tc, every_planned_unit_has_valid_fd_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, section_overrides_catalog_defaults);
	tcase_add_test(tc, section_keeps_unset_catalog_defaults);
	tcase_add_test(tc, empty_args_drop_default_args);
	tcase_add_test(tc, section_sockets_replace_catalog_sockets);
	tcase_add_test(tc, new_unit_is_added_after_catalog_units);
	tcase_add_test(tc, new_unit_without_exec_is_error_at_its_section);
	tcase_add_test(tc, new_unit_without_socket_is_error_at_its_section);
	tcase_add_test(tc, two_units_same_socket_path_is_error);
	tcase_add_test(tc, relative_and_absolute_same_path_is_error);
	tcase_add_test(tc, one_unit_same_socket_path_twice_is_error);
	tcase_add_test(tc, parse_errors_fail_the_plan);
	tcase_add_test(tc, find_unknown_unit_is_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("mode_runtime_dir");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, system_mode_uses_run_libvirt_and_ro_sockets);
	tcase_add_test(tc, system_mode_libvirtd_has_ro_socket);
	tcase_add_test(tc, file_mode_used_unless_forced);
	tcase_add_test(tc, session_runtime_dir_must_end_in_libvirt);
	tcase_add_test(tc, system_runtime_dir_may_be_anything);
	tcase_add_test(tc, session_runtime_dir_is_the_cache_fallback);
	tcase_add_test(tc, daemon_xdg_runtime_dir_is_dirname_of_another_runtime_dir);
	tcase_add_test(tc, pipewire_runtime_dir_is_the_brokers_xdg_runtime_dir);
	tcase_add_test(tc, unresolvable_runtime_dir_is_error);
	tcase_add_test(tc, relative_xdg_runtime_dir_gives_no_relative_socket);
	tcase_add_test(tc, broker_settings_carried_over);
	suite_add_tcase(s, tc);

	tc = tcase_create("supervision");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, supervision_defaults);
	tcase_add_test(tc, hypervisor_daemons_get_libvirts_nofile_limit);
	tcase_add_test(tc, helpers_stop_last);
	tcase_add_test(tc, section_overrides_supervision_settings);
	tcase_add_test(tc, log_not_in_file_has_no_path);
	tcase_add_test(tc, log_dir_resolution);
	tcase_add_test(tc, log_dir_ignores_relative_or_empty_xdg_state_home);
	tcase_add_test(tc, log_dir_home_root_and_no_home);
	tcase_add_test(tc, spec_copy_is_deep_and_equal);
	tcase_add_test(tc, spec_equal_notices_any_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("system_and_publish");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, socket_mode_and_group_from_broker_and_section);
	tcase_add_test(tc, broker_socket_mode_opens_only_main_sockets);
	tcase_add_test(tc, broker_socket_mode_opens_libvirtd_main_socket);
	tcase_add_test(tc, session_helpers_ignore_broker_socket_mode);
	tcase_add_test(tc, helper_socket_line_opens_it_with_a_warning);
	tcase_add_test(tc, admin_socket_line_opens_it_with_a_warning);
	tcase_add_test(tc, helper_section_socket_mode_warns);
	tcase_add_test(tc,
	    custom_unit_takes_broker_socket_mode_but_not_on_admin);
	tcase_add_test(tc, listen_tcp_and_tls_add_named_inet_sockets);
	tcase_add_test(tc, listen_tcp_is_off_by_default);
	tcase_add_test(tc, hypervisor_gets_memlock_in_system_mode_only);
	tcase_add_test(tc, publish_defaults_to_the_other_places_less_r);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, print_shows_default_unit);
	tcase_add_test(tc, print_shows_group_and_env);
	tcase_add_test(tc, print_shows_limits_and_log_target);
	tcase_add_test(tc, print_system_mode_names_ro_socket);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
