/* SPDX-License-Identifier: MIT */
/* Edge: what /proc says about a process (Linux). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Seconds since boot (CLOCK_BOOTTIME, /proc's clock for starttime). */
double
proc_uptime(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_BOOTTIME, &now) < 0)
		return -1.;
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}

/*
 * When pid started, in seconds since boot (its /proc stat starttime), or
 * -1 if it cannot be read. An exec does not change it.
 */
double
proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *fp;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return -1.;
	/* After the comm's ')': state (field 3) ... starttime (field 22). */
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		ok = sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start) == 1;
	fclose(fp);
	if (!ok || hz <= 0)
		return -1.;
	return (double)start / (double)hz;
}

/* Seconds since pid started, or -1 if it cannot be read. */
double
proc_age(pid_t pid)
{
	double start = proc_start(pid), now = proc_uptime();

	return start < 0. || now < 0. ? -1. : now - start;
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

/*
 * /proc/PID/cmdline into buf (its words NUL-separated, buf NUL-terminated
 * after them): the length, or -1.
 */
ssize_t
proc_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || size == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Does one word of a cmdline (proc_cmdline's) start with prefix? */
bool
proc_has_arg(const char *cmdline, ssize_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (const char *a = cmdline; a < cmdline + len; a += strlen(a) + 1)
		if (strncmp(a, prefix, plen) == 0)
			return true;
	return false;
}

/* The parent's pid (/proc/PID/stat), or 0. */
pid_t
proc_ppid(pid_t pid)
{
	char path[64], buf[512], *p;
	long ppid = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		(void)sscanf(p + 2, "%*c %ld", &ppid);
	fclose(fp);
	return (pid_t)ppid;
}

/* NAME's value in /proc/PID/environ (a process of ours), or "". */
void
proc_env(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64], env[8192];
	size_t len = strlen(name);
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, env, sizeof(env) - 1);
	close(fd);
	if (n <= 0)
		return;
	env[n] = '\0';
	for (char *e = env; e < env + n; e += strlen(e) + 1)
		if (strncmp(e, name, len) == 0 && e[len] == '=')
			snprintf(buf, size, "%s", e + len + 1);
}
