/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's init-services check (doctor.h): the
 * distribution's own libvirt services still enabled in an init system, which
 * start daemons of their own at boot and race the system broker for
 * /run/libvirt, as initsvc_scan() finds them (under root, "/" but in
 * tests), and on Guix the libvirt daemons Shepherd runs (root/proc), each
 * with the command that disables it there.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "initsvc.h"
#include "xalloc.h"

static void
add_found(const struct initsvc_found *f, void *arg)
{
	struct doctor *d = arg;
	char *what;

	if (f->kind == INITSVC_SYSV)
		what = xasprintf("sysvinit starts %s at boot (%s): it races "
		    "the broker for /run/libvirt", f->daemon, f->path);
	else
		what = xasprintf("%s starts %s (%s): it races the broker for "
		    "/run/libvirt", initsvc_kind_name(f->kind), f->entry,
		    f->path);
	doctor_add(d, "init", DOCTOR_FAIL, what,
	    initsvc_disable_cmd(f->kind, f->daemon, f->level));
}

/* root/proc/PID/comm, newline cut; false if it cannot be read. */
static bool
read_comm(const char *root, const char *pid, char *buf, size_t size)
{
	char *p = xasprintf("%s/proc/%s/comm", root, pid);
	FILE *fp = fopen(p, "re");
	bool ok = fp != NULL && fgets(buf, (int)size, fp) != NULL;

	if (fp != NULL)
		fclose(fp);
	free(p);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The parent in root/proc/PID/stat ("PID (COMM) S PPID ..."), or -1. */
static long
read_ppid(const char *root, const char *pid)
{
	char *p = xasprintf("%s/proc/%s/stat", root, pid), line[512], *rp;
	FILE *fp = fopen(p, "re");
	long ppid = -1;

	free(p);
	if (fp == NULL)
		return -1;
	if (fgets(line, sizeof(line), fp) != NULL &&
	    (rp = strrchr(line, ')')) != NULL)
		(void)sscanf(rp + 1, " %*c %ld", &ppid);
	fclose(fp);
	return ppid;
}

/*
 * Guix: Shepherd (pid 1) enables nothing in a directory; what its
 * libvirt-service-type and virtlog-service-type run are libvirt daemons
 * whose parent is pid 1, Shepherd. Each is said, with the config change.
 */
static size_t
check_shepherd(struct doctor *d, const char *root)
{
	char comm[64], *dir = xasprintf("%s/proc", root);
	DIR *dd;
	struct dirent *de;
	size_t found = 0;

	if (!read_comm(root, "1", comm, sizeof(comm)) ||
	    strcmp(comm, "shepherd") != 0 || (dd = opendir(dir)) == NULL) {
		free(dir);
		return 0;
	}
	while ((de = readdir(dd)) != NULL) {
		bool libvirt = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    strcmp(de->d_name, "1") == 0 ||
		    !read_comm(root, de->d_name, comm, sizeof(comm)))
			continue;
		for (size_t i = 0; initsvc_daemons[i] != NULL; i++)
			libvirt = libvirt || strcmp(comm, initsvc_daemons[i]) == 0;
		if (!libvirt || read_ppid(root, de->d_name) != 1)
			continue;
		found++;
		doctor_add(d, "init", DOCTOR_FAIL, xasprintf("Shepherd runs "
		    "%s (pid %s): Guix's %s, which races the broker for "
		    "/run/libvirt", comm, de->d_name, strcmp(comm, "virtlogd")
		    == 0 ? "virtlog-service-type" : "libvirt-service-type"),
		    xstrdup("remove (service libvirt-service-type ...) and "
		    "(service virtlog-service-type) from your operating-system's "
		    "services, keep virt-broker-service-type, then sudo guix "
		    "system reconfigure /etc/config.scm"));
	}
	closedir(dd);
	free(dir);
	return found;
}

void
doctor_init_services(struct doctor *d, const char *root)
{
	size_t shepherd = check_shepherd(d, root);

	if (initsvc_scan(root, add_found, d) == 0 && shepherd == 0)
		doctor_add(d, "init", DOCTOR_OK, xstrdup("no libvirt service "
		    "of the distribution is enabled in sysvinit, OpenRC, runit, "
		    "s6 or systemd, nor run by Shepherd"), NULL);
}
