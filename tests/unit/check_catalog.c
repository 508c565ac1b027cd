/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/catalog.c: the built-in daemons must match
 * libvirt's socket units (9.0 and 11.x alike, LIBVIRT.md), or a daemon
 * rejects its fds.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "listenfds.h"

static const char *const modular_daemons[] = {
	"virtqemud", "virtnetworkd", "virtstoraged", "virtnodedevd",
	"virtsecretd", "virtinterfaced", "virtnwfilterd",
};

static const char *const all_daemons[] = {
	"virtqemud", "virtnetworkd", "virtstoraged", "virtnodedevd",
	"virtsecretd", "virtinterfaced", "virtnwfilterd", "virtlogd",
	"virtlockd", "virtproxyd", "libvirtd", "virtchd", "virtvboxd",
	"virtlxcd", "virtxend", "virtvzd",
};

/* Hypervisor daemons besides virtqemud: on demand; the first two have a
 * session mode. */
static const char *const other_hypervisors[] = {
	"virtchd", "virtvboxd", "virtlxcd", "virtxend", "virtvzd",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct catalog_entry *
must_find(const char *name)
{
	const struct catalog_entry *e = catalog_find(name);

	ck_assert_msg(e != NULL, "%s is not in the catalog", name);
	return e;
}

/* The socket of list s whose fd name is name, or NULL. */
static const struct catalog_socket *
sock_named(const struct catalog_socket *s, const char *name)
{
	for (size_t i = 0; i < catalog_nsockets(s); i++)
		if (strcmp(s[i].name, name) == 0)
			return &s[i];
	return NULL;
}

static void
assert_socket(const struct catalog_socket *list, const char *name,
    const char *path, unsigned mode)
{
	const struct catalog_socket *s = sock_named(list, name);

	ck_assert_msg(s != NULL, "no socket named %s", name);
	ck_assert_str_eq(s->path, path);
	ck_assert_uint_eq(s->mode, mode);
}

/* --- contents --- */

START_TEST(catalog_lists_libvirt_daemons)
{
	size_t n;

	ck_assert_ptr_nonnull(catalog_entries(&n));
	ck_assert_uint_eq(n, NELEM(all_daemons));
	for (size_t i = 0; i < NELEM(all_daemons); i++)
		must_find(all_daemons[i]);
}
END_TEST

START_TEST(catalog_names_are_unique_valid_unit_names)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(cfg_unit_name_is_valid(e[i].name),
		    "%s is not a valid unit name", e[i].name);
		for (size_t j = i + 1; j < n; j++)
			ck_assert_str_ne(e[i].name, e[j].name);
	}
}
END_TEST

START_TEST(catalog_roles)
{
	ck_assert_int_eq(must_find("virtqemud")->role, CATALOG_HYPERVISOR);
	for (size_t i = 1; i < NELEM(modular_daemons); i++)
		ck_assert_int_eq(must_find(modular_daemons[i])->role,
		    CATALOG_DRIVER);
	ck_assert_int_eq(must_find("virtlogd")->role, CATALOG_HELPER);
	ck_assert_int_eq(must_find("virtlockd")->role, CATALOG_HELPER);
	ck_assert_int_eq(must_find("virtproxyd")->role, CATALOG_PROXY);
	ck_assert_int_eq(must_find("libvirtd")->role, CATALOG_MONOLITHIC);
	for (size_t i = 0; i < NELEM(other_hypervisors); i++) {
		const struct catalog_entry *e = must_find(other_hypervisors[i]);

		ck_assert_int_eq(e->role, CATALOG_OTHER_HYPERVISOR);
		ck_assert(catalog_is_modular(e));
		ck_assert_uint_eq(catalog_nsockets(e->session), i < 2 ? 2 : 0);
		ck_assert_uint_eq(catalog_nsockets(e->system), 3);
	}
}
END_TEST

START_TEST(catalog_default_args)
{
	ck_assert_str_eq(must_find("virtqemud")->args, "--timeout 120");
	ck_assert_str_eq(must_find("virtnetworkd")->args, "--timeout 120");
	ck_assert_str_eq(must_find("libvirtd")->args, "--timeout 120");
	/* The helpers hold guests' logs and locks: no idle exit. */
	ck_assert_str_eq(must_find("virtlogd")->args, "");
	ck_assert_str_eq(must_find("virtlockd")->args, "");
}
END_TEST

