/* SPDX-License-Identifier: MIT */
/*
 * Edge: file descriptors a broker finds open at start-up because the broker
 * before it in the same process left them so (virt-brokerctl reexec):
 * listening sockets by the path they are bound to, the lock file by its
 * path, pipes by inode. Found by looking at the fds themselves, not by
 * what a serialization says, so that a broker of any version finds them
 * (reexec.c carries only the units' history). Whatever no one takes is
 * closed by inherit_close_rest().
 */
#ifndef VB_INHERIT_H
#define VB_INHERIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bound_sock;

void	inherit_scan(int skip_fd);
void	inherit_add(int fd);
size_t	inherit_count(void);
bool	inherit_has_listener(const char *path);
int	inherit_take_listener(const char *path, int type,
	    struct bound_sock *ret_b);
int	inherit_take_file(const char *path);
int	inherit_take_pipe(ino_t ino, int accmode);
void	inherit_close_rest(void);
pid_t	inherit_child_holding(int sock_fd, pid_t *children, size_t n);
size_t	inherit_children(pid_t *ret, size_t max);
ino_t	inherit_fd_pipe_ino(pid_t pid, int fd);
pid_t	inherit_process_holding(int sock_fd);

#endif
