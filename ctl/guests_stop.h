/* SPDX-License-Identifier: MIT */
/*
 * virt-brokerctl guests-stop and guests-restore: a session's guests saved
 * (or shut down) before the broker stops the hypervisor daemon at the
 * host's shutdown, and started again at the next start (guests_stop.c).
 */
#ifndef VB_GUESTS_STOP_H
#define VB_GUESTS_STOP_H

#include <stdbool.h>
#include <sys/types.h>

struct guests_stop_opts {
	bool		 save;		/* else shut them down */
	unsigned	 timeout_s;	/* then destroy what still runs */
	pid_t		 daemon_pid;	/* virtqemud; 0: unknown */
	const char	*daemon_exec;	/* its binary: virt-admin beside it */
	const char	*record;	/* the guests saved by the API */
	const char	*version;	/* (filled in) the daemon's libvirt */
};

/* Exit statuses: 0 all done, 1 not (said on stderr). */
int	guests_stop(const struct guests_stop_opts *o);
int	guests_restore(const char *record);

#endif
