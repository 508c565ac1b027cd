/* SPDX-License-Identifier: MIT */
/*
 * Edge: telling a supervisor the broker is ready: -d/--daemon (the parent
 * exits once every socket is bound), --pidfile, and NOTIFY_SOCKET.
 */
#ifndef VB_DAEMONIZE_H
#define VB_DAEMONIZE_H

int	daemonize(void);
void	daemonize_detach(void);
int	daemon_pidfile_write(const char *path);
void	daemon_pidfile_remove(const char *path);
void	notify_socket_ready(void);

#endif
