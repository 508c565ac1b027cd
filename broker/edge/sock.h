/* SPDX-License-Identifier: MIT */
/*
 * Layer edge (broker/edge/): the system calls, each file one concern
 * behind a small interface; it sees the core and common/, never the
 * lifecycle or the control server.
 *
 * Edge: the runtime directory and the listening sockets in it: creating,
 * binding, probing, refusing queued clients, and removing only what we
 * bound.
 */
#ifndef VB_SOCK_H
#define VB_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "plan.h"

struct bound_sock {
	int	 fd;		/* listening, CLOEXEC, blocking */
	dev_t	 dev;		/* identity of the path we bound */
	ino_t	 ino;
};

int	sock_prepare_dir(const char *dir, enum broker_mode mode);
int	sock_bind(const char *unit, const struct sock_spec *s,
	    unsigned backlog, struct bound_sock *ret_b);
void	sock_unlink_ours(const char *path, const struct bound_sock *b);
bool	sock_any_pending(const int *fds, size_t n);
int	sock_probe_live(const char *path);
bool	sock_is_link_to(const char *path, const char *target);
pid_t	sock_listener_pid(const char *path);
void	sock_listener_cred(const char *path, pid_t *ret_pid, uid_t *ret_uid);
unsigned sock_refuse_pending(int fd);

#endif
