/* SPDX-License-Identifier: MIT */
/* Edge: finding clients' spawned daemons by /proc (see dupscan.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dupscan.h"
#include "log.h"
#include "proc.h"

static bool
has(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* dir/name as g_build_filename() makes it: no trailing slashes on dir. */
static void
join(char *buf, size_t size, char *dir, const char *name)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	snprintf(buf, size, "%s/%s", dir, name);
}

/* libvirt's virGetUserRuntimeDirectory() for pid's environment. */
static void
runtime_dir_of(pid_t pid, char *buf, size_t size)
{
	char v[4096];

	proc_env(pid, "XDG_RUNTIME_DIR", v, sizeof(v));
	if (v[0] != '\0') {
		join(buf, size, v, "libvirt");
		return;
	}
	proc_env(pid, "XDG_CACHE_HOME", v, sizeof(v));
	if (v[0] == '/') {
		join(buf, size, v, "libvirt");
		return;
	}
	proc_env(pid, "HOME", v, sizeof(v));
	if (v[0] == '/')
		join(buf, size, v, ".cache/libvirt");
	else
		buf[0] = '\0';
}

/* Is pid a process of ours named as one of names, not a forked helper? */
static bool
candidate(pid_t pid, const struct strv *names, char *comm, size_t size)
{
	char path[64], pcomm[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if (stat(path, &st) < 0 || st.st_uid != geteuid() ||
	    !proc_comm(pid, comm, size) || !has(names, comm))
		return false;
	return !proc_comm(proc_ppid(pid), pcomm, sizeof(pcomm)) ||
	    strcmp(pcomm, comm) != 0;
}

size_t
dupscan(const struct strv *names, const struct strv *dirs, double max_age,
    dupscan_fn fn, void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t found = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char comm[64], cmd[4096], dir[4200];
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		double age;
		ssize_t n;

		if (pid <= 0 || pid == getpid() ||
		    !candidate(pid, names, comm, sizeof(comm)))
			continue;
		age = proc_age(pid);
		if (age < 0. || age >= max_age)
			continue;
		n = proc_cmdline(pid, cmd, sizeof(cmd));
		if (n <= 0 || !proc_has_arg(cmd, n, "--timeout="))
			continue;
		runtime_dir_of(pid, dir, sizeof(dir));
		if (dir[0] == '\0' || !has(dirs, dir))
			continue;
		found++;
		log_debug("dupscan: %s pid %ld, %.3f s old, has %s as its "
		    "runtime dir", comm, (long)pid, age, dir);
		(void)fn(arg, dir, comm, pid);
	}
	closedir(d);
	return found;
}
