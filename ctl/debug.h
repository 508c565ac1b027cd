/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl debug UNIT [FILTERS | off]. A running daemon's log
 * filters are set at run time through libvirt's admin API, with debug
 * output to its stderr, which the broker captures (virt-brokerctl log UNIT
 * -f shows it at once). The first change saves the daemon's own filters
 * and outputs in R/virt-brokerctl-debug.UNIT with the daemon's pid, so
 * that a later `off`, from another virt-brokerctl, puts them back; a file
 * for another pid is stale: that daemon exited, and its run-time settings
 * with it.
 */
#ifndef VB_DEBUG_H
#define VB_DEBUG_H

#include "admin.h"

/* libvirt's kbase "debuglogs": everything but the noisiest subsystems. */
#define DEBUG_FILTERS	"3:remote 4:event 3:util.json 3:rpc 1:*"
#define DEBUG_FILE	"virt-brokerctl-debug."

char	*debug_outputs(const char *outputs);
int	 debug_on(const struct adm_target *t, const char *rundir,
	    const char *filters);
int	 debug_off(const struct adm_target *t, const char *rundir);

#endif
