/* SPDX-License-Identifier: MIT */
/*
 * Edge: re-execution in place (see reexec.h). The old broker checks that
 * the new binary runs and reads the configuration (`BINARY OPTIONS -n`), writes the units' history to a memfd,
 * clears FD_CLOEXEC on what must survive and execs; if exec fails it puts
 * everything back and keeps serving. The new broker takes the fds back as
 * it binds (inherit.c), then restore finds which of its children serves
 * which unit (the child holds the unit's socket) and carries the history
 * over. A history it cannot read is said and skipped: the fds and the
 * children are found without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "inherit.h"
#include "log.h"
#include "reexec.h"
#include "supervise_int.h"
#include "xalloc.h"

#define REEXEC_STATE_MAX	65536	/* bytes of history read, with NUL */

extern char **environ;

static char	*exe_path;		/* "": unknown */
static char	**saved_argv;

/* The binary's path and argv, as started: exec'd again at a reexec. */
void
reexec_record(int argc, char **argv)
{
	/* Read into the heap and copied: a static PATH_MAX buffer kept a
	 * page of bss resident for a path of a few dozen bytes. */
	char *buf = xmalloc(PATH_MAX);
	ssize_t n = readlink("/proc/self/exe", buf, PATH_MAX - 1);

	buf[n > 0 ? n : 0] = '\0';
	exe_path = xstrdup(buf);
	free(buf);
	saved_argv = xcalloc((size_t)argc + 1, sizeof(*saved_argv));
	for (int i = 0; i < argc; i++)
		saved_argv[i] = xstrdup(argv[i]);
}

/* Not while a daemon is being started or stopped: its pipe and timer. */
int
reexec_check(const struct supervisor *sup, char *err, size_t size)
{
	if (exe_path[0] == '\0') {
		snprintf(err, size, "the broker's binary path is unknown "
		    "(/proc/self/exe)");
		return -ENOENT;
	}
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		if (u->sm.state == UNIT_STARTING ||
		    u->sm.state == UNIT_STOPPING) {
			snprintf(err, size, "unit %s is %s; try again once it "
			    "is not", u->spec.name,
			    unit_state_name(u->sm.state));
			return -EAGAIN;
		}
	}
	return 0;
}

/*
 * The broker's own options with -n (a dry run: the configuration read and
 * resolved, nothing bound), less --ready-fd, whose fd is long closed.
 */
static char **
probe_argv(void)
{
	size_t n = 0;
	char **v;

	while (saved_argv[n] != NULL)
		n++;
	v = xcalloc(n + 2, sizeof(*v));
	n = 0;
	v[n++] = exe_path;
	for (size_t i = 1; saved_argv[i] != NULL; i++) {
		if (strcmp(saved_argv[i], "--ready-fd") == 0 &&
		    saved_argv[i + 1] != NULL) {
			i++;
			continue;
		}
		if (strncmp(saved_argv[i], "--ready-fd=", 11) == 0)
			continue;
		v[n++] = saved_argv[i];
	}
	v[n++] = (char *)"-n";
	return v;
}

/*
 * `BINARY OPTIONS -n` exits 0: the new binary starts, and reads this
 * broker's configuration without error. A reexec into a broker that would
 * exit at once would close every socket.
 */
static int
probe_binary(char *err, size_t size)
{
	char **argv = probe_argv();
	int status, nullfd;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		snprintf(err, size, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		nullfd = open("/dev/null", O_WRONLY);
		if (nullfd >= 0) {
			dup2(nullfd, 1);
			dup2(nullfd, 2);
		}
		execv(exe_path, argv);
		_exit(127);
	}
	free(argv);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, size, "waitpid: %s", strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, size, "%s -n (a dry run with this broker's "
		    "options) failed (%s %d): the binary does not start or "
		    "the configuration has errors; not re-executing",
		    exe_path, WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		return -ENOEXEC;
	}
	return 0;
}

