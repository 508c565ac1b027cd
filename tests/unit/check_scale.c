/* SPDX-License-Identifier: MIT */
/*
 * Nothing in the pure core may grow faster than the number of units: the
 * configuration, the plan and the reexec state of 10 000 units cost about
 * ten times what 1 000 cost. Counted in string comparisons, not time: this
 * executable is linked with --wrap=strcmp/strncmp/memcmp (tests/unit/
 * CMakeLists.txt), so every comparison the core makes passes through the
 * counters below. A pass comparing every unit or path with every other
 * one makes the ratio ~100.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "reexec_state.h"
#include "xalloc.h"

static unsigned long ncmp;

int	__real_strcmp(const char *, const char *);
int	__real_strncmp(const char *, const char *, size_t);
int	__real_memcmp(const void *, const void *, size_t);
int	__wrap_strcmp(const char *, const char *);
int	__wrap_strncmp(const char *, const char *, size_t);
int	__wrap_memcmp(const void *, const void *, size_t);

int
__wrap_strcmp(const char *a, const char *b)
{
	ncmp++;
	return __real_strcmp(a, b);
}

int
__wrap_strncmp(const char *a, const char *b, size_t n)
{
	ncmp++;
	return __real_strncmp(a, b, n);
}

int
__wrap_memcmp(const void *a, const void *b, size_t n)
{
	ncmp++;
	return __real_memcmp(a, b, n);
}

static bool
all_executable(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	return true;
}

/* A session broker's input where every binary exists. */
static const struct plan_input in = {
	.default_mode = BROKER_MODE_SESSION,
	.xdg_runtime_dir = "/run/user/1000",
	.home = "/home/u",
	.is_executable = all_executable,
};

/* n units of three sockets each, as tests/bench/run writes them. */
static char *
config_text(size_t n, bool dup_last)
{
	size_t cap = 64 + n * 200, len;
	char *s = xmalloc(cap);

	len = (size_t)snprintf(s, cap, "[broker]\nsearch_path = /x\n");
	for (size_t u = 0; u < n; u++)
		len += (size_t)snprintf(s + len, cap - len, "[u%zu]\n"
		    "exec = /x/fake\nargs = --exit-after 1\n"
		    "socket = a.socket u%zu-a\nsocket = b.socket u%zu-b\n"
		    "socket = c.socket u%zu-c\nlog = stderr\n", u, u, u,
		    dup_last && u == n - 1 ? (size_t)0 : u);
	return s;
}

/* Comparisons made by parsing and planning n units; the plan is checked. */
static unsigned long
plan_cost(size_t n)
{
	struct config *cfg = cfg_new("/etc/scale.conf");
	struct plan *plan = NULL;
	char *text = config_text(n, false), name[32];
	unsigned long before = ncmp, cost;
	size_t nsockets = 0;

	ck_assert_int_eq(cfg_parse_string(cfg, text), 0);
	ck_assert_int_eq(plan_build(cfg, &in, &plan), 0);
	cost = ncmp - before;
	for (size_t i = 0; i < plan->nunits; i++)
		nsockets += plan->units[i].nsockets;
	ck_assert_uint_ge(plan->nunits, n);
	ck_assert_uint_ge(nsockets, 3 * n);
	snprintf(name, sizeof(name), "u%zu", n - 1);
	ck_assert_ptr_nonnull(plan_find(plan, name));
	ck_assert_str_eq(plan_find(plan, name)->name, name);
	ck_assert_ptr_null(plan_find(plan, "u-none"));
	plan_free(plan);
	cfg_free(cfg);
	free(text);
	return cost;
}

START_TEST(plan_of_10000_units_is_linear)
{
	unsigned long c1 = plan_cost(1000), c10 = plan_cost(10000);

	printf("scale: parse + plan: 1000 units %lu comparisons, 10000 units "
	    "%lu (x%.2f)\n", c1, c10, (double)c10 / (double)c1);
	ck_assert_msg(c10 <= 11 * c1, "10x the units cost %.1fx the "
	    "comparisons", (double)c10 / (double)c1);
	ck_assert_msg(c10 <= 10000UL * 300, "%lu comparisons for 10000 units",
	    c10);
}
END_TEST

/* The duplicate check is a hash too, and still names both units. */
START_TEST(duplicate_path_among_10000_units)
{
	struct config *cfg = cfg_new("/etc/scale.conf");
	struct plan *plan = NULL;
	char *text = config_text(10000, true);
	bool found = false;

	ck_assert_int_eq(cfg_parse_string(cfg, text), 0);
	ck_assert_int_lt(plan_build(cfg, &in, &plan), 0);
	ck_assert_ptr_null(plan);
	for (size_t i = 0; i < cfg->errors.n; i++)
		if (strstr(cfg->errors.v[i], "u0-c is given to both unit u0 "
		    "and unit u9999") != NULL)
			found = true;
	ck_assert_msg(found, "errors: %s", cfg->errors.n > 0 ?
	    cfg->errors.v[0] : "(none)");
	cfg_free(cfg);
	free(text);
}
END_TEST

static unsigned long
reexec_cost(size_t n)
{
	struct reexec_state st = { 0 }, back = { 0 };
	unsigned long before;
	char *text, err[128], name[32];

	for (size_t i = 0; i < n; i++) {
		struct reexec_unit u = { .activations = (unsigned)i };

		snprintf(name, sizeof(name), "u%zu", i);
		u.name = name;
		reexec_state_add(&st, &u);
	}
	before = ncmp;
	text = reexec_state_format(&st);
	ck_assert_int_eq(reexec_state_parse(text, &back, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		const struct reexec_unit *u;

		snprintf(name, sizeof(name), "u%zu", i);
		u = reexec_state_find(&back, name);
		ck_assert_ptr_nonnull(u);
		ck_assert_uint_eq(u->activations, i);
	}
	before = ncmp - before;
	free(text);
	reexec_state_free(&st);
	reexec_state_free(&back);
	return before;
}

START_TEST(reexec_state_of_10000_units_is_linear)
{
	unsigned long c1 = reexec_cost(1000), c10 = reexec_cost(10000);

	printf("scale: reexec state: 1000 units %lu comparisons, 10000 units "
	    "%lu\n", c1, c10);
	ck_assert_msg(c10 <= 11 * c1 + 100, "10x the units cost %lu vs %lu "
	    "comparisons", c10, c1);
}
END_TEST

static Suite *
scale_suite(void)
{
	Suite *s = suite_create("scale");
	TCase *tc = tcase_create("scale");

	tcase_set_timeout(tc, 60);	/* valgrind */
	tcase_add_test(tc, plan_of_10000_units_is_linear);
	tcase_add_test(tc, duplicate_path_among_10000_units);
	tcase_add_test(tc, reexec_state_of_10000_units_is_linear);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(scale_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
