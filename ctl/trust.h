/* SPDX-License-Identifier: MIT */
/*
 * Edge: what virt-brokerctl trusts of the broker it talks to. Root may
 * talk to any user's broker (an init system's check does), and then all
 * that broker says, and every file and socket in its runtime dir R, is
 * that user's to forge. So:
 *   - the control socket's peer (SO_PEERCRED) is the broker: its uid is
 *     the owner, and the caller is "foreign" when its euid is another;
 *   - an admin socket is connected to only if it is a socket, not a link,
 *     whose listener (SO_PEERCRED) has the owner's uid and is the broker
 *     (it bound it) or the unit's daemon;
 *   - a file in R is read only through O_NOFOLLOW, as a regular file of
 *     the owner's;
 *   - a unit name from a reply names a file or a URI only if it is a unit
 *     name: the catalog's characters, no "/", not "." or "..";
 *   - `debug`, which writes the settings it saves and sets a daemon's log
 *     outputs, is refused to a foreign caller (virt-brokerctl(1)).
 */
#ifndef VB_TRUST_H
#define VB_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct trust_peer {
	bool	 known;		/* a control socket answered */
	uid_t	 uid;		/* the broker's owner */
	pid_t	 pid;		/* the broker */
	bool	 foreign;	/* our euid is not uid */
};

extern struct trust_peer trust_broker;

int	trust_note_broker(int fd);
bool	trust_unit_name(const char *name);
bool	trust_admin_socket(const char *path, pid_t daemon, char *why,
	    size_t size);
int	trust_open(const char *path);

#endif
