/* SPDX-License-Identifier: MIT */
/* Edge: what /proc says about a process (Linux). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "proc.h"

/* The command name (/proc/PID/comm, cut at 15 bytes by the kernel). */
bool
proc_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *fp;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return false;
	ok = fgets(buf, (int)size, fp) != NULL;
	fclose(fp);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* Is pid a process whose command name is name (cut as comm is)? */
bool
proc_is(pid_t pid, const char *name)
{
	char comm[32];

	return pid > 0 && proc_comm(pid, comm, sizeof(comm)) &&
	    strncmp(comm, name, 15) == 0;
}

/* Alive and not a zombie (orphans may never be reaped in a container). */
bool
proc_running(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *fp;
	bool running = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return false;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
		running = p[2] != 'Z' && p[2] != 'X';
	fclose(fp);
	return running;
}

/* The pid in a pidfile, or 0. */
pid_t
proc_read_pidfile(const char *path)
{
	FILE *fp = fopen(path, "re");
	long pid = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1 || pid < 0)
		pid = 0;
	fclose(fp);
	return (pid_t)pid;
}

/* "exited with status 6", "killed by signal 9 (Killed)". */
void
proc_describe_status(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "killed by signal %d (%s)",
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, size, "ended with wait status %#x", wstatus);
}
