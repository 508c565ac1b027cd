/* SPDX-License-Identifier: MIT */
/*
 * Pure: the sd_listen_fds(3) environment a daemon is given: LISTEN_FDS,
 * LISTEN_FDNAMES and the LISTEN_PID slot the spawned child fills in.
 */
#ifndef VB_LISTENFDS_H
#define VB_LISTENFDS_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

#define LFD_START	3		/* SD_LISTEN_FDS_START */
#define LFD_NAME_MAX	255		/* systemd's FDNAME_MAX */
#define LFD_PID_PREFIX	"LISTEN_PID="
#define LFD_PID_SLOT	(sizeof(LFD_PID_PREFIX) - 1 + 20 + 1)

bool	lfd_name_is_valid(const char *name);
bool	lfd_is_reserved_env(const char *assignment);
int	lfd_build_names(const char *const *names, size_t n, char **ret_value);
int	lfd_add_env(struct strv *env, const char *const *names, size_t n);
void	lfd_format_pid(char *slot, long pid);

#endif
