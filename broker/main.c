/* SPDX-License-Identifier: MIT */
/*
 * virt-broker's main, the top: start-up (startup.c), the runtime dir and
 * its lock, the layers wired together, the libev loop and its signals. fatal() is allowed only before ev_run();
 * after that a broken unit fails alone and the broker keeps serving.
 */
#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>		/* malloc_trim */
#endif

#include "bootmark.h"
#include "catalog.h"
#include "config.h"
#include "control.h"
#include "daemonize.h"
#include "fd.h"
#include "fswatch.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "pidfile.h"
#include "proc.h"
#include "plan.h"
#include "publish.h"
#include "retire.h"
#include "holder.h"
#include "inherit.h"
#include "initsvc.h"
#include "reexec.h"
#include "sock.h"
#include "spawn.h"
#include "startup.h"
#include "strv.h"
#include "supervise.h"
#include "version.h"
#include "xalloc.h"

extern char **environ;

struct broker {
	struct options		 opts;
	struct ev_loop		*loop;
	struct plan		*plan;		/* units: sup's (sup_new) */
	struct supervisor	*sup;
	struct pidfile		 pidfile;
	struct fswatch		 fswatch;
	struct publisher	 publisher;
	struct retirer		 retirer;
	struct control		 control;
	struct notify		 notify;
	bool			 control_bound;	/* at start: keep it bound */
	bool			 notify_bound;
	ev_signal		 sigterm;
	ev_signal		 sigint;
	ev_signal		 sighup;
	ev_signal		 sigusr2;	/* reexec */
	ev_signal		 sigpwr;	/* the host shuts down */
	ev_timer		 reexec_timer;	/* after the reply went out */
	int			 reexec;	/* reexec_take_state() */
	bool			 from_holder;	/* a dead broker's sockets */
	struct holder		 holder;
	unsigned		 reexec_tries;	/* waiting for a quiet moment */
	struct reexec_state	 rstate;
};

static void fs_changed(void *arg);
static int control_reload(void *arg, struct strv *ret_errors);
static int control_reexec(void *arg, char *err, size_t size);
static void daemon_notify(void *arg, pid_t pid,
    const struct notify_msg *m);

/* The links to publish follow the units served (start-up, reload). */
static void
republish(struct broker *b)
{
	struct strv names = { 0 }, owners = { 0 };
	bool session = b->plan->mode == BROKER_MODE_SESSION;

	sup_socket_names(b->sup, b->plan->runtime_dir, false, &names, &owners);
	/* Only a session client spawns daemons (and only in its runtime
	 * dir): no guard, no retiring in system mode. */
	for (size_t i = 0; !session && i < owners.n; i++)
		owners.v[i][0] = '\0';
	publish_set(&b->publisher, &b->plan->publish, &names, &owners);
	retire_set_scope(&b->retirer, &b->publisher.guard.names,
	    &b->publisher.dirs);
	strv_free(&names);
	strv_free(&owners);
	fs_changed(b);
}

/*
 * R vanished (logout may delete /run/user/UID): make it again, with our
 * lock in it, so the units can be bound again.
 */
static void
recreate_runtime_dir(struct broker *b)
{
	const char *rt = b->plan->runtime_dir;
	struct stat st;
	char *lock;
	pid_t holder = 0;
	int r;

	if (lstat(rt, &st) == 0 || errno != ENOENT)
		return;
	log_warnx("runtime directory %s was removed; creating it again", rt);
	if (sock_prepare_dir(rt, b->plan->mode) < 0)
		return;
	lock = paths_join(rt, "virt-broker.pid");
	pidfile_release(&b->pidfile);
	r = pidfile_acquire(lock, &b->pidfile, &holder);
	if (r == -EWOULDBLOCK)
		log_warnx("%s is now held by another virt-broker (pid %ld)",
		    lock, (long)holder);
	else if (r < 0)
		log_warnx("%s: %s", lock, strerror(-r));
	free(lock);
}