/* plan.c decides on libvirtd after it has seen every other daemon. */
START_TEST(catalog_lists_libvirtd_last)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(e[n - 1].name, "libvirtd");
}
END_TEST

/* --- fd names --- */

static void
assert_fd_names(const struct catalog_entry *e, const struct catalog_socket *s,
    const char *which)
{
	size_t n = catalog_nsockets(s);
	char main_name[64], ro_name[64], admin_name[64];

	snprintf(main_name, sizeof(main_name), "%s.socket", e->name);
	snprintf(ro_name, sizeof(ro_name), "%s-ro.socket", e->name);
	snprintf(admin_name, sizeof(admin_name), "%s-admin.socket", e->name);
	ck_assert_uint_le(n, CATALOG_MAX_SOCKETS);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(lfd_name_is_valid(s[i].name),
		    "%s %s: invalid fd name '%s'", e->name, which, s[i].name);
		ck_assert_msg(strcmp(s[i].name, main_name) == 0 ||
		    strcmp(s[i].name, ro_name) == 0 ||
		    strcmp(s[i].name, admin_name) == 0,
		    "%s %s: '%s' is not one of libvirt's unit names", e->name,
		    which, s[i].name);
		for (size_t j = i + 1; j < n; j++) {
			ck_assert_str_ne(s[i].name, s[j].name);
			ck_assert_str_ne(s[i].path, s[j].path);
		}
		/* Paths are relative to the runtime dir. */
		ck_assert_ptr_null(strchr(s[i].path, '/'));
	}
	if (n > 0) {
		ck_assert_str_eq(s[0].name, main_name);
		ck_assert_str_eq(s[n - 1].name, admin_name);
	}
}

START_TEST(fd_names_valid_distinct_and_libvirts)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		assert_fd_names(&e[i], e[i].session, "session");
		assert_fd_names(&e[i], e[i].system, "system");
	}
}
END_TEST

START_TEST(session_lists_have_no_ro_socket)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < catalog_nsockets(e[i].session); j++) {
			ck_assert_ptr_null(strstr(e[i].session[j].name, "-ro"));
			ck_assert_ptr_null(strstr(e[i].session[j].path, "-ro"));
		}
	}
}
END_TEST

START_TEST(system_lists_have_ro_socket_except_helpers)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		char ro[64];
		bool has;

		snprintf(ro, sizeof(ro), "%s-ro.socket", e[i].name);
		has = sock_named(e[i].system, ro) != NULL;
		ck_assert_msg(has == (e[i].role != CATALOG_HELPER),
		    "%s: system -ro socket %s", e[i].name,
		    has ? "present" : "missing");
	}
}
END_TEST

/* --- paths and modes --- */

START_TEST(session_paths_are_sock_and_admin_sock)
{
	for (size_t i = 0; i < NELEM(all_daemons); i++) {
		const struct catalog_entry *e = must_find(all_daemons[i]);
		char main_name[64], admin_name[64], sock[64], admin[64];

		if (strcmp(e->name, "virtnwfilterd") == 0 ||
		    strcmp(e->name, "virtproxyd") == 0 ||
		    strcmp(e->name, "libvirtd") == 0 ||
		    strcmp(e->name, "virtlxcd") == 0 ||
		    strcmp(e->name, "virtxend") == 0 ||
		    strcmp(e->name, "virtvzd") == 0)
			continue;	/* system only */
		snprintf(main_name, sizeof(main_name), "%s.socket", e->name);
		snprintf(admin_name, sizeof(admin_name), "%s-admin.socket",
		    e->name);
		snprintf(sock, sizeof(sock), "%s-sock", e->name);
		snprintf(admin, sizeof(admin), "%s-admin-sock", e->name);
		ck_assert_uint_eq(catalog_nsockets(e->session), 2);
		assert_socket(e->session, main_name, sock, 0600);
		assert_socket(e->session, admin_name, admin, 0600);
	}
}
END_TEST

