/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's guests check (doctor.h): what a QEMU guest
 * needs to start under the daemons the broker runs, read from this host:
 * QEMU in PATH, /dev/kvm, the core limit against libvirt's max_core, and
 * the firmware descriptions UEFI guests are chosen from.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "paths.h"
#include "xalloc.h"

/* Does CONFIG/libvirt/qemu.conf set max_core (a line "max_core = ...")? */
static bool
sets_max_core(void)
{
	const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *path, line[512];
	bool set = false;
	FILE *fp;

	if (cfg != NULL && cfg[0] == '/')
		path = xasprintf("%s/libvirt/qemu.conf", cfg);
	else if (home != NULL && home[0] == '/')
		path = xasprintf("%s/.config/libvirt/qemu.conf", home);
	else
		return false;
	if ((fp = fopen(path, "re")) != NULL) {
		while (!set && fgets(line, sizeof(line), fp) != NULL) {
			const char *l = line + strspn(line, " \t");

			set = strncmp(l, "max_core", 8) == 0 &&
			    strchr("= \t", l[8]) != NULL;
		}
		fclose(fp);
	}
	free(path);
	return set;
}

/*
 * Session: QEMU's core limit. libvirt raises it to max_core, unlimited
 * unless qemu.conf says otherwise, and an unprivileged daemon cannot go
 * above its hard limit: "cannot limit core file size ... Operation not
 * permitted", and no guest starts.
 */
static void
check_core_limit(struct doctor *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
		return;
	if (sets_max_core())
		doctor_add(d, "guests", DOCTOR_OK, xasprintf("the hard core "
		    "limit is %llu and qemu.conf sets max_core",
		    (unsigned long long)rl.rlim_max), NULL);
	else
		doctor_add(d, "guests", DOCTOR_WARN, xasprintf("the hard core "
		    "limit is %llu, not unlimited (the daemons get the "
		    "broker's): session guests fail with \"cannot limit core "
		    "file size\"", (unsigned long long)rl.rlim_max), xstrdup(
		    "mkdir -p ~/.config/libvirt && echo 'max_core = 0' >> "
		    "~/.config/libvirt/qemu.conf   (or raise the hard limit "
		    "where the broker starts: ulimit -Hc unlimited as root)"));
}

/* The *.json files in dir, masked ones (empty) apart; -1 if none is. */
static int
count_json(const char *dir)
{
	DIR *dd = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (dd == NULL)
		return -1;
	while ((de = readdir(dd)) != NULL) {
		size_t len = strlen(de->d_name);
		char *p;
		struct stat st;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		p = paths_join(dir, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
			n++;
		free(p);
	}
	closedir(dd);
	return n;
}

/*
 * UEFI guests (<os firmware='efi'>, virt-manager's UEFI choice): libvirt
 * picks their firmware from QEMU's firmware descriptions, in
 * /usr/share/qemu/firmware, /etc/qemu/firmware and, for a session,
 * $XDG_CONFIG_HOME/qemu/firmware (libvirt's qemuInteropFetchConfigs).
 * Without one such guests fail to define or start ("Unable to find any
 * firmware to satisfy 'efi'"); BIOS guests do not care.
 */
static void
check_firmware(struct doctor *d, bool system)
{
	const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *dirs[3] = { xstrdup("/usr/share/qemu/firmware"),
		xstrdup("/etc/qemu/firmware"), NULL };
	int found = 0;

	if (!system && cfg != NULL && cfg[0] == '/')
		dirs[2] = xasprintf("%s/qemu/firmware", cfg);
	else if (!system && home != NULL && home[0] == '/')
		dirs[2] = xasprintf("%s/.config/qemu/firmware", home);
	for (size_t i = 0; i < 3; i++) {
		int n = dirs[i] != NULL ? count_json(dirs[i]) : -1;

		if (n > 0) {
			doctor_add(d, "guests", DOCTOR_OK, xasprintf("%d "
			    "firmware description%s in %s: UEFI guests can "
			    "start", n, n == 1 ? "" : "s", dirs[i]), NULL);
			found = n;
			break;
		}
	}
	if (found == 0)
		doctor_add(d, "guests", DOCTOR_WARN, xasprintf("no firmware "
		    "description (*.json) in %s, %s%s%s: UEFI guests "
		    "(virt-manager's UEFI firmware) fail with \"Unable to "
		    "find any firmware to satisfy 'efi'\"; BIOS guests "
		    "start", dirs[0], dirs[1], dirs[2] != NULL ? " or " : "",
		    dirs[2] != NULL ? dirs[2] : ""), xstrdup("install OVMF "
		    "(Debian, Devuan: apt-get install ovmf; Alpine: apk add "
		    "ovmf; Void: xbps-install edk2-ovmf; Arch, Artix: pacman "
		    "-S edk2-ovmf; Gentoo: emerge sys-firmware/edk2-bin; "
		    "Guix: the firmwares field of virt-broker-service-type)"));
	for (size_t i = 0; i < 3; i++)
		free(dirs[i]);
}

/* 6. What a guest needs to start: QEMU in PATH, /dev/kvm. */
void
doctor_guests(struct doctor *d, bool system)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path != NULL ? path : "");
	char *save = NULL, *found = NULL;
	struct stat st;

	for (char *dir = strtok_r(copy, ":", &save); dir != NULL &&
	    found == NULL; dir = strtok_r(NULL, ":", &save)) {
		DIR *dd = opendir(dir);
		struct dirent *de;

		while (dd != NULL && found == NULL &&
		    (de = readdir(dd)) != NULL)
			if (strncmp(de->d_name, "qemu-system-", 12) == 0)
				found = paths_join(dir, de->d_name);
		if (dd != NULL)
			closedir(dd);
	}
	free(copy);
	if (found != NULL)
		doctor_add(d, "guests", DOCTOR_OK, xasprintf("%s is in PATH "
		    "(the daemons get the broker's PATH)", found), NULL);
	else
		doctor_add(d, "guests", DOCTOR_WARN, xasprintf("no "
		    "qemu-system-* in PATH (%s): QEMU guests cannot start",
		    path != NULL ? path : "unset"), xstrdup("install QEMU "
		    "(Debian: apt-get install qemu-system-x86; Alpine: apk "
		    "add qemu-system-x86_64; Void: xbps-install qemu), or "
		    "add its directory to the broker's PATH"));
	free(found);
	check_firmware(d, system);
	if (system)
		return;
	if (stat("/dev/kvm", &st) < 0)
		doctor_add(d, "guests", DOCTOR_WARN, xstrdup("no /dev/kvm: "
		    "guests run under TCG, many times slower"), xstrdup(
		    "modprobe kvm_intel (or kvm_amd) as root, or turn on "
		    "virtualisation in the firmware; in a VM, nested "
		    "virtualisation"));
	else if (access("/dev/kvm", R_OK | W_OK) < 0) {
		struct group *g = getgrgid(st.st_gid);
		const char *user = getenv("USER");

		doctor_add(d, "guests", DOCTOR_WARN, xasprintf("/dev/kvm is "
		    "not yours to use (group %s, mode %04o): guests run "
		    "under TCG", g != NULL ? g->gr_name : "?",
		    (unsigned)(st.st_mode & 07777)), xasprintf("sudo usermod "
		    "-aG %s %s, then log in again", g != NULL ? g->gr_name :
		    "kvm", user != NULL ? user : "$USER"));
	} else
		doctor_add(d, "guests", DOCTOR_OK, xstrdup("/dev/kvm is "
		    "usable"), NULL);
	check_core_limit(d);
}
