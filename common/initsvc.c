/* SPDX-License-Identifier: MIT */
/*
 * Pure: the distributions' libvirt services by init system: which
 * directory entries enable one, and the command that disables it
 * (initsvc.h). No system calls: initscan.c reads the directories.
 */
#include <string.h>

#include "initsvc.h"
#include "xalloc.h"

const char *const initsvc_daemons[] = {
	"libvirtd", "virtqemud", "virtnetworkd", "virtstoraged",
	"virtnodedevd", "virtsecretd", "virtinterfaced", "virtnwfilterd",
	"virtlogd", "virtlockd", "virtproxyd", "virtchd", "virtvboxd",
	"virtxend", "virtlxcd", NULL,
};

/*
 * sysvinit's start links in the multi-user runlevels; OpenRC's runlevels
 * that run at boot; runit's service directories on Void, Artix and
 * Debian; Artix's s6-rc default bundle; systemd's wants.
 */
const struct initsvc_place initsvc_places[] = {
	{ INITSVC_SYSV, "etc/rc1.d", NULL },
	{ INITSVC_SYSV, "etc/rc2.d", NULL },
	{ INITSVC_SYSV, "etc/rc3.d", NULL },
	{ INITSVC_SYSV, "etc/rc4.d", NULL },
	{ INITSVC_SYSV, "etc/rc5.d", NULL },
	{ INITSVC_OPENRC, "etc/runlevels/sysinit", "sysinit" },
	{ INITSVC_OPENRC, "etc/runlevels/boot", "boot" },
	{ INITSVC_OPENRC, "etc/runlevels/default", "default" },
	{ INITSVC_RUNIT_VOID, "var/service", NULL },
	{ INITSVC_RUNIT_ARTIX, "etc/runit/runsvdir/default", NULL },
	{ INITSVC_RUNIT_DEBIAN, "etc/service", NULL },
	{ INITSVC_S6_ARTIX, "etc/s6/adminsv/default/contents.d", NULL },
	{ INITSVC_SYSTEMD, "etc/systemd/system/multi-user.target.wants",
	    NULL },
	{ INITSVC_SYSTEMD, "etc/systemd/system/sockets.target.wants", NULL },
	{ INITSVC_KIND_MAX, NULL, NULL },
};

const char *
initsvc_kind_name(enum initsvc_kind kind)
{
	switch (kind) {
	case INITSVC_SYSV:
		return "sysvinit";
	case INITSVC_OPENRC:
		return "OpenRC";
	case INITSVC_RUNIT_VOID:
	case INITSVC_RUNIT_ARTIX:
	case INITSVC_RUNIT_DEBIAN:
		return "runit";
	case INITSVC_S6_ARTIX:	/* out of the bundle, then down now */
		return "s6";
	case INITSVC_SYSTEMD:
		return "systemd";
	case INITSVC_KIND_MAX:
		break;
	}
	return "?";
}

/*
 * The daemon whose service the directory entry enables where kind keeps
 * them, or NULL: SnnNAME for sysvinit, NAME.service or NAME.socket for
 * systemd, NAME for the others.
 */
const char *
initsvc_match(enum initsvc_kind kind, const char *entry)
{
	static const char *const plain[] = { "", NULL };
	static const char *const units[] = { ".service", ".socket", NULL };
	const char *const *suffixes = kind == INITSVC_SYSTEMD ? units : plain;
	const char *name = entry;

	if (kind == INITSVC_SYSV) {
		if (entry[0] != 'S' || strlen(entry) < 4)
			return NULL;
		name = entry + 3;
	}
	for (size_t i = 0; initsvc_daemons[i] != NULL; i++) {
		size_t len = strlen(initsvc_daemons[i]);

		if (strncmp(name, initsvc_daemons[i], len) != 0)
			continue;
		for (size_t k = 0; suffixes[k] != NULL; k++)
			if (strcmp(name + len, suffixes[k]) == 0)
				return initsvc_daemons[i];
	}
	return NULL;
}

/* The command that disables daemon's service where kind keeps it. */
char *
initsvc_disable_cmd(enum initsvc_kind kind, const char *daemon,
    const char *level)
{
	switch (kind) {
	case INITSVC_SYSV:
		return xasprintf("update-rc.d %s disable && service %s stop",
		    daemon, daemon);
	case INITSVC_OPENRC:
		return xasprintf("rc-update del %s %s && rc-service %s stop",
		    daemon, level != NULL ? level : "default", daemon);
	case INITSVC_RUNIT_VOID:
		return xasprintf("rm /var/service/%s   (runsvdir stops it)",
		    daemon);
	case INITSVC_RUNIT_ARTIX:
		return xasprintf("rm /etc/runit/runsvdir/default/%s && "
		    "sv down %s", daemon, daemon);
	case INITSVC_RUNIT_DEBIAN:
		return xasprintf("rm /etc/service/%s && sv down %s", daemon,
		    daemon);
	case INITSVC_S6_ARTIX:	/* out of the bundle, then down now */
		return xasprintf("s6-service delete default %s && "
		    "s6-db-reload && s6-rc -d change %s", daemon, daemon);
	case INITSVC_SYSTEMD:
		return xasprintf("systemctl disable --now %s.service %s.socket",
		    daemon, daemon);
	case INITSVC_KIND_MAX:
		break;
	}
	return xstrdup("?");
}