/*
 * The control and notify sockets live in R: bound again if their files are
 * gone (R removed and made again, runtime_dir = xdg), so that
 * virt-brokerctl and the daemons' READY=1 keep reaching the broker.
 */
static void
reopen_broker_sockets(struct broker *b)
{
	struct stat st;

	if (b->control_bound && lstat(b->plan->control_socket, &st) < 0 &&
	    errno == ENOENT) {
		log_warnx("%s was removed; binding it again",
		    b->plan->control_socket);
		control_close(&b->control);
		(void)control_open(&b->control, b->loop,
		    b->plan->control_socket, &b->sup, control_reload, b);
		b->control.dups = &b->publisher.dups;
		b->control.retired = &b->retirer.retired;
		b->control.reexec = control_reexec;
	}
	if (b->notify_bound && lstat(b->plan->notify_socket, &st) < 0 &&
	    errno == ENOENT) {
		notify_close(&b->notify);
		(void)notify_open(&b->notify, b->loop, b->plan->notify_socket,
		    daemon_notify, b);
	}
}

/*
 * The holder keeps a copy of exactly the sockets served now. Not of the
 * spawn guard's pidfiles: they change at every login and logout, and a new
 * holder is a fork of the broker, which takes it away from the race with
 * the clients for that long (tens of ms under ASan); while the broker is
 * dead the links in place reach the held sockets, and no client spawns.
 */
static void
refresh_holder(struct broker *b)
{
	int *fds;
	size_t n;

	sup_listen_fds(b->sup, &fds, &n);
	fds = xreallocarray(fds, n + 2, sizeof(*fds));
	fds[n++] = b->control.fd;
	fds[n++] = b->notify.fd;
	holder_refresh(&b->holder, b->plan, fds, n);
	free(fds);
}

/* Things changed and settled: check R, our sockets, our links. */
static void
fs_changed(void *arg)
{
	struct broker *b = arg;
	char *parent = paths_dirname(b->plan->runtime_dir);

	recreate_runtime_dir(b);
	fswatch_add(&b->fswatch, parent);
	fswatch_add(&b->fswatch, b->plan->runtime_dir);
	free(parent);
	reopen_broker_sockets(b);
	sup_check_paths(b->sup);
	publish_sync(&b->publisher, &b->fswatch);
	if (b->publisher.incomplete)
		retire_scan_soon(&b->retirer);
	refresh_holder(b);
}

/* Any change, at once: links into a directory a login just made. */
static void
fs_login(void *arg)
{
	struct broker *b = arg;

	publish_sync_logins(&b->publisher, &b->fswatch);
	if (b->publisher.incomplete)	/* a client may spawn a daemon */
		retire_scan_soon(&b->retirer);
}

/*
 * R under /run/user/UID is deleted at logout unless the user lingers
 * (logind's or elogind's linger file): say so once, with the fixes.
 */
static void
warn_linger(const struct plan *plan)
{
	const char *user = getenv("USER");
	char a[512], c[512];

	if (plan->mode != BROKER_MODE_SESSION ||
	    strncmp(plan->runtime_dir, "/run/user/", 10) != 0 || user == NULL)
		return;
	snprintf(a, sizeof(a), "/var/lib/systemd/linger/%s", user);
	snprintf(c, sizeof(c), "/var/lib/elogind/linger/%s", user);
	if (access(a, F_OK) == 0 || access(c, F_OK) == 0)
		return;
	log_warnx("%s may be deleted at logout (no linger file for %s), and "
	    "with it the running guests' state: enable lingering (loginctl "
	    "enable-linger %s), or drop runtime_dir = xdg so that the runtime "
	    "directory is ~/.cache/libvirt", plan->runtime_dir, user, user);
}

/*
 * SIGHUP, or virt-brokerctl reload: a config that fails to parse or
 * resolve changes nothing (errors, if wanted, go to ret_errors too); a
 * good one is applied by sup_reload() (see there for what changes when).
 * The warnings kept for status and doctor start again: those of this load.
 */
