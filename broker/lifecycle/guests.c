/* SPDX-License-Identifier: MIT */
/*
 * Edge: a session's guests at the host's shutdown and at the next start
 * (supervise_int.h). The broker links no libvirt: it runs virt-brokerctl
 * (plan->ctl_exe) as its user, which saves the guests (guests_stop.c in
 * ctl/), and stops the hypervisor daemon only when that is done or its
 * time is up. At start, the guests it saved through the API are started
 * again (those libvirt 11.2+ saved itself come back by autostart-once).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"
#include "paths.h"
#include "supervise_int.h"
#include "xalloc.h"

#define GUESTS_RECORD	"virt-broker.saved-guests"
#define GUESTS_GRACE_S	30	/* beyond shutdown_timeout, for the helper */

/* fork and exec argv, stdin /dev/null, stdout to stderr; its pid or -1. */
static pid_t
run_helper(const struct supervisor *sup, char *const *argv)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	{
		sigset_t none;

		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (dup2(sup->null_fd, STDIN_FILENO) < 0 ||
	    dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	(void)syscall(SYS_close_range, 3U, ~0U, 0U);
	execv(argv[0], argv);
	fprintf(stderr, "virt-broker: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static bool
job_wanted(const struct unit *u)
{
	const struct plan *plan = u->sup->plan;

	return u->sup->shutdown_intent && plan->mode == BROKER_MODE_SESSION &&
	    plan->on_shutdown != ON_SHUTDOWN_NONE && plan->ctl_exe != NULL &&
	    unit_has_process(u) && u->job_pid <= 0 &&
	    unit_runs_qemu_driver(u);
}

static void
job_done(struct unit *u, const char *how)
{
	struct ev_loop *loop = u->sup->loop;

	ev_child_stop(loop, &u->job_child);
	ev_timer_stop(loop, &u->job_timer);
	u->job_pid = 0;
	free(u->status_text);
	u->status_text = xasprintf("guests: %s", how);
	log_info("unit %s: guests %s%s", u->spec.name, how,
	    unit_has_process(u) ? "; stopping it" : "");
	if (unit_has_process(u))
		unit_feed(u, UNIT_EV_STOP, false, false);
	sup_check_shutdown(u->sup);
}

static void
job_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct unit *u = w->data;

	(void)loop;
	(void)revents;
	job_done(u, WIFEXITED(w->rstatus) && WEXITSTATUS(w->rstatus) == 0 ?
	    "done" : "not all done (see the lines above)");
}

static void
job_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct unit *u = w->data;

	(void)loop;
	(void)revents;
	log_warnx("unit %s: virt-brokerctl guests-stop (pid %ld) still runs "
	    "%u s after its deadline; killing it", u->spec.name,
	    (long)u->job_pid, GUESTS_GRACE_S);
	(void)kill(u->job_pid, SIGKILL);
	job_done(u, "cut short");
}

static void
job_start(struct unit *u)
{
	const struct plan *plan = u->sup->plan;
	char *timeout = xasprintf("%u", plan->shutdown_timeout);
	char *pid = xasprintf("%ld", (long)u->pid);
	char *record = paths_join(plan->runtime_dir, GUESTS_RECORD);
	char *argv[] = { plan->ctl_exe, "guests-stop", "--timeout", timeout,
		"--pid", pid, "--exec", u->spec.exec, "--record", record,
		plan->on_shutdown == ON_SHUTDOWN_SHUTDOWN ? "--shutdown" : NULL,
		NULL };
	pid_t job = run_helper(u->sup, argv);

	free(timeout);
	free(pid);
	free(record);
	if (job < 0) {
		log_warn("unit %s: cannot run %s", u->spec.name, plan->ctl_exe);
		unit_feed(u, UNIT_EV_STOP, false, false);
		return;
	}
	u->job_pid = job;
	free(u->status_text);
	u->status_text = xasprintf("guests: %s, at most %u s",
	    plan->on_shutdown == ON_SHUTDOWN_SHUTDOWN ? "shutting down" :
	    "saving", plan->shutdown_timeout);
	log_info("unit %s: the host shuts down: %s its guests first (%s "
	    "guests-stop, pid %ld, at most %u s)", u->spec.name,
	    plan->on_shutdown == ON_SHUTDOWN_SHUTDOWN ? "shutting down" :
	    "saving", plan->ctl_exe, (long)job, plan->shutdown_timeout);
	ev_child_init(&u->job_child, job_exit_cb, job, 0);
	u->job_child.data = u;
	ev_child_start(u->sup->loop, &u->job_child);
	ev_timer_init(&u->job_timer, job_timer_cb,
	    (double)plan->shutdown_timeout + GUESTS_GRACE_S, 0.);
	u->job_timer.data = u;
	ev_timer_start(u->sup->loop, &u->job_timer);
}

bool
guests_first(struct unit *u)
{
	if (!job_wanted(u))
		return false;
	job_start(u);
	return true;
}

static void
restore_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)revents;
	ev_child_stop(loop, w);
	log_info("guests saved at the last shutdown: %s",
	    WIFEXITED(w->rstatus) && WEXITSTATUS(w->rstatus) == 0 ?
	    "running again" : "not all started again (see the lines above)");
	free(w);
}

void
guests_restore_start(struct supervisor *sup)
{
	const struct plan *plan = sup->plan;
	char *record = paths_join(plan->runtime_dir, GUESTS_RECORD);
	char *argv[] = { plan->ctl_exe, "guests-restore", "--record", record,
		NULL };
	struct stat st;
	ev_child *w;
	pid_t pid;

	if (plan->mode != BROKER_MODE_SESSION || plan->ctl_exe == NULL ||
	    lstat(record, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(record);
		return;
	}
	log_info("%s names guests saved at the last shutdown: starting them "
	    "again", record);
	pid = run_helper(sup, argv);
	free(record);
	if (pid < 0) {
		log_warn("cannot run %s", plan->ctl_exe);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	ev_child_init(w, restore_exit_cb, pid, 0);
	ev_child_start(sup->loop, w);
}
