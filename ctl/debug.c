/* SPDX-License-Identifier: MIT */
/* Edge: virt-brokerctl debug (debug.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlproto.h"
#include "debug.h"
#include "paths.h"
#include "xalloc.h"

struct saved {
	pid_t	 pid;
	char	*filters, *outputs;
};

/*
 * Pure: the daemon's outputs with its stderr output, if any, replaced by
 * one at debug level: "3:file:/x 3:stderr" gives "3:file:/x 1:stderr".
 */
char *
debug_outputs(const char *outputs)
{
	struct strv keep = { 0 };
	char *copy = xstrdup(outputs), *tok, *save = NULL, *r;

	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		const char *colon = strchr(tok, ':');

		if (colon == NULL || strcmp(colon + 1, "stderr") != 0)
			strv_add(&keep, tok);
	}
	strv_add(&keep, "1:stderr");
	r = strv_join(&keep, " ");
	strv_free(&keep);
	free(copy);
	return r;
}

static char *
saved_path(const char *rundir, const char *unit)
{
	char *base = xasprintf(DEBUG_FILE "%s", unit), *p;

	p = paths_join(rundir, base);
	free(base);
	return p;
}

/* The saved settings of this daemon; 0, -ENOENT if none or stale. */
static int
saved_read(const char *file, pid_t pid, struct saved *ret)
{
	char line[4096];
	struct strv w = { 0 };
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int r = -ENOENT;
	FILE *fp;

	if (fd < 0)
		return -errno;
	/* Ours, as we wrote it: never a link or a file someone else made. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -EPERM;
	}
	if (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (ctlproto_split(line, &w) == 0 && w.n > 0 &&
		    strcmp(w.v[0], "saved") == 0 &&
		    ctlproto_kv(&w, "pid") != NULL &&
		    strtol(ctlproto_kv(&w, "pid"), NULL, 10) == (long)pid &&
		    ctlproto_kv(&w, "filters") != NULL &&
		    ctlproto_kv(&w, "outputs") != NULL) {
			ret->pid = pid;
			ret->filters = xstrdup(ctlproto_kv(&w, "filters"));
			ret->outputs = xstrdup(ctlproto_kv(&w, "outputs"));
			r = 0;
		}
	}
	strv_free(&w);
	fclose(fp);
	return r;
}

/* Written whole, then renamed into place; 0600. */
static int
saved_write(const char *file, const struct saved *s)
{
	char *tmp = xasprintf("%s.tmp", file), *words[3], *body;
	int fd, r = 0;
	FILE *fp;

	words[0] = xasprintf("pid=%ld", (long)s->pid);
	words[1] = xasprintf("filters=%s", s->filters);
	words[2] = xasprintf("outputs=%s", s->outputs);
	body = ctlproto_join((const char *const *)words, 3);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		r = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		fprintf(fp, "saved %s\n", body);
		if (fclose(fp) != 0 || rename(tmp, file) < 0)
			r = -errno;
	}
	if (r < 0)
		unlink(tmp);
	for (int i = 0; i < 3; i++)
		free(words[i]);
	free(body);
	free(tmp);
	return r;
}

static void
saved_free(struct saved *s)
{
	free(s->filters);
	free(s->outputs);
}

/*
 * Sets filters (and debug output to stderr); saves the daemon's own
 * settings first unless a file already has them for this pid. 0 or -1
 * (the message printed).
 */
int
debug_on(const struct adm_target *t, const char *rundir, const char *filters)
{
	char *file = saved_path(rundir, t->unit), *f, *o, *err, *outputs;
	struct saved s = { 0 };
	int r;

	if (saved_read(file, t->pid, &s) < 0) {
		if (adm_logging(t, NULL, NULL, &f, &o, &err) < 0) {
			fprintf(stderr, "virt-brokerctl: %s\n", err);
			free(err);
			free(file);
			return -1;
		}
		s.pid = t->pid;
		s.filters = f;
		s.outputs = o;
		if ((r = saved_write(file, &s)) < 0) {
			fprintf(stderr, "virt-brokerctl: %s: %s (needed to "
			    "undo the change with 'off')\n", file,
			    strerror(-r));
			saved_free(&s);
			free(file);
			return -1;
		}
	}
	outputs = debug_outputs(s.outputs);
	if (adm_logging(t, filters, outputs, &f, &o, &err) < 0) {
		fprintf(stderr, "virt-brokerctl: %s\n", err);
		free(err);
		r = -1;
	} else {
		printf("%s (pid %ld): log filters '%s', outputs '%s' "
		    "(its own: filters '%s', outputs '%s').\n"
		    "This lasts until the daemon exits, or until "
		    "'virt-brokerctl debug %s off'; the broker captures its "
		    "output: virt-brokerctl log %s -f\n", t->unit,
		    (long)t->pid, filters, outputs, s.filters, s.outputs,
		    t->unit, t->unit);
		free(f);
		free(o);
		r = 0;
	}
	free(outputs);
	saved_free(&s);
	free(file);
	return r;
}

/* Puts back the saved settings and removes the file. 0 or -1. */
int
debug_off(const struct adm_target *t, const char *rundir)
{
	char *file = saved_path(rundir, t->unit), *f, *o, *err;
	struct saved s = { 0 };
	int r = saved_read(file, t->pid, &s);

	if (r < 0) {
		fprintf(stderr, "virt-brokerctl: %s (pid %ld): nothing to "
		    "undo: %s holds no settings of this daemon (%s); a "
		    "daemon started since has its own\n", t->unit,
		    (long)t->pid, file, r == -ENOENT ? "none saved, or for "
		    "an earlier pid" : strerror(-r));
		free(file);
		return -1;
	}
	if (adm_logging(t, s.filters, s.outputs, &f, &o, &err) < 0) {
		fprintf(stderr, "virt-brokerctl: %s\n", err);
		free(err);
		r = -1;
	} else {
		if (unlink(file) < 0)
			fprintf(stderr, "virt-brokerctl: unlink %s: %s\n",
			    file, strerror(errno));
		printf("%s (pid %ld): its own log filters '%s' and outputs "
		    "'%s' are back\n", t->unit, (long)t->pid, s.filters,
		    s.outputs);
		free(f);
		free(o);
		r = 0;
	}
	saved_free(&s);
	free(file);
	return r;
}