static int
reload(struct broker *b, struct strv *ret_errors)
{
	struct config *cfg;
	struct plan *plan;

	log_recent_clear();	/* warnings since the config's last load */
	cfg = startup_config(&b->opts);
	plan = startup_plan(cfg, &b->opts, "reload: ");

	if (ret_errors != NULL)
		strv_copy(ret_errors, &cfg->errors);
	cfg_free(cfg);			/* the plan has copies */
	if (plan == NULL || sup_reload(b->sup, plan) < 0) {
		log_warnx("reload: keeping the running configuration");
		plan_free(plan);
		return -EINVAL;
	}
	plan_free(b->plan);
	b->plan = plan;
	republish(b);
	refresh_holder(b);
	log_info("reload: done");
	return 0;
}

static int
control_reload(void *arg, struct strv *ret_errors)
{
	return reload(arg, ret_errors);
}

static void
daemon_notify(void *arg, pid_t pid, const struct notify_msg *m)
{
	struct broker *b = arg;

	sup_unit_notify(b->sup, pid, m);
}

#define REEXEC_WAIT_TRIES	200	/* of 50 ms: 10 s for a quiet moment */

/*
 * The exec itself, from the loop, once the control reply went out and no
 * daemon is being started or stopped (checked every 50 ms, 10 s at most).
 */
static void
reexec_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct broker *b = ev_userdata(loop);
	int keep[] = { b->control.fd, b->notify.fd, b->pidfile.fd };
	char err[512];
	int r;

	(void)revents;
	r = reexec_check(b->sup, err, sizeof(err));
	if (r == -EAGAIN && ++b->reexec_tries < REEXEC_WAIT_TRIES) {
		ev_timer_set(w, 0.05, 0.);
		ev_timer_start(loop, w);
		return;
	}
	if (r == 0) {
		holder_lend(&b->holder, true);
		r = reexec_exec(b->sup, keep, sizeof(keep) / sizeof(keep[0]),
		    err, sizeof(err));
		holder_lend(&b->holder, false);
		refresh_holder(b);
	}
	log_warnx("reexec: %s; this broker serves on", err);
	if (b->control.fd >= 0)
		ev_io_start(b->loop, &b->control.io);
}

/* virt-brokerctl reexec, SIGUSR2: done from the loop (above). */
static int
request_reexec(struct broker *b, char *err, size_t size)
{
	int r = reexec_check(b->sup, err, size);

	if (r < 0 && r != -EAGAIN)
		return r;
	if (ev_is_active(&b->reexec_timer))
		return 0;		/* already asked for */
	/* Control clients from now on queue for the new broker. */
	if (b->control.fd >= 0)
		ev_io_stop(b->loop, &b->control.io);
	b->reexec_tries = 0;
	ev_timer_set(&b->reexec_timer, 0.05, 0.);
	ev_timer_start(b->loop, &b->reexec_timer);
	return 0;
}

static int
control_reexec(void *arg, char *err, size_t size)
{
	return request_reexec(arg, err, size);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct broker *b = ev_userdata(loop);
	char err[512];

	(void)revents;
	if (w->signum == SIGUSR2) {
		log_info("SIGUSR2: re-executing");
		if (request_reexec(b, err, sizeof(err)) < 0)
			log_warnx("reexec: %s", err);
		return;
	}
	if (w->signum == SIGHUP) {
		log_info("SIGHUP: reloading the configuration");
		(void)reload(b, NULL);
		return;
	}
	if (w->signum == SIGPWR) {
		log_info("SIGPWR: the host shuts down: stopping, %s",
		    b->plan->mode == BROKER_MODE_SESSION ? "guests first" :
		    "users' brokers first");
		sup_shutdown_for_host(b->sup);
		return;
	}
	log_info("%s: stopping", strsignal(w->signum));
	sup_shutdown(b->sup);
}

