/* SPDX-License-Identifier: MIT */
/*
 * Edge: libvirt's admin API (libvirt-admin) for virt-brokerctl: a running
 * daemon's servers, their clients, client limits and thread pools, and its
 * log filters and outputs. The broker never links libvirt; virt-brokerctl
 * does, optionally. Every call talks to the daemon from a child process
 * with a deadline (child.h): a stopped or hung daemon is reported after
 * ADM_TIMEOUT_MS, never waited for.
 *
 * The caller must only pass a daemon that runs (unit state running or
 * adopted, with a pid): a connection to the admin socket of a unit that
 * only listens would make the broker start its daemon.
 */
#ifndef VB_ADMIN_H
#define VB_ADMIN_H

#include <stdbool.h>
#include <sys/types.h>

#include "strv.h"

#define ADM_TIMEOUT_MS	3000
#define ADM_NOT_BUILT	"built without libvirt-admin"

struct adm_target {
	const char	*unit;		/* the daemon: virtqemud */
	const char	*socket;	/* its admin socket's path */
	pid_t		 pid;		/* its pid, for messages */
	bool		 system;	/* the URI's ///system, or ///session */
};

/*
 * What adm_query got: ctlproto lines (ctlproto.h), in this order per
 * server, each with server=NAME:
 *   server name=NAME
 *   threadpool server=NAME minWorkers=.. maxWorkers=.. ...  (libvirt's
 *   limits server=NAME nclients_max=.. nclients=.. ...       typed params)
 *   client server=NAME id=.. transport=unix|tcp|tls since=EPOCH self=0|1
 *          comm=.. readonly=.. unix_user_id=.. unix_process_id=.. ...
 * self=1 marks the query's own admin connection.
 */
struct adm_result {
	struct strv	 lines;
	char		*error;		/* NULL, or why no lines */
};

bool	adm_built(void);
void	adm_query(const struct adm_target *t, size_t n,
	    struct adm_result *ret);
int	adm_logging(const struct adm_target *t, const char *filters,
	    const char *outputs, char **ret_filters, char **ret_outputs,
	    char **reterr);
void	adm_result_free(struct adm_result *r);

#endif
