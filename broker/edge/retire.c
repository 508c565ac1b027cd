/* SPDX-License-Identifier: MIT */
/* Edge: retiring autospawned duplicates (see retire.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirtrust.h"
#include "dupscan.h"
#include "fd.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "retire.h"
#include "spawnguard.h"
#include "xalloc.h"

struct retiring {
	struct retiring	*next;
	struct retirer	*r;
	pid_t		 pid;
	int		 pidfd;		/* -1: polled (no pidfd_open) */
	int		 lock_fd;	/* P/DAEMON.lock, held */
	char		*daemon;
	char		*dir;
	ev_io		 io;		/* the pidfd */
	ev_timer	 poll;		/* without a pidfd */
	ev_timer	 kill;		/* SIGKILL after RETIRE_KILL_AFTER */
};

static void scan_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* A spawn lock was busy: look again (a killed client never unlinks it). */
static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct retirer *r = w->data;

	(void)loop;
	(void)revents;
	r->done(r->arg);
}

void
retire_init(struct retirer *r, struct ev_loop *loop, void (*done)(void *arg),
    void *arg)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->done = done;
	r->arg = arg;
	ev_timer_init(&r->retry, retry_cb, RETIRE_RETRY, 0.);
	r->retry.data = r;
	ev_timer_init(&r->scan, scan_cb, RETIRE_SCAN_EVERY,
	    RETIRE_SCAN_EVERY);
	r->scan.data = r;
}

/* Started by libvirt's client: `DAEMON --timeout=N` (virnetsocket.c). */
static bool
autospawned(pid_t pid)
{
	char buf[4096];
	ssize_t n = proc_cmdline(pid, buf, sizeof(buf));

	return n > 0 && proc_has_arg(buf, n, "--timeout=");
}

/* Does run (a driver's DIR/DRIVER/run) hold a status file (NAME.xml)? */
static bool
run_has_status(const char *run)
{
	DIR *d = opendir(run);
	struct dirent *de;
	bool any = false;

	if (d == NULL)
		return errno != ENOENT && errno != ENOTDIR;	/* assume so */
	while (!any && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		any = len > 4 && strcmp(de->d_name + len - 4, ".xml") == 0;
	}
	closedir(d);
	return any;
}

/*
 * Does the runtime dir hold a guest's (or any driver object's) status,
 * DIR/DRIVER/run/NAME.xml (qemu, ch, ...)? Checked once, before the
 * SIGTERM: a guest still starting has no status file yet.
 */
static bool
has_guests(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool any = false;

	if (d == NULL)
		return true;			/* cannot tell: assume so */
	while (!any && (de = readdir(d)) != NULL) {
		char *sub, *run;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR &&
		    de->d_type != DT_UNKNOWN))
			continue;
		sub = paths_join(dir, de->d_name);
		run = paths_join(sub, "run");
		any = run_has_status(run);
		free(sub);
		free(run);
	}
	closedir(d);
	return any;
}

/*
 * Is pid the daemon whose runtime dir is dir? It holds dir/DAEMON.pid's
 * lock (libvirt takes it before binding anything), which ties it to dir:
 * a link or a socket moved into dir from elsewhere does not.
 */
static bool
holds_pidfile(pid_t pid, const char *dir, const char *daemon)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };
	char file[300];
	int dfd, fd;
	bool held;

	snprintf(file, sizeof(file), "%s.pid", daemon);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return false;
	fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	fd_close(&dfd);
	held = fd >= 0 && fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
	    fl.l_type != F_UNLCK && fl.l_pid == pid;
	fd_close(&fd);
	return held;
}

static struct retiring *
find(const struct retirer *r, pid_t pid)
{
	for (struct retiring *x = r->list; x != NULL; x = x->next)
		if (x->pid == pid)
			return x;
	return NULL;
}

static void
signal_it(struct retiring *x, int sig)
{
	if (x->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, x->pidfd, sig, NULL, 0);
	else if (proc_running(x->pid))
		(void)kill(x->pid, sig);
}

/* It exited: link again (done), then let the waiting clients go on. */
static void
gone(struct retiring *x)
{
	struct retirer *r = x->r;
	struct retiring **pp = &r->list;

	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	ev_io_stop(r->loop, &x->io);
	ev_timer_stop(r->loop, &x->poll);
	ev_timer_stop(r->loop, &x->kill);
	r->retired++;
	log_info("publish: retired %s pid %ld, a duplicate that a client's "
	    "autospawn started in %s and that ran no guest; %s links to the "
	    "broker's sockets again (%lu retired)", x->daemon, (long)x->pid,
	    x->dir, x->dir, r->retired);
	r->done(r->arg);
	fd_close(&x->lock_fd);
	fd_close(&x->pidfd);
	free(x->daemon);
	free(x->dir);
	free(x);
}

