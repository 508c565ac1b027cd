/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the config parser and the plan built from it, the
 * code that reads what users write. Any input must give errors or a plan,
 * never a crash, a leak or undefined behaviour.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Some catalog daemons "exist", so every plan branch is reachable. */
static bool
fake_exec(const char *path, void *arg)
{
	(void)arg;
	return strstr(path, "virtqemud") != NULL ||
	    strstr(path, "virtlogd") != NULL || strstr(path, "/bin/") != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct plan_input in = {
		.default_mode = BROKER_MODE_SESSION,
		.xdg_runtime_dir = "/run/user/1000",
		.home = "/home/user",
		.is_executable = fake_exec,
	};
	struct config *cfg;
	struct plan *plan = NULL;
	FILE *fp;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	if (size == 0)
		return 0;
	/* As a file, the way the broker reads it: NUL bytes included. */
	fp = fmemopen((void *)(uintptr_t)data, size, "r");
	if (fp == NULL)
		return 0;
	cfg = cfg_new("fuzz.conf");
	cfg_parse(cfg, fp);
	fclose(fp);
	if (plan_build(cfg, &in, &plan) == 0) {
		if (sink != NULL)
			plan_print(plan, sink);
		plan_free(plan);
	}
	cfg_free(cfg);
	return 0;
}
