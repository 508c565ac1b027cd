/* SPDX-License-Identifier: MIT */
/*
 * Pure: the built-in catalog of libvirt's daemons, their sockets, fd names
 * and modes, as libvirt's systemd units lay them out, the same in 9.0 and
 * 11.x (see LIBVIRT.md).
 */
#ifndef VB_CATALOG_H
#define VB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

enum catalog_role {
	CATALOG_HYPERVISOR,	/* virtqemud: started at launch for autostart */
	CATALOG_DRIVER,		/* secondary drivers, on demand */
	CATALOG_OTHER_HYPERVISOR, /* virtchd, virtlxcd...: on demand, as their
				   * driver fails where the hypervisor is
				   * missing; start = at-launch is opt-in */
	CATALOG_HELPER,		/* virtlogd, virtlockd: hold guests' logs/locks */
	CATALOG_PROXY,		/* virtproxyd: libvirt-sock for old clients */
	CATALOG_MONOLITHIC,	/* libvirtd: only when no modular daemon */
	CATALOG_ROLE_MAX
};

#define CATALOG_MAX_SOCKETS 3

struct catalog_socket {
	const char	*name;		/* LISTEN_FDNAMES entry */
	const char	*path;		/* relative to the runtime dir */
	unsigned	 mode;
};

struct catalog_entry {
	const char		*name;	/* unit name = binary name */
	enum catalog_role	 role;
	const char		*args;
	struct catalog_socket	 session[CATALOG_MAX_SOCKETS];	/* name NULL ends */
	struct catalog_socket	 system[CATALOG_MAX_SOCKETS];
};

const struct catalog_entry	*catalog_entries(size_t *ret_n);
const struct catalog_entry	*catalog_find(const char *name);
size_t				 catalog_nsockets(const struct catalog_socket *s);
bool				 catalog_is_modular(const struct catalog_entry *e);

#endif
