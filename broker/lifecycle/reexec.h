/* SPDX-License-Identifier: MIT */
/*
 * Edge: re-execution in place (virt-brokerctl reexec, SIGUSR2): the broker
 * execs its binary's path again (the new version after an upgrade) in the
 * same process, so that its daemons stay its children and its sockets are
 * never closed. The listening sockets, the control and notify sockets, the
 * lock and the running daemons' log pipes stay open across exec; the new
 * broker finds them (inherit.h) and reads the units' history from a memfd
 * named by VIRT_BROKER_REEXEC_FD (reexec_state.h).
 */
#ifndef VB_REEXEC_H
#define VB_REEXEC_H

#include <stddef.h>

#include "reexec_state.h"

struct supervisor;

void	reexec_record(int argc, char **argv);
int	reexec_check(const struct supervisor *sup, char *err, size_t size);
int	reexec_exec(const struct supervisor *sup, const int *keep, size_t nkeep,
	    char *err, size_t size);
int	reexec_take_state(struct reexec_state *ret_st);
void	reexec_restore(struct supervisor *sup, const struct reexec_state *st);

#endif