START_TEST(system_paths_and_modes_of_drivers)
{
	for (size_t i = 0; i < NELEM(modular_daemons); i++) {
		const struct catalog_entry *e = must_find(modular_daemons[i]);
		char n1[64], n2[64], n3[64], p1[64], p2[64], p3[64];

		snprintf(n1, sizeof(n1), "%s.socket", e->name);
		snprintf(n2, sizeof(n2), "%s-ro.socket", e->name);
		snprintf(n3, sizeof(n3), "%s-admin.socket", e->name);
		snprintf(p1, sizeof(p1), "%s-sock", e->name);
		snprintf(p2, sizeof(p2), "%s-sock-ro", e->name);
		snprintf(p3, sizeof(p3), "%s-admin-sock", e->name);
		ck_assert_uint_eq(catalog_nsockets(e->system), 3);
		assert_socket(e->system, n1, p1, 0600);
		assert_socket(e->system, n2, p2, 0666);
		assert_socket(e->system, n3, p3, 0600);
	}
}
END_TEST

START_TEST(helpers_have_same_sockets_in_both_modes)
{
	const char *helpers[] = { "virtlogd", "virtlockd" };

	for (size_t i = 0; i < NELEM(helpers); i++) {
		const struct catalog_entry *e = must_find(helpers[i]);
		char n1[64], n2[64], p1[64], p2[64];

		snprintf(n1, sizeof(n1), "%s.socket", e->name);
		snprintf(n2, sizeof(n2), "%s-admin.socket", e->name);
		snprintf(p1, sizeof(p1), "%s-sock", e->name);
		snprintf(p2, sizeof(p2), "%s-admin-sock", e->name);
		ck_assert_uint_eq(catalog_nsockets(e->system), 2);
		assert_socket(e->system, n1, p1, 0600);
		assert_socket(e->system, n2, p2, 0600);
	}
}
END_TEST

START_TEST(nwfilterd_and_proxyd_have_no_session_sockets)
{
	ck_assert_uint_eq(catalog_nsockets(must_find("virtnwfilterd")->session),
	    0);
	ck_assert_uint_eq(catalog_nsockets(must_find("virtproxyd")->session),
	    0);
}
END_TEST

START_TEST(libvirtd_uses_libvirt_sock)
{
	const struct catalog_entry *e = must_find("libvirtd");

	ck_assert_uint_eq(catalog_nsockets(e->session), 2);
	ck_assert_str_eq(e->session[0].name, "libvirtd.socket");
	ck_assert_str_eq(e->session[0].path, "libvirt-sock");
	ck_assert_uint_eq(e->session[0].mode, 0600);
	ck_assert_str_eq(e->session[1].name, "libvirtd-admin.socket");
	ck_assert_str_eq(e->session[1].path, "libvirt-admin-sock");
	ck_assert_uint_eq(e->session[1].mode, 0600);
	ck_assert_uint_eq(catalog_nsockets(e->system), 3);
	assert_socket(e->system, "libvirtd.socket", "libvirt-sock", 0600);
	assert_socket(e->system, "libvirtd-ro.socket", "libvirt-sock-ro", 0666);
	assert_socket(e->system, "libvirtd-admin.socket", "libvirt-admin-sock",
	    0600);
}
END_TEST

START_TEST(proxyd_serves_libvirt_sock_in_system_mode)
{
	const struct catalog_entry *e = must_find("virtproxyd");

	ck_assert_uint_eq(catalog_nsockets(e->system), 3);
	assert_socket(e->system, "virtproxyd.socket", "libvirt-sock", 0600);
	assert_socket(e->system, "virtproxyd-ro.socket", "libvirt-sock-ro",
	    0666);
	assert_socket(e->system, "virtproxyd-admin.socket",
	    "libvirt-admin-sock", 0600);
}
END_TEST

START_TEST(modes_are_0600_main_admin_0666_ro)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		const struct catalog_socket *lists[] = { e[i].session,
		    e[i].system };

		for (size_t l = 0; l < 2; l++) {
			for (size_t j = 0; j < catalog_nsockets(lists[l]);
			    j++) {
				const struct catalog_socket *s = &lists[l][j];
				unsigned want = strstr(s->name, "-ro.socket") !=
				    NULL ? 0666 : 0600;

				ck_assert_msg(s->mode == want, "%s: mode %04o",
				    s->name, s->mode);
			}
		}
	}
}
END_TEST

