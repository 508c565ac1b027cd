/* SPDX-License-Identifier: MIT */
/*
 * Edge: the fd holder. A child of the broker that keeps a copy of every
 * listening socket (the units', the control and notify sockets) and does
 * nothing else, so that if the broker dies (SIGKILL, the OOM killer, a
 * crash) the sockets stay open: clients wait in their backlogs instead of
 * being refused, and a session client finds no dead socket to replace with
 * a daemon of its own. The next broker takes the sockets back from it over
 * R/virt-broker-holder-sock (SCM_RIGHTS; only from the same uid) and serves
 * the queued clients; the daemons that ran on are adopted. A holder whose
 * broker does not come back within holder_timeout seconds exits, removing
 * only its own socket. A broker that stops cleanly or reloads tells its
 * holder to exit (a byte on a pipe) once a new one has the socket's path.
 * A reexec lends the new image the holder's pipe (HOLDER_ENV names its fd),
 * so a broker killed while it starts again still has its sockets held.
 */
#ifndef VB_HOLDER_H
#define VB_HOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct plan;

struct holder_id {
	dev_t	 dev;
	ino_t	 ino;
};

struct holder {
	pid_t	 pid;		/* 0: none */
	int	 pipe_wr;	/* EOF without a byte: the broker died */
	int	*fds;		/* what it holds, sorted */
	struct holder_id *ids;	/* what each of fds was */
	size_t	 nfds;
	int	 lent_wr;	/* the pipe of the holder before a reexec */
};

#define HOLDER_ENV	"VIRT_BROKER_HOLDER_FD"

void	holder_set_argv(int argc, char **argv);
void	holder_refresh(struct holder *h, const struct plan *plan,
	    const int *fds, size_t nfds);
void	holder_stop(struct holder *h);
void	holder_lend(struct holder *h, bool on);
void	holder_take_lent(struct holder *h);
int	holder_collect(const char *path, bool keep);

#endif
