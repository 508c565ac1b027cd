/* SPDX-License-Identifier: MIT */
/* Edge: small file-descriptor helpers. An fd is an int and -1 means none. */
#ifndef VB_FD_H
#define VB_FD_H

#include <stdbool.h>

void	fd_close(int *fd);
int	fd_set_cloexec(int fd, bool on);
int	fd_set_nonblock(int fd, bool on);

#endif