/* Only virtproxyd and libvirtd may share a path: they never run together. */
START_TEST(no_two_daemons_share_a_path)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (int sys = 0; sys < 2; sys++) {
		for (size_t i = 0; i < n; i++) {
			const struct catalog_socket *a = sys ? e[i].system :
			    e[i].session;

			for (size_t k = i + 1; k < n; k++) {
				const struct catalog_socket *b = sys ?
				    e[k].system : e[k].session;
				bool pair = strcmp(e[i].name, "virtproxyd") ==
				    0 && strcmp(e[k].name, "libvirtd") == 0;

				for (size_t x = 0; x < catalog_nsockets(a); x++)
					for (size_t y = 0;
					    y < catalog_nsockets(b); y++)
						ck_assert_msg(pair || strcmp(
						    a[x].path, b[y].path) != 0,
						    "%s and %s share %s",
						    e[i].name, e[k].name,
						    a[x].path);
			}
		}
	}
}
END_TEST

/* --- lookup --- */

START_TEST(find_returns_entry)
{
	size_t n;
	const struct catalog_entry *all = catalog_entries(&n);
	const struct catalog_entry *e = catalog_find("virtqemud");

	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->name, "virtqemud");
	ck_assert(e >= all && e < all + n);
	ck_assert_str_eq(must_find("libvirtd")->name, "libvirtd");
}
END_TEST

START_TEST(find_unknown_is_null)
{
	ck_assert_ptr_null(catalog_find("virtfood"));
	ck_assert_ptr_null(catalog_find(""));
	ck_assert_ptr_null(catalog_find("virtqemu"));
	ck_assert_ptr_null(catalog_find("virtqemudd"));
	ck_assert_ptr_null(catalog_find("VIRTQEMUD"));
}
END_TEST

START_TEST(nsockets_counts_until_null_name)
{
	const struct catalog_socket none[CATALOG_MAX_SOCKETS] = { { 0 } };

	ck_assert_uint_eq(catalog_nsockets(none), 0);
	ck_assert_uint_eq(catalog_nsockets(must_find("virtqemud")->system), 3);
}
END_TEST

START_TEST(modular_only_for_hypervisor_and_drivers)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++) {
		bool want = e[i].role == CATALOG_HYPERVISOR ||
		    e[i].role == CATALOG_DRIVER ||
		    e[i].role == CATALOG_OTHER_HYPERVISOR;

		ck_assert_msg(catalog_is_modular(&e[i]) == want, "%s",
		    e[i].name);
	}
	ck_assert(catalog_is_modular(must_find("virtqemud")));
	ck_assert(catalog_is_modular(must_find("virtnetworkd")));
	ck_assert(!catalog_is_modular(must_find("virtlogd")));
	ck_assert(!catalog_is_modular(must_find("virtlockd")));
	ck_assert(!catalog_is_modular(must_find("virtproxyd")));
	ck_assert(!catalog_is_modular(must_find("libvirtd")));
}
END_TEST

static Suite *
catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc;

	tc = tcase_create("contents");
	tcase_add_test(tc, catalog_lists_libvirt_daemons);
	tcase_add_test(tc, catalog_names_are_unique_valid_unit_names);
	tcase_add_test(tc, catalog_roles);
	tcase_add_test(tc, catalog_default_args);
	tcase_add_test(tc, catalog_lists_libvirtd_last);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd_names");
	tcase_add_test(tc, fd_names_valid_distinct_and_libvirts);
	tcase_add_test(tc, session_lists_have_no_ro_socket);
	tcase_add_test(tc, system_lists_have_ro_socket_except_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths_modes");
	tcase_add_test(tc, session_paths_are_sock_and_admin_sock);
	tcase_add_test(tc, system_paths_and_modes_of_drivers);
	tcase_add_test(tc, helpers_have_same_sockets_in_both_modes);
	tcase_add_test(tc, nwfilterd_and_proxyd_have_no_session_sockets);
	tcase_add_test(tc, libvirtd_uses_libvirt_sock);
	tcase_add_test(tc, proxyd_serves_libvirt_sock_in_system_mode);
	tcase_add_test(tc, modes_are_0600_main_admin_0666_ro);
	tcase_add_test(tc, no_two_daemons_share_a_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, find_returns_entry);
	tcase_add_test(tc, find_unknown_is_null);
	tcase_add_test(tc, nsockets_counts_until_null_name);
	tcase_add_test(tc, modular_only_for_hypervisor_and_drivers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(catalog_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