/*
 * Every unit costs the broker its sockets plus a pipe once started: use
 * the whole fd allowance (the soft limit up to the hard one), as systemd
 * does for itself. Daemons get their own limits (limit_nofile).
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		spawn_set_inherited_nofile(rl.rlim_cur);  /* daemons get it */
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("raise the open file limit");
	}
}

/*
 * The distribution's own libvirt services that an init system starts at
 * boot (initsvc.h): each races the system broker for the runtime dir.
 */
struct enabled_services {
	const char	*runtime_dir;
	struct strv	 warnings;	/* one line each */
	struct strv	 libvirtd;	/* libvirtd's: where, and the fix */
};

static void
note_enabled(const struct initsvc_found *f, void *arg)
{
	struct enabled_services *es = arg;
	char *fix = initsvc_disable_cmd(f->kind, f->daemon, f->level);

	strv_push(&es->warnings, xasprintf("%s starts %s at boot (%s): it "
	    "races this broker for %s; disable it: %s",
	    initsvc_kind_name(f->kind), f->daemon, f->path, es->runtime_dir,
	    fix));
	if (strcmp(f->daemon, "libvirtd") == 0)
		strv_push(&es->libvirtd, xasprintf("%s starts it (%s): %s",
		    initsvc_kind_name(f->kind), f->path, fix));
	free(fix);
}

/* System mode: the services found, each said once (not at a reexec). */
static void
find_enabled_services(const struct plan *plan, bool say,
    struct enabled_services *es)
{
	es->runtime_dir = plan->runtime_dir;
	if (plan->mode != BROKER_MODE_SYSTEM)
		return;
	(void)initsvc_scan("/", note_enabled, es);
	for (size_t i = 0; say && i < es->warnings.n; i++)
		log_warnx("warning: %s", es->warnings.v[i]);
}

/*
 * System mode: a monolithic libvirtd we did not start serving
 * /run/libvirt/libvirt-sock conflicts with the modular daemons (libvirt's
 * units declare Conflicts=libvirtd.service): refuse, and say who, and
 * which service of which init system to disable (es), if any starts it.
 */
static void
check_libvirtd_conflict(const struct plan *plan,
    const struct enabled_services *es)
{
	char *path, *how;
	bool modular = false;
	pid_t pid;

	if (plan->mode != BROKER_MODE_SYSTEM || plan_find(plan, "libvirtd"))
		return;
	for (size_t i = 0; i < plan->nunits; i++) {
		const struct catalog_entry *e =
		    catalog_find(plan->units[i].name);

		modular |= e != NULL && catalog_is_modular(e);
	}
	if (!modular)
		return;
	path = paths_join(plan->runtime_dir, "libvirt-sock");
	if (sock_probe_live(path) == 1) {
		pid = proc_read_pidfile("/run/libvirtd.pid");
		if (!proc_is(pid, "libvirtd"))
			pid = sock_listener_pid(path);
		if (proc_is(pid, "libvirtd")) {
			if (es->libvirtd.n > 0) {
				char *list = strv_join(&es->libvirtd, "; ");

				how = xasprintf("disable the service that "
				    "starts it and stop it: %s", list);
				free(list);
			} else {
				how = xasprintf("stop it (kill %ld): no init "
				    "system here starts a libvirtd at boot "
				    "(sysvinit, OpenRC, runit, s6 and systemd "
				    "looked at)", (long)pid);
			}
			fatalx("a monolithic libvirtd (pid %ld) serves %s: it "
			    "conflicts with the modular daemons, as libvirt's "
			    "own units declare; %s; then start virt-broker",
			    (long)pid, path, how);
		}
	}
	free(path);
}

/*
 * The pages start-up freed (parsing, building the plan) back to the
 * kernel: glibc gives back only the heap's top by itself, malloc_trim()
 * the free pages inside it too. 4 KiB of RSS with the catalog, ~150 KiB
 * with 1000 units (musl has no malloc_trim()).
 */
static void
trim_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* A newline on a ready fd (--ready-fd, or -d's pipe to the parent). */
static void
notify_ready(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "\n", 1) != 1)
		log_warn("ready fd %d", fd);
	fd_close(&fd);
}

