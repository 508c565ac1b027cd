/* SPDX-License-Identifier: MIT */
/*
 * Edge: starting a unit's daemon. The resource limits it gets, its output
 * pipe (daemonlog.c), the spawn itself (spawn.c) and the exec-status pipe
 * that says whether exec worked; and the one message that says why a unit
 * gave up, with the daemon's last words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "daemon_env.h"
#include "fd.h"
#include "listenfds.h"
#include "clock.h"
#include "log.h"
#include "proc.h"
#include "spawn.h"
#include "supervise_int.h"
#include "usercred.h"
#include "xalloc.h"

void
unit_close_status(struct unit *u)
{
	ev_io_stop(u->sup->loop, &u->status_io);
	fd_close(&u->status_fd);
}

static rlim_t
to_rlim(uint64_t v)
{
	return v == CFG_LIMIT_INFINITY ? RLIM_INFINITY : (rlim_t)v;
}

/*
 * A resource limit for the daemon: soft = want; hard = want_hard, or (0)
 * the current hard limit raised to the soft one if need be. Above the
 * broker's own hard limit, the broker raises that if it may (root with
 * CAP_SYS_RESOURCE); otherwise the daemon gets the broker's hard limit,
 * and a soft limit cut down to it is said once.
 */
static bool
unit_limit(struct unit *u, int resource, const char *name, uint64_t want,
    uint64_t want_hard, struct rlimit *ret)
{
	struct rlimit cur, raised;
	rlim_t soft = to_rlim(want), hard;

	if (want == 0 || getrlimit(resource, &cur) < 0)
		return false;
	hard = want_hard != 0 ? to_rlim(want_hard) : cur.rlim_max;
	if (want_hard == 0 && cur.rlim_max != RLIM_INFINITY &&
	    (soft == RLIM_INFINITY || soft > cur.rlim_max))
		hard = soft;
	if (cur.rlim_max != RLIM_INFINITY &&
	    (hard == RLIM_INFINITY || hard > cur.rlim_max)) {
		raised.rlim_cur = cur.rlim_cur;
		raised.rlim_max = hard;
		if (setrlimit(resource, &raised) < 0)
			hard = cur.rlim_max;
	}
	if (hard != RLIM_INFINITY && (soft == RLIM_INFINITY || soft > hard)) {
		if (u->activations == 0)
			log_warnx("unit %s: %s lowered to the hard limit %llu",
			    u->spec.name, name, (unsigned long long)hard);
		soft = hard;
	}
	ret->rlim_cur = soft;
	ret->rlim_max = hard;
	return true;
}

/*
 * The daemon's environment (daemon_env.c), then LISTEN_FDS, LISTEN_FDNAMES
 * and the LISTEN_PID slot last. Built at each start from the spec and the
 * plan of now: what an idle unit would keep, it does not.
 */
static void
unit_env(const struct unit *u, struct strv *ret_env)
{
	const char **names = xcalloc(u->spec.nsockets, sizeof(*names));

	for (size_t i = 0; i < u->spec.nsockets; i++)
		names[i] = u->spec.sockets[i].name;
	denv_build(u->sup->plan, &u->spec, u->sup->parent_env, ret_env);
	/* The plan validated every name, so this cannot fail. */
	(void)lfd_add_env(ret_env, names, u->spec.nsockets);
	free(names);
}

/*
 * A user's broker: who the user is now (the passwd and group databases),
 * and a clean environment with XDG_RUNTIME_DIR only where /run/user/UID is
 * the user's own directory (root only stats it; every file operation in
 * the user's directories is the user's broker's, as the user). 0, or
 * -errno if the user cannot be run as.
 */
static int
user_env(const struct unit *u, struct usercred *cred,
    struct spawn_creds *creds, struct strv *ret_env)
{
	char run_user[64];
	struct denv_user who;
	struct stat st;
	int r = usercred_lookup(u->spec.user, cred);

