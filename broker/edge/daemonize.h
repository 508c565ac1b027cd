/* SPDX-License-Identifier: MIT */
/*
 * Edge: the fds the broker starts with (0-2, --ready-fd), and telling a
 * supervisor the broker is ready: -d/--daemon (the parent exits once every
 * socket is bound), --pidfile, and NOTIFY_SOCKET.
 */
#ifndef VB_DAEMONIZE_H
#define VB_DAEMONIZE_H

unsigned daemon_open_stdio(void);
int	daemon_check_ready_fd(int fd, unsigned opened);
int	daemonize(void);
void	daemonize_detach(void);
int	daemon_pidfile_write(const char *path);
void	daemon_pidfile_remove(const char *path);
void	notify_socket_ready(void);

#endif
