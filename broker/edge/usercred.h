/* SPDX-License-Identifier: MIT */
/*
 * Edge: who a user is, for a system broker that runs users' session
 * brokers: a group's members, a user's uid, groups, home and shell (the
 * passwd and group databases, through NSS), and the broker's own binary.
 */
#ifndef VB_USERCRED_H
#define VB_USERCRED_H

#include <stddef.h>
#include <sys/types.h>

#include "strv.h"

#define USERCRED_MAX_GROUPS 256

struct usercred {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	 groups[USERCRED_MAX_GROUPS];
	size_t	 ngroups;
	char	*name;
	char	*home;
	char	*shell;
};

/* The members of group: its member list and the users whose primary group
 * it is. 0, or -ENOENT if there is no such group. */
int	usercred_group_members(const char *group, struct strv *ret_names,
	    void *arg);
/* 0, or -ENOENT (no such user) or -errno. */
int	usercred_lookup(const char *name, struct usercred *ret);
void	usercred_clear(struct usercred *c);
/* The running binary's path (/proc/self/exe, " (deleted)" cut off after
 * an upgrade replaced it), or NULL. */
char	*usercred_self_exe(void);

#endif
