/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's init-services check (doctor.h): the
 * distribution's own libvirt services still enabled in an init system, which
 * start daemons of their own at boot and race the system broker for
 * /run/libvirt. Read from the files each init system enables a service by
 * (under root, "/" but in tests), each with the command that disables it
 * there.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"
#include "paths.h"
#include "xalloc.h"

/*
 * libvirt's daemons: their binaries' names (/proc/PID/comm, 15 bytes at
 * most) and the distributions' names for their services.
 */
const char *const doctor_daemons[] = {
	"libvirtd", "virtqemud", "virtnetworkd", "virtstoraged",
	"virtnodedevd", "virtsecretd", "virtinterfaced", "virtnwfilterd",
	"virtlogd", "virtlockd", "virtproxyd", "virtchd", "virtvboxd",
	"virtxend", "virtlxcd", NULL,
};

/* Is name (a directory entry) service s, with one of the suffixes? */
static const char *
service_of(const char *name, const char *const *suffixes)
{
	for (size_t i = 0; doctor_daemons[i] != NULL; i++) {
		size_t len = strlen(doctor_daemons[i]);

		if (strncmp(name, doctor_daemons[i], len) != 0)
			continue;
		for (size_t k = 0; suffixes[k] != NULL; k++)
			if (strcmp(name + len, suffixes[k]) == 0)
				return doctor_daemons[i];
	}
	return NULL;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* sysvinit (Debian, Devuan): /etc/rcN.d/SnnNAME. */
static size_t
sysv(struct doctor *d, const char *root)
{
	static const char *const none[] = { "", NULL };
	size_t found = 0;

	for (char n = '1'; n <= '5'; n++) {
		char rel[32];
		char *dir;
		DIR *dd;
		struct dirent *de;

		snprintf(rel, sizeof(rel), "etc/rc%c.d", n);
		dir = paths_join(root, rel);
		if ((dd = opendir(dir)) == NULL) {
			free(dir);
			continue;
		}
		while ((de = readdir(dd)) != NULL) {
			const char *s;

			if (de->d_name[0] != 'S' || strlen(de->d_name) < 4 ||
			    (s = service_of(de->d_name + 3, none)) == NULL)
				continue;
			found++;
			doctor_add(d, "init", DOCTOR_FAIL, xasprintf("sysvinit "
			    "starts %s at boot (%s/%s): it races the broker "
			    "for /run/libvirt", s, dir, de->d_name), xasprintf(
			    "update-rc.d %s disable && service %s stop", s, s));
		}
		closedir(dd);
		free(dir);
	}
	return found;
}

enum init_kind { OPENRC, RUNIT_VOID, RUNIT_ARTIX, RUNIT_DEBIAN, S6_ARTIX,
	SYSTEMD };

/* The command that disables service s where kind keeps it (level: OpenRC). */
static char *
fix_for(enum init_kind kind, const char *s, const char *level)
{
	switch (kind) {
	case OPENRC:
		return xasprintf("rc-update del %s %s && rc-service %s stop",
		    s, level, s);
	case RUNIT_VOID:
		return xasprintf("rm /var/service/%s   (runsvdir stops it)", s);
	case RUNIT_ARTIX:
		return xasprintf("rm /etc/runit/runsvdir/default/%s && "
		    "sv down %s", s, s);
	case RUNIT_DEBIAN:
		return xasprintf("rm /etc/service/%s && sv down %s", s, s);
	case S6_ARTIX:
		return xasprintf("s6-service delete default %s && s6-db-reload",
		    s);
	case SYSTEMD:
		return xasprintf("systemctl disable --now %s.service %s.socket",
		    s, s);
	}
	return xstrdup("?");
}

/*
 * Service links in rel (under root): OpenRC's runlevels, runit's and s6's
 * service directories, systemd's .wants.
 */
static size_t
links_in(struct doctor *d, const char *root, const char *rel,
    enum init_kind kind, const char *level)
{
	static const char *const names[] = { "OpenRC", "runit", "runit",
	    "runit", "s6", "systemd" };
	static const char *const plain[] = { "", NULL };
	static const char *const units[] = { ".service", ".socket", NULL };
	char *dir = paths_join(root, rel);
	DIR *dd = opendir(dir);
	struct dirent *de;
	size_t found = 0;

	while (dd != NULL && (de = readdir(dd)) != NULL) {
		const char *s = service_of(de->d_name, kind == SYSTEMD ? units :
		    plain);
		char *path;

		if (s == NULL)
			continue;
		path = paths_join(dir, de->d_name);
		if (exists(path)) {
			found++;
			doctor_add(d, "init", DOCTOR_FAIL, xasprintf("%s starts "
			    "%s (%s): it races the broker for /run/libvirt",
			    names[kind], de->d_name, path), fix_for(kind, s,
			    level));
		}
		free(path);
	}
	if (dd != NULL)
		closedir(dd);
	free(dir);
	return found;
}

void
doctor_init_services(struct doctor *d, const char *root)
{
	static const char *const levels[] = { "sysinit", "boot", "default",
	    NULL };
	size_t found = sysv(d, root);

	for (size_t i = 0; levels[i] != NULL; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "etc/runlevels/%s", levels[i]);
		found += links_in(d, root, rel, OPENRC, levels[i]);
	}
	found += links_in(d, root, "var/service", RUNIT_VOID, NULL);
	found += links_in(d, root, "etc/runit/runsvdir/default", RUNIT_ARTIX,
	    NULL);
	found += links_in(d, root, "etc/service", RUNIT_DEBIAN, NULL);
	found += links_in(d, root, "etc/s6/adminsv/default/contents.d",
	    S6_ARTIX, NULL);
	found += links_in(d, root,
	    "etc/systemd/system/multi-user.target.wants", SYSTEMD, NULL);
	found += links_in(d, root, "etc/systemd/system/sockets.target.wants",
	    SYSTEMD, NULL);
	if (found == 0)
		doctor_add(d, "init", DOCTOR_OK, xstrdup("no libvirt service "
		    "of the distribution is enabled in sysvinit, OpenRC, runit, "
		    "s6 or systemd"), NULL);
}