static void
setup_signals(struct broker *b)
{
	/*
	 * Init systems send these for their own purposes (runit's sv 1/2 and
	 * alarm, s6-svc -1/-2/-a): never a reason to die and leave guests'
	 * clients without sockets. Daemons get them back at SIG_DFL (spawn).
	 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGALRM, SIG_IGN);
	ev_signal_init(&b->sigterm, signal_cb, SIGTERM);
	ev_signal_init(&b->sigint, signal_cb, SIGINT);
	ev_signal_init(&b->sighup, signal_cb, SIGHUP);
	ev_signal_init(&b->sigusr2, signal_cb, SIGUSR2);
	ev_signal_init(&b->sigpwr, signal_cb, SIGPWR);
	ev_signal_start(b->loop, &b->sigterm);
	ev_signal_start(b->loop, &b->sigint);
	ev_signal_start(b->loop, &b->sighup);
	ev_signal_start(b->loop, &b->sigusr2);
	ev_signal_start(b->loop, &b->sigpwr);
	ev_timer_init(&b->reexec_timer, reexec_timer_cb, 0., 0.);
}

int
main(int argc, char **argv)
{
	struct broker b = { .pidfile = { .fd = -1 },
	    .holder = { .pipe_wr = -1, .lent_wr = -1 } };
	struct options *o = &b.opts;
	struct enabled_services enabled = { 0 };
	struct config *cfg;
	char *lock_path;
	size_t serving;
	pid_t holder = 0;
	int r, daemon_fd = -1;
	unsigned stdio_opened;

	stdio_opened = daemon_open_stdio();
	log_init("virt-broker", LOG_LEVEL_INFO, false);
	reexec_record(argc, argv);
	holder_set_argv(argc, argv);
	startup_options(argc, argv, o);
	b.reexec = reexec_take_state(&b.rstate);
	holder_take_lent(&b.holder);	/* after the scan of the fds */
	if (b.reexec != 0) {
		/* Same process, same parent: no fork, no second readiness
		 * (the fd --ready-fd named may now be another one). */
		o->daemon = false;
		o->ready_fd = -1;
	}
	if (o->ready_fd >= 0)
		o->ready_fd = daemon_check_ready_fd(o->ready_fd, stdio_opened);
	if (o->verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	cfg = startup_config(o);
	b.plan = startup_plan(cfg, o, "");
	cfg_free(cfg);			/* the plan has copies */
	if (b.plan == NULL)
		fatalx("not starting");
	if (o->dry_run) {
		plan_print(b.plan, stdout);
		plan_free(b.plan);
		return 0;
	}
	if (o->daemon)
		daemon_fd = daemonize();
	if (b.plan->log_syslog || o->syslog || o->daemon)
		log_init("virt-broker", o->verbose ? LOG_LEVEL_DEBUG :
		    LOG_LEVEL_INFO, true);
	if (b.plan->nunits == 0)
		fatalx("no libvirt daemon found (search_path); nothing to "
		    "serve");
	spawn_reserve_low();	/* before the sockets take the low fds */
	find_enabled_services(b.plan, b.reexec == 0, &enabled);
	check_libvirtd_conflict(b.plan, &enabled);
	strv_free(&enabled.warnings);
	strv_free(&enabled.libvirtd);
	if (sock_prepare_dir(b.plan->runtime_dir, b.plan->mode) < 0)
		fatalx("cannot use runtime directory %s", b.plan->runtime_dir);
	lock_path = paths_join(b.plan->runtime_dir, "virt-broker.pid");
	r = pidfile_acquire(lock_path, &b.pidfile, &holder);
	if (r == -EWOULDBLOCK)
		fatalx("another virt-broker (pid %ld) holds %s; one broker per "
		    "runtime directory", (long)holder, lock_path);
	if (r < 0) {
		errno = -r;
		fatal("%s", lock_path);
	}
	free(lock_path);
	/*
	 * A broker before this one died: its holder kept the sockets. One of
	 * an older layout (R in a place now published) holds sockets that are
	 * not R's: closed at once, so that only a daemon still serving one
	 * keeps it live (adopted) and the published place gets its links.
	 */
	if (b.reexec == 0) {
		b.from_holder = holder_collect(b.plan->holder_socket, true) > 0;
		for (size_t i = 0; i < b.plan->publish.n; i++) {
			char *hs = paths_join(b.plan->publish.v[i],
			    PLAN_HOLDER_SOCKET);

			(void)holder_collect(hs, false);
			free(hs);
		}
	}
	/* Only the lock's holder names itself; -d's parent waits for it. */
	if (o->pidfile != NULL && (r = daemon_pidfile_write(o->pidfile)) < 0) {
		errno = -r;
		fatal("--pidfile %s", o->pidfile);
	}

	raise_fd_limit();
	b.loop = ev_default_loop(EVFLAG_AUTO);
	if (b.loop == NULL)
		fatalx("cannot initialise libev");
	ev_set_userdata(b.loop, &b);
	setup_signals(&b);
	b.sup = sup_new(b.loop, b.plan, &sup_lifecycle_hooks, environ,
	    &serving);
	if (serving == 0) {
		sup_free(b.sup);
		pidfile_release(&b.pidfile);
		fatalx("no unit could be served");
	}
	if (b.reexec != 0)
		reexec_restore(b.sup, &b.rstate);
	else if (b.from_holder)
		sup_adopt_running(b.sup);
	reexec_state_free(&b.rstate);
	bootmark_check(b.plan->runtime_dir, sup_any_adopted(b.sup));
	log_info("serving %zu unit%s in %s (%s mode)", serving,
	    serving == 1 ? "" : "s", b.plan->runtime_dir,
	    broker_mode_name(b.plan->mode));
	b.notify_bound = notify_open(&b.notify, b.loop, b.plan->notify_socket,
	    daemon_notify, &b) == 0;
	b.control_bound = control_open(&b.control, b.loop,
	    b.plan->control_socket, &b.sup, control_reload, &b) == 0;
	b.control.reexec = control_reexec;
	inherit_close_rest();		/* what no one took after a reexec */
	refresh_holder(&b);
	notify_ready(o->ready_fd);
	notify_socket_ready();
	if (daemon_fd >= 0) {
		notify_ready(daemon_fd);
		daemonize_detach();
	}
	sup_launch(b.sup);
	warn_linger(b.plan);
	fswatch_init(&b.fswatch, b.loop, fs_login, fs_changed, &b);
	publish_init(&b.publisher, b.plan->runtime_dir, &b.plan->publish);
	retire_init(&b.retirer, b.loop, fs_changed, &b);
	b.publisher.foreign = retire_consider;
	b.publisher.starting = retire_starting;
	b.publisher.foreign_arg = &b.retirer;
	b.control.dups = &b.publisher.dups;
	b.control.retired = &b.retirer.retired;
	republish(&b);
	if (b.reexec == 0)
		guests_restore_start(b.sup);	/* saved at the last shutdown */
	trim_heap();

	ev_run(b.loop, 0);

	holder_stop(&b.holder);		/* a clean stop: nothing to hold */
	control_close(&b.control);
	notify_close(&b.notify);

	{
		struct strv keep = { 0 };

		sup_socket_names(b.sup, b.plan->runtime_dir, true, &keep, NULL);
		sup_free(b.sup);
		publish_remove(&b.publisher, &keep);
		strv_free(&keep);
	}
	retire_free(&b.retirer);
	publish_free(&b.publisher);
	fswatch_close(&b.fswatch);
	/* Ours removed while R's lock is still held: never a next broker's. */
	if (o->pidfile != NULL)
		daemon_pidfile_remove(o->pidfile);
	pidfile_release(&b.pidfile);
	ev_loop_destroy(b.loop);
	plan_free(b.plan);
	log_info("stopped");
	return 0;
}
