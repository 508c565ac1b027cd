/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for doctor's reading of flatpak's --filesystem entries
 * (ctl/doctor_flatpak.c, doctor_flatpak_sees): which host paths an app's
 * sandbox holds, for the tokens flathub's libvirt clients and `flatpak
 * override` use, with :ro/:create suffixes and "!" taking one back.
 */
#include <check.h>
#include <stdlib.h>

#include "doctor.h"
#include "strv.h"

#define HOME "/home/u"
#define XDG "/run/user/1000"
#define P XDG "/libvirt"
#define R HOME "/.cache/libvirt"

static bool
sees(const char *path, const char *entries[])
{
	struct strv fs = { 0 };
	bool r;

	for (size_t i = 0; entries[i] != NULL; i++)
		strv_add(&fs, entries[i]);
	r = doctor_flatpak_sees(&fs, HOME, XDG, path);
	strv_free(&fs);
	return r;
}

START_TEST(flathubs_virt_manager_sees_the_links_not_their_targets)
{
	const char *fs[] = { "xdg-documents", "/run/libvirt",
		"xdg-run/libvirt", "~/.ssh", NULL };

	ck_assert(sees(P, fs));
	ck_assert(sees(P "/virtqemud-sock", fs));
	ck_assert(sees("/run/libvirt/virtqemud-sock", fs));
	ck_assert(!sees(R, fs));
	ck_assert(!sees(XDG "/libvirt-other", fs));
}
END_TEST

START_TEST(each_token_that_covers_the_cache_dir)
{
	const char *const tokens[] = { "~/.cache/libvirt", "~/.cache",
		"xdg-cache/libvirt", "xdg-cache:ro", "home", "~", "host",
		"host:rw", R ":create", "/home", NULL };

	for (size_t i = 0; tokens[i] != NULL; i++) {
		const char *fs[] = { tokens[i], NULL };

		ck_assert_msg(sees(R, fs), "%s", tokens[i]);
	}
}
END_TEST

START_TEST(tokens_that_do_not)
{
	const char *const tokens[] = { "~/.cache/libvirt2", "xdg-config",
		"xdg-run/libvirt", "xdg-documents", "/home/u2", "~/.ca", NULL };

	for (size_t i = 0; tokens[i] != NULL; i++) {
		const char *fs[] = { tokens[i], NULL };

		ck_assert_msg(!sees(R, fs), "%s", tokens[i]);
	}
}
END_TEST

START_TEST(a_later_negation_takes_it_back_and_a_later_grant_gives_it)
{
	const char *back[] = { "home", "!home", NULL };
	const char *again[] = { "home", "!home", "~/.cache/libvirt", NULL };

	ck_assert(!sees(R, back));
	ck_assert(sees(R, again));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("doctor_flatpak");
	TCase *tc = tcase_create("sees");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, flathubs_virt_manager_sees_the_links_not_their_targets);
	tcase_add_test(tc, each_token_that_covers_the_cache_dir);
	tcase_add_test(tc, tokens_that_do_not);
	tcase_add_test(tc, a_later_negation_takes_it_back_and_a_later_grant_gives_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
