/* SPDX-License-Identifier: MIT */
/* Edge: running guests from libvirt's state directory (guests.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "guests.h"
#include "paths.h"
#include "proc.h"
#include "trust.h"
#include "xalloc.h"

/*
 * The state directory of unit's QEMU driver, or NULL if the unit has
 * none. socket is one of the unit's sockets, in R: its owner is the
 * daemon's user, and a daemon running as root uses the system paths
 * whatever R is.
 */
char *
guests_dir(const char *unit, const char *socket)
{
	struct stat st;
	char *r, *d;

	if (strcmp(unit, "virtqemud") != 0 && strcmp(unit, "libvirtd") != 0)
		return NULL;
	if (stat(socket, &st) == 0 && st.st_uid == 0)
		return xstrdup(PATHS_SYSTEM_RUNTIME_DIR "/qemu");
	r = paths_dirname(socket);
	d = paths_join(r, "qemu/run");
	free(r);
	return d;
}

/* The value of attr='...' (or "...") in the tag that starts at tag. */
static char *
attr(const char *tag, const char *name)
{
	const char *end = strchr(tag, '>'), *p = tag;
	size_t len = strlen(name);

	while ((p = strstr(p, name)) != NULL && (end == NULL || p < end)) {
		if (strchr(" \t\n", p[-1]) != NULL && p[len] == '=' &&
		    (p[len + 1] == '\'' || p[len + 1] == '"')) {
			const char *v = p + len + 2, *q = strchr(v, p[len + 1]);

			return q != NULL ? xstrndup(v, (size_t)(q - v)) : NULL;
		}
		p += len;
	}
	return NULL;
}

/* The domstatus element's state and pid; the file is small. */
static void
read_status(const char *file, struct guest *g)
{
	char buf[4096], *tag, *pid;
	int fd = trust_open(file);	/* a link in R is not followed */
	ssize_t n;

	g->state = NULL;
	g->pid = 0;
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return;
	buf[n] = '\0';
	if ((tag = strstr(buf, "<domstatus")) == NULL)
		return;
	g->state = attr(tag, "state");
	if ((pid = attr(tag, "pid")) != NULL)
		g->pid = (pid_t)strtol(pid, NULL, 10);
	free(pid);
}

/*
 * The guests that have a status file in dir. Returns 0 (a missing dir
 * means none), or -errno.
 */
int
guests_read(const char *dir, struct guest **ret_guests, size_t *ret_n)
{
	struct guest *g = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (d == NULL && errno != ENOENT)
		return -errno;
	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *file;

		if (len <= 4 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 4, ".xml") != 0)
			continue;
		g = xreallocarray(g, n + 1, sizeof(*g));
		g[n].name = xstrndup(de->d_name, len - 4);
		file = paths_join(dir, de->d_name);
		read_status(file, &g[n]);
		free(file);
		g[n].alive = g[n].pid > 0 && proc_running(g[n].pid);
		n++;
	}
	if (d != NULL)
		closedir(d);
	*ret_guests = g;
	*ret_n = n;
	return 0;
}

size_t
guests_alive(const struct guest *g, size_t n)
{
	size_t alive = 0;

	for (size_t i = 0; i < n; i++)
		alive += g[i].alive;
	return alive;
}

void
guests_free(struct guest *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].state);
	}
	free(g);
}
