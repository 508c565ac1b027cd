/* SPDX-License-Identifier: MIT */
/* Edge: client counts, libvirt's admin view and guests (extra.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extra.h"
#include "netunix.h"
#include "proc.h"
#include "show.h"
#include "trust.h"
#include "xalloc.h"

/*
 * Only a daemon that runs now: state running (or adopted: running, not
 * started by this broker) with a live pid, and not saying it is stopping.
 * The admin socket of any other unit is the broker's listening socket,
 * and a connection there starts the daemon.
 */
bool
extra_may_connect(const struct extra_unit *u)
{
	return u->admin != NULL && u->pid > 0 &&
	    (strcmp(u->state, "running") == 0 ||
	    strcmp(u->state, "adopted") == 0) &&
	    strcmp(u->phase, "stopping") != 0 && proc_running(u->pid);
}

/* Why extra_may_connect said no: "virtqemud is listening". */
void
extra_why_not(const struct extra_unit *u, char *buf, size_t size)
{
	if (u->admin == NULL)
		snprintf(buf, size, "%s has no admin socket", u->name);
	else if (strcmp(u->state, "running") != 0 &&
	    strcmp(u->state, "adopted") != 0)
		snprintf(buf, size, "%s is %s", u->name, u->state);
	else if (strcmp(u->phase, "stopping") == 0)
		snprintf(buf, size, "%s is stopping", u->name);
	else
		snprintf(buf, size, "%s's pid %ld is gone", u->name,
		    (long)u->pid);
}

void
extra_collect(struct extra_unit *u, size_t n, bool system, bool detail)
{
	struct adm_target *t = xcalloc(n > 0 ? n : 1, sizeof(*t));
	struct adm_result *r = xcalloc(n > 0 ? n : 1, sizeof(*r));
	size_t *which = xcalloc(n > 0 ? n : 1, sizeof(*which)), m = 0;
	char why[512];

	for (size_t i = 0; i < n; i++) {
		u[i].clients = netunix_count(NETUNIX_TABLE, &u[i].paths);
		if (!detail)
			continue;
		if (u[i].paths.n > 0 &&
		    (u[i].guest_dir = guests_dir(u[i].name,
		    u[i].paths.v[0])) != NULL)
			u[i].guest_err = guests_read(u[i].guest_dir,
			    &u[i].guests, &u[i].nguests);
		if (!extra_may_connect(&u[i]))
			continue;
		if (!trust_admin_socket(u[i].admin, u[i].pid, why,
		    sizeof(why))) {
			u[i].adm_refused = xstrdup(why);
			continue;
		}
		t[m].unit = u[i].name;
		t[m].socket = u[i].admin;
		t[m].pid = u[i].pid;
		t[m].system = system;
		which[m++] = i;
	}
	adm_query(t, m, r);		/* in parallel, one deadline */
	for (size_t k = 0; k < m; k++) {
		u[which[k]].adm = r[k];
		u[which[k]].asked = true;
	}
	free(which);
	free(r);
	free(t);
}

/* The lines under a unit's detail. */
void
extra_text(const struct extra_unit *u)
{
	char why[256];

	if (u->clients >= 0)
		printf("  clients: %ld connected or queued on its sockets\n",
		    u->clients);
	if (u->asked) {
		show_admin_text(&u->adm);
	} else if (u->adm_refused != NULL) {
		printf("  admin: not asked: %s\n", u->adm_refused);
	} else if (u->admin != NULL) {
		extra_why_not(u, why, sizeof(why));
		printf("  admin: not asked: %s (a connection would start "
		    "it)\n", why);
	}
	if (u->guest_dir != NULL)
		show_guests_text(u->guest_dir, u->guest_err, u->guests,
		    u->nguests);
}

/* Members for the unit's JSON object. */
void
extra_json(const struct extra_unit *u, bool detail)
{
	if (u->clients >= 0)
		printf(",\"clients\":%ld", u->clients);
	else
		printf(",\"clients\":null");
	if (!detail)
		return;
	if (u->asked)
		show_admin_json(&u->adm);
	else
		printf(",\"admin\":null");
	if (u->guest_dir != NULL)
		show_guests_json(u->guest_dir, u->guest_err, u->guests,
		    u->nguests);
}

void
extra_free(struct extra_unit *u)
{
	free(u->name);
	free(u->state);
	free(u->phase);
	strv_free(&u->paths);
	free(u->admin);
	free(u->adm_refused);
	if (u->asked)
		adm_result_free(&u->adm);
	free(u->guest_dir);
	guests_free(u->guests, u->nguests);
	memset(u, 0, sizeof(*u));
}
