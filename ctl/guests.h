/* SPDX-License-Identifier: MIT */
/*
 * Edge: a hypervisor daemon's running guests, read from libvirt's state
 * directory instead of asked over a connection, which would start the
 * daemon or keep it up. libvirt's QEMU driver (virtqemud, libvirtd) keeps
 * one status XML per guest it runs, <domstatus state=.. pid=..>, in
 * R/qemu/run for a session daemon and in /run/libvirt/qemu for a
 * privileged one (src/qemu/qemu_conf.c, stateDir).
 */
#ifndef VB_GUESTS_H
#define VB_GUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct guest {
	char	*name;
	char	*state;		/* domstatus state: running, paused.. */
	pid_t	 pid;		/* QEMU's, 0 if the file has none */
	bool	 alive;		/* that pid runs */
};

char	*guests_dir(const char *unit, const char *socket);
int	 guests_read(const char *dir, struct guest **ret_guests,
	    size_t *ret_n);
size_t	 guests_alive(const struct guest *g, size_t n);
void	 guests_free(struct guest *g, size_t n);

#endif
