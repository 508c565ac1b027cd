/* SPDX-License-Identifier: MIT */
/*
 * The distributions' own libvirt services, which start daemons of their
 * own at boot and race a system broker for /run/libvirt: where each init
 * system records that a service is enabled, and the command that disables
 * it there. Pure (initsvc.c): names, places, commands. Edge (initscan.c):
 * initsvc_scan() reads those places under a root. virt-brokerctl doctor
 * reports what it finds, the system broker warns about it and names it
 * when it refuses to start.
 */
#ifndef VB_INITSVC_H
#define VB_INITSVC_H

#include <stddef.h>

/* libvirt's daemons: their binaries' names, and their services' names. */
extern const char *const initsvc_daemons[];

enum initsvc_kind {
	INITSVC_SYSV,		/* /etc/rcN.d/SnnNAME (Debian, Devuan) */
	INITSVC_OPENRC,		/* /etc/runlevels/LEVEL/NAME */
	INITSVC_RUNIT_VOID,	/* /var/service/NAME */
	INITSVC_RUNIT_ARTIX,	/* /etc/runit/runsvdir/default/NAME */
	INITSVC_RUNIT_DEBIAN,	/* /etc/service/NAME */
	INITSVC_S6_ARTIX,	/* /etc/s6/adminsv/default/contents.d/NAME */
	INITSVC_SYSTEMD,	/* .wants/NAME.service, NAME.socket */
	INITSVC_KIND_MAX
};

/* One place an init system enables services in (relative to a root). */
struct initsvc_place {
	enum initsvc_kind	 kind;
	const char		*dir;
	const char		*level;	/* OpenRC's runlevel, else NULL */
};

/* Every such place, ended by one whose dir is NULL. */
extern const struct initsvc_place initsvc_places[];

const char	*initsvc_kind_name(enum initsvc_kind kind);
const char	*initsvc_match(enum initsvc_kind kind, const char *entry);
char		*initsvc_disable_cmd(enum initsvc_kind kind, const char *daemon,
		    const char *level);

/* An enabled service, as initsvc_scan() hands it over. */
struct initsvc_found {
	enum initsvc_kind	 kind;
	const char		*daemon;	/* one of initsvc_daemons */
	const char		*entry;		/* the directory entry */
	const char		*path;		/* where it was found */
	const char		*level;
};

typedef void	initsvc_found_fn(const struct initsvc_found *f, void *arg);

size_t	initsvc_scan(const char *root, initsvc_found_fn *fn, void *arg);

#endif
