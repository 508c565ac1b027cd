/* SPDX-License-Identifier: MIT */
/* virt-brokerctl doctor's findings and how they are printed (doctor.h). */
#include <stdio.h>
#include <stdlib.h>

#include "doctor.h"
#include "json.h"
#include "xalloc.h"

static const char *const level_names[] = { "ok", "warn", "fail" };

/* Takes what and fix (malloc'd; fix may be NULL). */
void
doctor_add(struct doctor *d, const char *check, enum doctor_level lv,
    char *what, char *fix)
{
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n].check = check;
	d->v[d->n].level = lv;
	d->v[d->n].what = what;
	d->v[d->n].fix = fix;
	d->n++;
}

void
doctor_free(struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].what);
		free(d->v[i].fix);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* 0 when nothing fails, 1 otherwise. */
int
doctor_exit_status(const struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == DOCTOR_FAIL)
			return 1;
	return 0;
}

/*
 *   ok   broker       serves 10 units in /home/u/.cache/libvirt
 *   fail daemons      pid 4242 virtqemud --timeout=120 ...
 *                     fix: kill 4242
 */
void
doctor_print_text(const struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->v[i];

		printf("%-4s %-12s %s\n", level_names[f->level], f->check,
		    f->what);
		if (f->fix != NULL)
			printf("%-17s fix: %s\n", "", f->fix);
	}
}

/* [{"check": ..., "result": "ok|warn|fail", "found": ..., "fix": ...}] */
void
doctor_print_json(const struct doctor *d)
{
	printf("[");
	for (size_t i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->v[i];

		printf("%s\n  {\"check\": ", i > 0 ? "," : "");
		json_string(f->check);
		printf(", \"result\": \"%s\", \"found\": ",
		    level_names[f->level]);
		json_string(f->what);
		printf(", \"fix\": ");
		if (f->fix != NULL)
			json_string(f->fix);
		else
			printf("null");
		printf("}");
	}
	printf("\n]\n");
}
