/* SPDX-License-Identifier: MIT */
/*
 * Pure: the plan as text, for virt-broker -n (users and tests read it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "listenfds.h"
#include "plan.h"
#include "xalloc.h"

static void
print_words(FILE *out, const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		fprintf(out, "%s%s", i > 0 ? " " : "", sv->v[i]);
}

static void
print_limit(FILE *out, const char *name, uint64_t v)
{
	if (v == CFG_LIMIT_INFINITY)
		fprintf(out, "\t%s infinity\n", name);
	else
		fprintf(out, "\t%s %llu\n", name, (unsigned long long)v);
}

/* The dry run (-n): a stable, line-oriented text users and tests read. */
void
plan_print(const struct plan *plan, FILE *out)
{
	fprintf(out, "mode %s\n", broker_mode_name(plan->mode));
	fprintf(out, "runtime_dir %s\n", plan->runtime_dir);
	if (plan->mode == BROKER_MODE_SESSION)
		fprintf(out, "on_shutdown %s (at most %u s, by %s)\n",
		    on_shutdown_name(plan->on_shutdown), plan->shutdown_timeout,
		    plan->ctl_exe != NULL ? plan->ctl_exe :
		    "no virt-brokerctl found: none");
	for (size_t i = 0; i < plan->publish.n; i++)
		fprintf(out, "publish %s\n", plan->publish.v[i]);
	if (plan->mode == BROKER_MODE_SESSION)
		fprintf(out, "daemons' XDG_RUNTIME_DIR %s\n",
		    plan->daemon_xdg_runtime_dir != NULL ?
		    plan->daemon_xdg_runtime_dir : "unset");
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct unit_spec *u = &plan->units[i];
		const char **names = xcalloc(u->nsockets, sizeof(*names));
		char *joined = NULL;

		fprintf(out, "unit %s\n\texec ", u->name);
		print_words(out, &u->argv);
		fprintf(out, "\n\tstart %s\n\trestart %s\n\tstop_timeout %u\n"
		    "\tstop_on_exit %s\n", start_policy_name(u->start),
		    restart_policy_name(u->restart), u->stop_timeout,
		    u->stop_on_exit ? "yes" : "no");
		fprintf(out, "\tstart_limit %u in %u s, failed_cooldown %u s\n",
		    u->start_limit_burst, u->start_limit_interval,
		    u->failed_cooldown);
		if (u->user != NULL)
			fprintf(out, "\tuser %s (its session broker, stopped "
			    "first)\n", u->user);
		if (u->limit_nofile != 0)
			print_limit(out, "limit_nofile", u->limit_nofile);
		if (u->limit_memlock != 0)
			print_limit(out, "limit_memlock", u->limit_memlock);
		fprintf(out, "\tlog %s", daemon_log_name(u->log));
		if (u->log == DAEMON_LOG_FILE)
			fprintf(out, " %s (max %llu bytes, keep %u)",
			    u->log_path,
			    (unsigned long long)u->log_max_size, u->log_keep);
		fprintf(out, "\n");
		for (size_t j = 0; j < u->nsockets; j++) {
			const struct sock_spec *s = &u->sockets[j];

			fprintf(out, "\tsocket %s %s %04o%s%s\n", s->name,
			    s->path, s->mode, s->group != NULL ? " " : "",
			    s->group != NULL ? s->group : "");
			names[j] = s->name;
		}
		if (u->nsockets > 0 &&
		    lfd_build_names(names, u->nsockets, &joined) == 0)
			fprintf(out, "\tLISTEN_FDNAMES=%s\n", joined);
		for (size_t j = 0; j < u->env.n; j++)
			fprintf(out, "\tenv %s\n", u->env.v[j]);
		free(joined);
		free(names);
	}
}
