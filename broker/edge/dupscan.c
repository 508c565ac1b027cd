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
#include "xalloc.h"

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
	char pcomm[64];

	if (!proc_comm(pid, comm, size) || !strv_contains(names, comm))
		return false;
	return !proc_comm(proc_ppid(pid), pcomm, sizeof(pcomm)) ||
	    strcmp(pcomm, comm) != 0;
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct dupscan_pid *)a)->pid;
	pid_t y = ((const struct dupscan_pid *)b)->pid;

	return (x > y) - (x < y);
}

/*
 * When pid started (seconds since boot), or -1 if it is another user's:
 * known from the last look (a process keeps its uid and start time, an
 * exec changes neither; a pid is not reused within a window), else asked
 * of /proc. Kept for the next look in next; -2 if pid is gone.
 */
static double
start_of(const struct dupscan *ds, struct dupscan *next, pid_t pid, uid_t me)
{
	struct dupscan_pid key = { .pid = pid }, *k = NULL;
	char path[64];
	struct stat st;
	double start;

	if (ds->pids != NULL)
		k = bsearch(&key, ds->pids, ds->n, sizeof(key), cmp_pid);
	if (k != NULL)
		start = k->start;
	else {
		snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
		if (stat(path, &st) < 0)
			return -2.;
		start = st.st_uid != me ? -1. : proc_start(pid);
		if (start < -0.5 && st.st_uid == me)
			return -2.;
	}
	if (next->n == next->cap) {
		next->cap = next->cap ? 2 * next->cap : 256;
		next->pids = xreallocarray(next->pids, next->cap,
		    sizeof(*next->pids));
	}
	next->pids[next->n].pid = pid;
	next->pids[next->n++].start = start;
	return start;
}

size_t
dupscan(struct dupscan *ds, const struct strv *names,
    const struct strv *dirs, double max_age, dupscan_fn fn, void *arg)
{
	DIR *d = opendir("/proc");
	struct dupscan next = { 0 };
	struct dirent *de;
	pid_t self = getpid();
	uid_t me = geteuid();
	double now = proc_uptime();
	size_t found = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char comm[64], cmd[4096], dir[4200];
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		double start, age;
		ssize_t n;

		if (pid <= 0 || pid == self)
			continue;
		start = start_of(ds, &next, pid, me);
		age = now - start;
		if (start < 0. || age >= max_age ||
		    !candidate(pid, names, comm, sizeof(comm)))
			continue;
		n = proc_cmdline(pid, cmd, sizeof(cmd));
		if (n <= 0 || !proc_has_arg(cmd, n, "--timeout="))
			continue;
		runtime_dir_of(pid, dir, sizeof(dir));
		if (dir[0] == '\0' || !strv_contains(dirs, dir))
			continue;
		found++;
		log_debug("dupscan: %s pid %ld, %.3f s old, has %s as its "
		    "runtime dir", comm, (long)pid, age, dir);
		(void)fn(arg, dir, comm, pid);
	}
	closedir(d);
	qsort(next.pids, next.n, sizeof(*next.pids), cmp_pid);
	dupscan_free(ds);
	*ds = next;
	return found;
}

/* Forgets the last look (a new window: pids may have been reused). */
void
dupscan_free(struct dupscan *ds)
{
	free(ds->pids);
	ds->pids = NULL;
	ds->n = ds->cap = 0;
}
