/* SPDX-License-Identifier: MIT */
/*
 * Test helper: counts the daemons named NAME of user UID every INTERVAL ms
 * (as the soak tests' "never two virtqemud at once"), until SIGTERM or
 * SIGINT. A daemon is a live process (not a zombie) whose command name is
 * NAME and whose parent is not itself a NAME (a daemon's forked helpers
 * carry its name until they exec). It serves if it holds a listening UNIX
 * socket (/proc/net/unix): one that a client's autospawn started and that
 * exits at start-up (its pidfile taken) never does. Each sample that finds
 * more than one daemon writes a line to OUT: the time (ms since start)
 * and, per pid, whether it serves, its parent, XDG_RUNTIME_DIR and command
 * line. At the end, a last line:
 *   samples=N max=M over=K first_over_ms=T serving_max=S serving_over=V
 * (K samples found more than one daemon, V more than one serving; T is -1
 * if none did). Exit 0.
 *
 *   vb-procwatch UID NAME INTERVAL_MS OUT
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXP 256

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct proc {
	long	 pid;
	long	 ppid;
	char	 comm[32];
	bool	 serving;
};

/* The inodes of listening UNIX sockets (state 01 with __SO_ACCEPTCON). */
static size_t
listening(unsigned long *ino, size_t max)
{
	FILE *fp = fopen("/proc/net/unix", "re");
	char line[512];
	size_t n = 0;

	if (fp == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		unsigned long flags, type, state, inode;

		if (sscanf(line, "%*s %*s %*s %lx %lx %lx %lu", &flags, &type,
		    &state, &inode) == 4 && (flags & 0x10000) != 0)
			ino[n++] = inode;
	}
	fclose(fp);
	return n;
}

/* Does pid hold one of the listening sockets ino? */
static bool
holds_listener(long pid, const unsigned long *ino, size_t n)
{
	char path[64], link[64];
	DIR *d;
	struct dirent *de;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	d = opendir(path);
	if (d == NULL)
		return false;
	while (!yes && (de = readdir(d)) != NULL) {
		char fd[400];
		ssize_t len;
		unsigned long i;

		snprintf(fd, sizeof(fd), "%s/%s", path, de->d_name);
		len = readlink(fd, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &i) != 1)
			continue;
		for (size_t k = 0; k < n && !yes; k++)
			yes = ino[k] == i;
	}
	closedir(d);
	return yes;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* /proc/PID/stat: comm, state and parent; false if gone or a zombie. */
static bool
read_stat(long pid, struct proc *p)
{
	char path[64], buf[512], *lp, *rp;
	int fd;
	ssize_t n;
	char state;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)!close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (lp == NULL || rp == NULL || rp < lp)
		return false;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	if (sscanf(rp + 2, "%c %ld", &state, &p->ppid) != 2)
		return false;
	p->pid = pid;
	return state != 'Z' && state != 'X';
}

/* Its XDG_RUNTIME_DIR, "unset" if none (where a spawned daemon came from). */
static void
xdg_of(long pid, char *buf, size_t size)
{
	char path[64], env[8192];
	int fd;
	ssize_t n;

	snprintf(buf, size, "unset");
	snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, env, sizeof(env) - 1);
	(void)!close(fd);
	if (n <= 0)
		return;
	env[n] = '\0';
	for (char *e = env; e < env + n; e += strlen(e) + 1)
		if (strncmp(e, "XDG_RUNTIME_DIR=", 16) == 0)
			snprintf(buf, size, "%s", e + 16);
}

static void
cmdline(long pid, char *buf, size_t size)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	(void)!close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

/* The daemons now: their number, the processes in v. */
static size_t
sample(uid_t uid, const char *name, struct proc *v)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0, daemons = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < MAXP) {
		char path[64];
		struct stat st;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (stat(path, &st) < 0 || st.st_uid != uid)
			continue;
		if (read_stat(pid, &v[n]) && strcmp(v[n].comm, name) == 0)
			n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		bool helper = false;

		for (size_t j = 0; j < n; j++)
			helper |= v[j].pid == v[i].ppid;
		if (!helper)
			v[daemons++] = v[i];
	}
	return daemons;
}

int
main(int argc, char **argv)
{
	struct proc v[MAXP];
	struct timespec gap;
	static unsigned long ino[65536];
	long start, first_over = -1, samples = 0, over = 0, interval;
	long serving_over = 0;
	size_t max = 0, serving_max = 0;
	uid_t uid;
	FILE *out;

	if (argc != 5) {
		fprintf(stderr, "usage: vb-procwatch UID NAME INTERVAL_MS OUT\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[1], NULL, 10);
	interval = atol(argv[3]);
	out = fopen(argv[4], "w");
	if (out == NULL || interval <= 0) {
		perror(argv[4]);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	gap.tv_sec = interval / 1000;
	gap.tv_nsec = (interval % 1000) * 1000000L;
	start = now_ms();
	while (!stop) {
		size_t n = sample(uid, argv[2], v);

		samples++;
		if (n > max)
			max = n;
		if (n > 1) {
			size_t nino = listening(ino, 65536), serving = 0;

			over++;
			if (first_over < 0)
				first_over = now_ms() - start;
			for (size_t i = 0; i < n; i++) {
				v[i].serving = holds_listener(v[i].pid, ino,
				    nino);
				serving += v[i].serving;
			}
			if (serving > serving_max)
				serving_max = serving;
			serving_over += serving > 1;
			fprintf(out, "%ld ms: %zu %s, %zu serving:",
			    now_ms() - start, n, argv[2], serving);
			for (size_t i = 0; i < n; i++) {
				char cl[512], xdg[512];

				cmdline(v[i].pid, cl, sizeof(cl));
				xdg_of(v[i].pid, xdg, sizeof(xdg));
				fprintf(out, " [pid %ld %s, parent %ld, "
				    "XDG_RUNTIME_DIR=%s: %s]", v[i].pid,
				    v[i].serving ? "serving" : "not serving",
				    v[i].ppid, xdg, cl);
			}
			fputc('\n', out);
			fflush(out);
		} else if (n == 1 && serving_max == 0) {
			serving_max = 1;	/* one daemon: it counts as one */
		}
		nanosleep(&gap, NULL);
	}
	fprintf(out, "samples=%ld max=%zu over=%ld first_over_ms=%ld "
	    "serving_max=%zu serving_over=%ld\n", samples, max, over,
	    first_over, serving_max, serving_over);
	fclose(out);
	return 0;
}
