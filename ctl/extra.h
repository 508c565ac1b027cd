/* SPDX-License-Identifier: MIT */
/*
 * Edge: what virt-brokerctl status adds to the broker's answer, found
 * outside the broker: each unit's client count (netunix.h: never touches
 * a daemon), and, for units asked about by name, libvirt's own view of a
 * running daemon (admin.h) and the guests it runs (guests.h). A unit
 * whose daemon does not run is never connected to: that would start it.
 */
#ifndef VB_EXTRA_H
#define VB_EXTRA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "admin.h"
#include "guests.h"
#include "strv.h"

struct extra_unit {
	/* from the broker, filled by the caller */
	char			*name, *state, *phase;
	pid_t			 pid;
	struct strv		 paths;		/* its Unix sockets */
	char			*admin;		/* -admin.socket's path */
	/* found by extra_collect */
	long			 clients;	/* -errno if unknown */
	bool			 asked;		/* adm has the answer */
	char			*adm_refused;	/* why its socket was not */
	struct adm_result	 adm;
	char			*guest_dir;	/* NULL: no QEMU driver */
	int			 guest_err;
	struct guest		*guests;
	size_t			 nguests;
};

bool	extra_may_connect(const struct extra_unit *u);
void	extra_why_not(const struct extra_unit *u, char *buf, size_t size);
void	extra_collect(struct extra_unit *u, size_t n, bool system,
	    bool detail);
void	extra_text(const struct extra_unit *u);
void	extra_json(const struct extra_unit *u, bool detail);
void	extra_free(struct extra_unit *u);

#endif
