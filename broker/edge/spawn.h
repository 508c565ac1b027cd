/* SPDX-License-Identifier: MIT */
/*
 * Edge: start (clone, or fork) and exec a daemon with its listening
 * sockets at fd 3.., as sd_listen_fds(3) expects them.
 */
#ifndef VB_SPAWN_H
#define VB_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Whom the daemon runs as, if not as the broker (a user's broker). */
struct spawn_creds {
	uid_t		 uid;
	gid_t		 gid;
	const gid_t	*groups;	/* supplementary */
	size_t		 ngroups;
	const char	*dir;		/* its working directory, entered as
					 * the user; "/" if it cannot be */
};

struct spawn_req {
	char *const	*argv;		/* argv[0] is the absolute path */
	char *const	*envp;		/* includes a LISTEN_PID slot */
	char		*pid_slot;	/* that slot, filled in the child */
	const int	*fds;		/* passed as 3, 4, ... in this order */
	size_t		 nfds;
	int		 out_fd;	/* stdout and stderr; -1: inherit */
	int		 null_fd;	/* /dev/null, for stdin */
	bool		 set_nofile;
	struct rlimit	 nofile;
	bool		 set_memlock;
	struct rlimit	 memlock;
	const struct spawn_creds *creds;	/* NULL: the broker's */
};

void	spawn_reserve_low(void);
bool	spawn_last_was_shared(void);
void	spawn_set_inherited_nofile(rlim_t soft);
int	spawn_daemon(const struct spawn_req *req, pid_t *ret_pid,
	    int *ret_status_fd);
int	spawn_read_status(int status_fd, int *ret_errno);

#endif