static void
exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	gone(w->data);
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct retiring *x = w->data;

	(void)loop;
	(void)revents;
	if (!proc_running(x->pid))
		gone(x);
}

static void
kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct retiring *x = w->data;

	(void)loop;
	(void)revents;
	log_warnx("publish: %s pid %ld did not stop within %.0f s of SIGTERM; "
	    "SIGKILL", x->daemon, (long)x->pid, RETIRE_KILL_AFTER);
	signal_it(x, SIGKILL);
}

/*
 * SIGTERM under dir's spawn lock; false if that lock or pid is not to be
 * had. One that started less than RETIRE_FRESH s ago gets SIGKILL at once,
 * lock or not: it is still starting up, holds nothing a client gave it,
 * and every ms it listens a client may take it for the daemon.
 */
static bool
start(struct retirer *r, const char *dir, const char *daemon, pid_t pid)
{
	struct retiring *x;
	struct stat st;
	double age;
	bool fresh;
	int dfd, lock, pidfd;

	age = proc_age(pid);
	fresh = age >= 0. && age < RETIRE_FRESH;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && !fresh)
		return false;
	lock = dfd >= 0 && fstat(dfd, &st) == 0 && st.st_uid == geteuid() ?
	    guard_take(dfd, daemon, "lock", NULL) : -1;
	if (lock < 0 && !fresh) {	/* a client is connecting: again soon */
		if (!ev_is_active(&r->retry))
			ev_timer_start(r->loop, &r->retry);
		fd_close(&dfd);
		return false;
	}
	fd_close(&dfd);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if ((pidfd < 0 && errno != ENOSYS) || !proc_is(pid, daemon) ||
	    !proc_running(pid)) {
		fd_close(&pidfd);	/* gone, or the pid reused */
		fd_close(&lock);
		return false;
	}
	x = xcalloc(1, sizeof(*x));
	x->r = r;
	x->pid = pid;
	x->pidfd = pidfd;
	x->lock_fd = lock;
	x->daemon = xstrdup(daemon);
	x->dir = xstrdup(dir);
	x->next = r->list;
	r->list = x;
	ev_io_init(&x->io, exit_cb, pidfd, EV_READ);
	x->io.data = x;
	ev_timer_init(&x->poll, poll_cb, 0.05, 0.05);
	x->poll.data = x;
	ev_timer_init(&x->kill, kill_cb, RETIRE_KILL_AFTER, 0.);
	x->kill.data = x;
	if (pidfd >= 0)
		ev_io_start(r->loop, &x->io);
	else
		ev_timer_start(r->loop, &x->poll);
	ev_timer_start(r->loop, &x->kill);
	signal_it(x, fresh ? SIGKILL : SIGTERM);	/* first: it may listen */
	log_info("publish: %s pid %ld, which a client's autospawn started "
	    "in %s %.3f s ago and which runs no guest, is a duplicate: %s",
	    daemon, (long)pid, dir, age, fresh ? "SIGKILL" : "stopping it");
	return true;
}

/*
 * A daemon of ours (uid), named daemon, running, that a client's autospawn
 * started with dir as its runtime dir (it holds dir/DAEMON.pid): a
 * duplicate. Whether it runs guests is asked apart (has_guests).
 */
static bool
dup_in(pid_t pid, uid_t uid, const char *daemon, const char *dir)
{
	return uid == geteuid() && daemon[0] != '\0' && proc_is(pid, daemon) &&
	    proc_running(pid) && autospawned(pid) &&
	    holds_pidfile(pid, dir, daemon);
}

/* Such a duplicate, serving path (a socket in dir). */
static bool
autospawned_dup(pid_t pid, uid_t uid, const char *daemon, const char *dir,
    const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    dirtrust_parent_of(path) && dup_in(pid, uid, daemon, dir);
}

/* Would retire_consider() stop it? (Then it is not to be adopted.) */
bool
retire_wanted(pid_t pid, uid_t uid, const char *daemon, const char *dir,
    const char *path)
{
	return autospawned_dup(pid, uid, daemon, dir, path) &&
	    !has_guests(dir);
}

