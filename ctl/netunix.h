/* SPDX-License-Identifier: MIT */
/*
 * Edge: how many connections a unit's Unix sockets have, from the kernel's
 * table (/proc/net/unix), without connecting to anything: a connection
 * accepted by the daemon, or queued for it, is a socket bound to the same
 * path that is connected (state 3) or connecting (state 2); the listening
 * socket itself is state 1. A client connecting through a link counts
 * under the path the socket was bound at.
 */
#ifndef VB_NETUNIX_H
#define VB_NETUNIX_H

#include <stddef.h>

#include "strv.h"

#define NETUNIX_TABLE	"/proc/net/unix"

long	netunix_count(const char *table, const struct strv *paths);
size_t	netunix_count_text(const char *text, const struct strv *paths);

#endif