	if (r < 0) {
		errno = -r;
		log_warn("unit %s: user %s", u->spec.name, u->spec.user);
		return r;
	}
	snprintf(run_user, sizeof(run_user), "/run/user/%lu",
	    (unsigned long)cred->uid);
	who.name = cred->name;
	who.home = cred->home;
	who.shell = cred->shell;
	who.xdg_runtime_dir = lstat(run_user, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == cred->uid &&
	    (st.st_mode & 077) == 0 ? run_user : NULL;
	denv_build_user(&u->spec, &who, u->sup->parent_env, ret_env);
	creds->uid = cred->uid;
	creds->gid = cred->gid;
	creds->groups = cred->groups;
	creds->ngroups = cred->ngroups;
	creds->dir = cred->home;
	return 0;
}

int
unit_spawn(struct unit *u)
{
	struct strv env = { 0 };
	struct spawn_req req = {
		.argv = strv_array(&u->spec.argv),
		.fds = u->fds,
		.nfds = u->nsocks,
		.null_fd = u->sup->null_fd,
	};
	struct usercred cred = { 0 };
	struct spawn_creds creds;
	bool fresh_pipe;
	pid_t pid;
	int r;

	if (u->spec.user != NULL) {
		if ((r = user_env(u, &cred, &creds, &env)) < 0)
			return r;
		req.creds = &creds;
	} else {
		unit_env(u, &env);
		req.pid_slot = env.v[env.n - 1];
	}
	req.envp = strv_array(&env);

	fresh_pipe = u->log.pipe_rd < 0;
	req.out_fd = dlog_pipe(&u->log);
	if (req.out_fd < 0) {
		errno = -req.out_fd;
		log_warn("unit %s: output pipe; this daemon writes to the "
		    "broker's stderr", u->spec.name);
		req.out_fd = -1;
	}
	req.set_nofile = unit_limit(u, RLIMIT_NOFILE, "limit_nofile",
	    u->spec.limit_nofile, u->spec.limit_nofile_hard, &req.nofile);
	req.set_memlock = unit_limit(u, RLIMIT_MEMLOCK, "limit_memlock",
	    u->spec.limit_memlock, 0, &req.memlock);
	r = spawn_daemon(&req, &pid, &u->status_fd);
	if (r == -EMFILE && fresh_pipe && req.out_fd >= 0) {
		/* The new output pipe took the last fds: give them back. */
		log_warnx("unit %s: out of file descriptors for an output pipe;"
		    " this daemon writes to the broker's stderr", u->spec.name);
		dlog_close_pipe(&u->log);
		req.out_fd = -1;
		r = spawn_daemon(&req, &pid, &u->status_fd);
	}
	dlog_handed_over(&u->log);	/* the daemon's, or no one's: EOF */
	strv_free(&env);
	usercred_clear(&cred);
	if (r < 0) {
		errno = -r;
		log_warn("unit %s: cannot start", u->spec.name);
		return r;
	}
	u->pid = pid;
	u->log.pid = pid;
	u->activations++;
	u->exec_ms = clock_mono_ms();
	u->ready_ms = -1;
	unit_notify_reset(u);
	ev_child_set(&u->child, pid, 0);
	ev_child_start(u->sup->loop, &u->child);
	ev_io_set(&u->status_io, u->status_fd, EV_READ);
	ev_io_start(u->sup->loop, &u->status_io);
	log_info("unit %s: started %s, pid %ld (activation %u)",
	    u->spec.name, u->spec.exec, (long)pid, u->activations);
	return 0;
}

/* Does the unit's daemon load the QEMU driver, whose driver.pid it takes? */
bool
unit_runs_qemu_driver(const struct unit *u)
{
	const char *base = strrchr(u->spec.exec, '/');

	base = base != NULL ? base + 1 : u->spec.exec;
	return strcmp(base, "virtqemud") == 0 || strcmp(base, "libvirtd") == 0;
}

/*
 * virtqemud exits 0 at once when another daemon holds the QEMU driver.
 * Said only of such a daemon: another unit's failure has other causes.
 */
static void
driver_pid_hint(const struct unit *u, char *buf, size_t size)
{
	char path[4200], comm[64] = "?";
	pid_t pid;

	buf[0] = '\0';
	if (!unit_runs_qemu_driver(u))
		return;
	snprintf(path, sizeof(path), "%s/qemu/run/driver.pid",
	    u->sup->plan->runtime_dir);
	pid = proc_read_pidfile(path);
	if (pid <= 0 || !proc_running(pid))
		return;
	(void)proc_comm(pid, comm, sizeof(comm));
	snprintf(buf, size, "; %s is held by pid %ld (%s): another libvirt "
	    "daemon owns the QEMU driver", path, (long)pid, comm);
}

void
unit_gave_up(struct unit *u)
{
	char last[128], hint[4400], tail[1024];
	unsigned long long cool = u->policy.failed_cooldown_ms / 1000;

	if (u->sm.exec_failed) {
		log_warnx("unit %s: exec %s: %s; refusing its clients for "
		    "%llu s", u->spec.name, u->spec.exec,
		    strerror(u->exec_errno), cool);
		return;
	}
	proc_describe_status(u->last_status, last, sizeof(last));
	driver_pid_hint(u, hint, sizeof(hint));
	dlog_tail(&u->log, 3, tail, sizeof(tail));
	log_warnx("unit %s: failed: %u failed starts within %llu s (last: "
	    "%s%s%s)%s; refusing its clients for %llu s", u->spec.name,
	    unit_recent_failures(&u->sm, &u->policy, clock_mono_ms()),
	    (unsigned long long)(u->policy.start_limit_interval_ms / 1000),
	    last, tail[0] != '\0' ? "; output: " : "", tail, hint, cool);
}