/* publish_foreign_fn: see retire.h for what is retired. */
bool
retire_consider(void *retirer, const char *dir, const char *daemon,
    const char *path, pid_t pid, uid_t uid)
{
	struct retirer *r = retirer;

	if (find(r, pid) != NULL)
		return true;		/* being stopped */
	if (!autospawned_dup(pid, uid, daemon, dir, path))
		return false;
	if (has_guests(dir)) {
		for (size_t k = 0; k < 8; k++)
			if (r->warned[k] == pid)
				return false;
		memmove(&r->warned[1], &r->warned[0], 7 * sizeof(pid_t));
		r->warned[0] = pid;
		log_warnx("publish: %s pid %ld serves %s and runs guests (%s/"
		    "qemu/run): a second %s, which the broker leaves alone; "
		    "shut its guests down or save them, stop it, and the "
		    "broker links %s to its own daemon", daemon, (long)pid,
		    dir, dir, daemon, dir);
		return false;
	}
	return start(r, dir, daemon, pid);
}

/*
 * publish_starting_fn and dupscan_fn: a duplicate found before it serves,
 * by the pidfile it holds in dir, or by /proc (its environment names dir
 * as its runtime dir, which may be out of reach: removed or detached).
 * Only one still starting up (RETIRE_FRESH) is stopped, at once (start());
 * one that holds dir's pidfile, if it runs no guest there. An older one is
 * left to retire_consider() once it serves, or to the user.
 */
bool
retire_starting(void *retirer, const char *dir, const char *daemon,
    pid_t pid)
{
	struct retirer *r = retirer;
	char path[4400];
	struct stat st;
	double age;

	if (find(r, pid) != NULL)
		return true;		/* being stopped */
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if (stat(path, &st) < 0 || st.st_uid != geteuid() ||
	    daemon[0] == '\0' || !proc_is(pid, daemon) ||
	    !proc_running(pid) || !autospawned(pid))
		return false;
	age = proc_age(pid);
	if (age < 0. || age >= RETIRE_FRESH)
		return false;
	snprintf(path, sizeof(path), "%s/%s.pid", dir, daemon);
	if (holds_pidfile(pid, dir, daemon) &&
	    (!dirtrust_parent_of(path) || has_guests(dir)))
		return false;
	return start(r, dir, daemon, pid);
}

/* Looks for duplicates by /proc: retire_starting() for each. */
static void
scan(struct retirer *r)
{
	r->scanned = ev_time();
	(void)dupscan(&r->ds, &r->names, &r->dirs, RETIRE_FRESH,
	    retire_starting, r);
}

static void
scan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct retirer *r = w->data;

	(void)revents;
	scan(r);
	if (ev_now(loop) >= r->scan_until) {
		ev_timer_stop(loop, w);
		dupscan_free(&r->ds);	/* pids may be reused meanwhile */
	}
}

/* What retire_scan_soon() looks for: daemons named names, for dirs. */
void
retire_set_scope(struct retirer *r, const struct strv *names,
    const struct strv *dirs)
{
	strv_free(&r->names);
	strv_free(&r->dirs);
	strv_copy(&r->names, names);
	strv_copy(&r->dirs, dirs);
}

/*
 * A published dir lacks links (a login, a logout, a client made it): a
 * client may be spawning a daemon for it. /proc is looked at now (unless
 * it was less than RETIRE_SCAN_GAP s ago: changes come in bursts) and
 * every RETIRE_SCAN_EVERY s, until RETIRE_SCAN_FOR s after the last call.
 * The changes drive it: a daemon that takes its pidfile makes one.
 */
void
retire_scan_soon(struct retirer *r)
{
	if (r->names.n == 0)		/* system mode: no guard */
		return;
	r->scan_until = ev_now(r->loop) + RETIRE_SCAN_FOR;
	if (ev_time() - r->scanned >= RETIRE_SCAN_GAP)
		scan(r);
	if (!ev_is_active(&r->scan))
		ev_timer_start(r->loop, &r->scan);
}

/*
 * At exit: those being stopped get SIGKILL now (they run no guest; one
 * that ignores SIGTERM would otherwise outlive the broker).
 */
void
retire_free(struct retirer *r)
{
	ev_timer_stop(r->loop, &r->retry);
	ev_timer_stop(r->loop, &r->scan);
	dupscan_free(&r->ds);
	strv_free(&r->names);
	strv_free(&r->dirs);
	while (r->list != NULL) {
		struct retiring *x = r->list;

		signal_it(x, SIGKILL);
		r->list = x->next;
		ev_io_stop(r->loop, &x->io);
		ev_timer_stop(r->loop, &x->poll);
		ev_timer_stop(r->loop, &x->kill);
		fd_close(&x->lock_fd);
		fd_close(&x->pidfd);
		free(x->daemon);
		free(x->dir);
		free(x);
	}
}
