/* SPDX-License-Identifier: MIT */
/* Unit tests for strmap: every operation against a plain array. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define NKEYS 5000

static char keys[NKEYS][16];

static void
make_keys(void)
{
	for (size_t i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "u%zu-a", i);
}

START_TEST(add_get_and_duplicates)
{
	struct strmap m = { 0 };
	size_t v;

	make_keys();
	ck_assert(!strmap_get(&m, "nothing", &v));
	for (size_t i = 0; i < NKEYS; i++)
		ck_assert(strmap_add(&m, keys[i], i, NULL));
	ck_assert_uint_eq(m.n, NKEYS);
	ck_assert_uint_le(m.n * 2, m.cap);	/* at most half full */
	for (size_t i = 0; i < NKEYS; i++) {
		char copy[16];

		memcpy(copy, keys[i], sizeof(copy));	/* by value, not pointer */
		ck_assert(strmap_get(&m, copy, &v));
		ck_assert_uint_eq(v, i);
	}
	ck_assert(!strmap_add(&m, "u7-a", 99, &v));
	ck_assert_uint_eq(v, 7);			/* the first one stays */
	ck_assert(!strmap_get(&m, "u7", &v));
	ck_assert(!strmap_get(&m, "", &v));
	strmap_set(&m, "u7-a", 99);
	ck_assert(strmap_get(&m, "u7-a", &v));
	ck_assert_uint_eq(v, 99);
	ck_assert_uint_eq(m.n, NKEYS);
	strmap_clear(&m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert(!strmap_get(&m, "u1-a", &v));
}
END_TEST

/* Deletes in a scattered order; every other key stays findable. */
START_TEST(delete_keeps_the_rest_findable)
{
	struct strmap m = { 0 };
	static bool gone[NKEYS];
	size_t v;

	make_keys();
	memset(gone, 0, sizeof(gone));
	for (size_t i = 0; i < NKEYS; i++)
		strmap_add(&m, keys[i], i, NULL);
	for (size_t k = 0; k < NKEYS; k += 3) {
		size_t i = (k * 7919) % NKEYS;

		ck_assert(strmap_del(&m, keys[i]) == !gone[i]);
		gone[i] = true;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		ck_assert_msg(strmap_get(&m, keys[i], &v) == !gone[i],
		    "key %s", keys[i]);
		if (!gone[i])
			ck_assert_uint_eq(v, i);
	}
	/* Deleted keys come back. */
	for (size_t i = 0; i < NKEYS; i++)
		if (gone[i])
			ck_assert(strmap_add(&m, keys[i], i + 1, NULL));
	ck_assert_uint_eq(m.n, NKEYS);
	for (size_t i = 0; i < NKEYS; i++) {
		ck_assert(strmap_get(&m, keys[i], &v));
		ck_assert_uint_eq(v, gone[i] ? i + 1 : i);
	}
	ck_assert(!strmap_del(&m, "none"));
	strmap_clear(&m);
}
END_TEST

static Suite *
strmap_suite(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");

	tcase_add_test(tc, add_get_and_duplicates);
	tcase_add_test(tc, delete_keeps_the_rest_findable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(strmap_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