static int
write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
state_of(const struct supervisor *sup, struct reexec_state *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];
		struct reexec_unit r = {
			.name = u->spec.name,
			.activations = u->activations,
			.reloads = u->reloads,
			.ready_ms = u->ready_ms,
			.since = (long long)u->since,
			.exited_once = u->exited_once,
			.last_status = u->last_status,
			.exec_ms = u->exec_ms,
			.adopted_pid = u->adopted_pid,
			.pid = u->pid,
			.nfail = u->sm.nfail < UNIT_MAX_BURST ? u->sm.nfail :
			    UNIT_MAX_BURST,
		};

		memcpy(r.fail_ms, u->sm.fail_ms, sizeof(r.fail_ms));
		reexec_state_add(st, &r);
	}
}

/* The fds that must survive exec: on (keep) or back off (undo). */
static void
set_keep(const struct supervisor *sup, const int *keep, size_t nkeep,
    bool on)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0)
			(void)fd_set_cloexec(keep[i], !on);
	for (size_t i = 0; i < sup->nunits; i++) {
		const struct unit *u = sup->units[i];

		for (size_t j = 0; j < u->nsocks; j++)
			if (u->socks[j].b.fd >= 0)
				(void)fd_set_cloexec(u->socks[j].b.fd, !on);
		if (u->pid > 0 && u->log.pipe_rd >= 0)
			(void)fd_set_cloexec(u->log.pipe_rd, !on);
		if (u->pid > 0 && u->log.pipe_wr >= 0)
			(void)fd_set_cloexec(u->log.pipe_wr, !on);
	}
}

/*
 * A broker from before output pipes were closed at EOF (a downgrade) takes
 * a running daemon's pipe only with a write end too: lend it one for the
 * exec (on), or take it back (off). This broker closes it (restore_running).
 */
static void
lend_write_ends(const struct supervisor *sup, bool on)
{
	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];

		if (u->pid <= 0 || u->log.pipe_rd < 0)
			continue;
		if (on)
			(void)dlog_reopen_wr(&u->log);
		else
			dlog_handed_over(&u->log);
	}
}

/*
 * Execs the binary again. Returns only on failure (-errno, err said why),
 * with every fd as it was: the broker keeps serving.
 */
int
reexec_exec(const struct supervisor *sup, const int *keep, size_t nkeep,
    char *err, size_t size)
{
	struct reexec_state st;
	char *text, num[16];
	sigset_t none;
	int r, mfd;

	if ((r = reexec_check(sup, err, size)) < 0 ||
	    (r = probe_binary(err, size)) < 0)
		return r;
	mfd = memfd_create("virt-broker-state", 0);
	if (mfd < 0) {
		snprintf(err, size, "memfd_create: %s", strerror(errno));
		return -errno;
	}
	state_of(sup, &st);
	text = reexec_state_format(&st);
	reexec_state_free(&st);
	r = write_all(mfd, text, strlen(text));
	free(text);
	if (r < 0 || lseek(mfd, 0, SEEK_SET) < 0) {
		snprintf(err, size, "write the state: %s", strerror(errno));
		fd_close(&mfd);
		return -EIO;
	}
	snprintf(num, sizeof(num), "%d", mfd);
	setenv(REEXEC_STATE_ENV, num, 1);
	lend_write_ends(sup, true);
	set_keep(sup, keep, nkeep, true);
	log_info("reexec: executing %s (pid %ld stays)", exe_path,
	    (long)getpid());
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe_path, saved_argv, environ);
	r = -errno;
	snprintf(err, size, "exec %s: %s", exe_path, strerror(errno));
	set_keep(sup, keep, nkeep, false);
	lend_write_ends(sup, false);
	unsetenv(REEXEC_STATE_ENV);
	fd_close(&mfd);
	return r;
}

/*
 * In the new broker, first thing: 1 with *ret_st read from the old one,
 * 0 if this is no reexec, -errno if it is one whose state could not be
 * read (said; ret_st empty). Then every inherited fd is looked at.
 */
int
reexec_take_state(struct reexec_state *ret_st)
{
	const char *v = getenv(REEXEC_STATE_ENV);
	char *buf, why[256];
	long fd;
	ssize_t n;
	size_t len = 0;
	int r;

	memset(ret_st, 0, sizeof(*ret_st));
	if (v == NULL)
		return 0;
	/* Not a 64 KiB frame: calls from it touch a stack page that far
	 * down, which every broker, reexec or not, would keep resident. */
	buf = xmalloc(REEXEC_STATE_MAX);
	fd = strtol(v, NULL, 10);
	unsetenv(REEXEC_STATE_ENV);	/* not for the daemons */
	while (fd >= 3 && len < REEXEC_STATE_MAX - 1 &&
	    (n = read((int)fd, buf + len, REEXEC_STATE_MAX - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (fd >= 3)
		(void)close((int)fd);
	inherit_scan(-1);
	r = reexec_state_parse(buf, ret_st, why, sizeof(why));
	free(buf);
	if (r < 0) {
		log_warnx("reexec: the previous broker's state: %s; going on "
		    "without the units' history (the sockets and running "
		    "daemons are found without it)", why);
		return r;
	}
	log_info("reexec: state of %zu unit%s, %zu fd%s inherited",
	    ret_st->nunits, ret_st->nunits == 1 ? "" : "s", inherit_count(),
	    inherit_count() == 1 ? "" : "s");
	return 1;
}

/*
 * The child that holds one of u's sockets runs as u's daemon; for a unit
 * without sockets (a user's broker), the child the old image named.
 */
static void
restore_running(struct unit *u, const struct reexec_unit *r, pid_t *children,
    size_t nchildren)
{
	pid_t pid = 0;
	ino_t ino;
	int rd, wr;

	for (size_t j = 0; j < u->nsocks && pid == 0; j++)
		if (u->socks[j].b.fd >= 0)
			pid = inherit_child_holding(u->socks[j].b.fd,
			    children, nchildren);
	for (size_t j = 0; u->nsocks == 0 && r != NULL && r->pid > 0 &&
	    pid == 0 && j < nchildren; j++)
		if (children[j] == r->pid)
			pid = r->pid;
	if (pid <= 0)
		return;
	ino = inherit_fd_pipe_ino(pid, 2);
	rd = ino != 0 ? inherit_take_pipe(ino, O_RDONLY) : -1;
	/* A write end came too (lend_write_ends); the daemon has its own. */
	wr = ino != 0 ? inherit_take_pipe(ino, O_WRONLY) : -1;
	fd_close(&wr);
	if (rd >= 0)
		dlog_adopt_pipe(&u->log, rd);
	u->log.pid = pid;
	unit_resume_child(u, pid);
	log_info("unit %s: pid %ld runs on from before the reexec",
	    u->spec.name, (long)pid);
}

/*
 * After the units are bound: which children serve which unit, and each
 * unit's history. The caller closes what no one took (inherit_close_rest)
 * once the control and notify sockets are open too.
 */
void
reexec_restore(struct supervisor *sup, const struct reexec_state *st)
{
	pid_t children[4096];
	size_t nchildren = inherit_children(children, 4096);

	log_debug("reexec: %zu child%s", nchildren, nchildren == 1 ? "" :
	    "ren");

	for (size_t i = 0; i < sup->nunits; i++) {
		struct unit *u = sup->units[i];
		const struct reexec_unit *r = reexec_state_find(st,
		    u->spec.name);

		if (r != NULL) {
			u->activations = r->activations;
			u->reloads = r->reloads;
			u->since = (time_t)r->since;
			u->exited_once = r->exited_once;
			u->last_status = r->last_status;
			u->exec_ms = r->exec_ms;
			u->sm.started_ms = r->exec_ms;
			u->sm.nfail = r->nfail;
			memcpy(u->sm.fail_ms, r->fail_ms, sizeof(r->fail_ms));
		}
		if (u->serving && u->adopted_pid <= 0)
			restore_running(u, r, children, nchildren);
		/* One adopted before stays adopted (its sockets were kept). */
		if (r != NULL && r->adopted_pid > 0 && u->pid <= 0 &&
		    u->adopted_pid <= 0 && u->nsocks > 0 && u->socks[0].b.fd >= 0)
			unit_adopt_held(u, r->adopted_pid);
		if (r != NULL && u->pid > 0)
			u->ready_ms = r->ready_ms;
	}
}
