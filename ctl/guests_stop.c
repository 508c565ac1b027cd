/* SPDX-License-Identifier: MIT */
/*
 * Edge: a session's guests at the host's shutdown, and back at the next
 * start (guests_stop.h). Run by the broker (as its user) before it stops
 * the hypervisor daemon, and usable by hand, as libvirt-guests is.
 *
 * Saving: where the daemon has its own path (libvirt 11.2 and later:
 * virt-admin daemon-shutdown --preserve, virAdmConnectDaemonShutdown with
 * VIR_DAEMON_SHUTDOWN_PRESERVE, whose stop thread runs
 * virDomainDriverAutoShutdown: persistent guests managed-saved, the rest
 * shut down, then powered off, per qemu.conf's auto_shutdown_*; each
 * persistent one marked autostart-once, which the next boot's daemon
 * honours), that; otherwise the libvirt API: every running persistent
 * guest managed-saved, in parallel, the transient ones shut down, and
 * whatever still runs at the deadline destroyed. The guests saved by the
 * API are named (by UUID) in a record, which `guests-restore` starts again.
 * SIGTERM to the daemon saves nothing in any version (remote_daemon.c
 * daemonShutdownHandler quits only).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "clock.h"
#include "guests_stop.h"
#include "paths.h"
#include "xalloc.h"

#define PRESERVE_VERSION	11002000UL	/* libvirt 11.2.0 */

struct job {
	virDomainPtr	 dom;
	char		 name[256];
	char		 uuid[VIR_UUID_STRING_BUFLEN];
	bool		 persistent;
	bool		 save;		/* else shut down */
	volatile int	 done;		/* 1 ok, -1 failed */
	pthread_t	 thread;
	bool		 started;
};

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	fputs("guests: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *
last_error(void)
{
	const virError *e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

static void
quiet_errors(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

static void *
save_one(void *arg)
{
	struct job *j = arg;

	j->done = virDomainManagedSave(j->dom, 0) == 0 ? 1 : -1;
	if (j->done < 0)
		say("%s: managed save failed: %s", j->name, last_error());
	return NULL;
}

/* Is pid gone (reaped by someone else, or a zombie of ours)? */
static bool
pid_gone(pid_t pid)
{
	return pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH);
}

/*
 * libvirt 11.2+: the daemon's own auto-shutdown, through its virt-admin
 * (beside the daemon's binary, else in PATH). 0 if the daemon exited
 * within the deadline, -1 if that path is not there or did not work.
 */
static int
stop_preserving(const struct guests_stop_opts *o, uint64_t deadline)
{
	char *admin = NULL, *dir;
	pid_t child;
	int status;

	if (o->daemon_exec != NULL && o->daemon_exec[0] == '/') {
		dir = paths_dirname(o->daemon_exec);
		admin = xasprintf("%s/../bin/virt-admin", dir);
		free(dir);
		if (access(admin, X_OK) < 0) {
			free(admin);
			admin = NULL;
		}
	}
	say("libvirt %s: the daemon's own auto-shutdown (%s -c "
	    "virtqemud:///session daemon-shutdown --preserve)", o->version,
	    admin != NULL ? admin : "virt-admin");
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		const char *a = admin != NULL ? admin : "virt-admin";

		execlp(a, a, "-q", "-c", "virtqemud:///session",
		    "daemon-shutdown", "--preserve", (char *)NULL);
		_exit(127);
	}
	free(admin);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* It answers "End of file" as the daemon goes: not a failure. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		say("virt-admin not found: the libvirt API instead");
		return -1;
	}
	while (!pid_gone(o->daemon_pid) && clock_mono_ms() < deadline) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (!pid_gone(o->daemon_pid)) {
		say("the daemon (pid %ld) still runs at the deadline",
		    (long)o->daemon_pid);
		return -1;
	}
	say("the daemon saved its guests and exited");
	return 0;
}

static void
write_record(const char *record, const struct job *jobs, size_t n)
{
	char *tmp;
	FILE *fp;
	size_t saved = 0;

	if (record == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		saved += jobs[i].save && jobs[i].done == 1;
	if (saved == 0)
		return;
	tmp = xasprintf("%s.new", record);
	if ((fp = fopen(tmp, "wx")) == NULL) {
		say("%s: %s", tmp, strerror(errno));
		free(tmp);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].save && jobs[i].done == 1)
			fprintf(fp, "%s %s\n", jobs[i].uuid, jobs[i].name);
	if (fclose(fp) != 0 || rename(tmp, record) < 0)
		say("%s: %s", record, strerror(errno));
	free(tmp);
}

/* The libvirt API: save or shut down each running guest, in parallel. */
static int
stop_by_api(virConnectPtr conn, const struct guests_stop_opts *o,
    uint64_t deadline)
{
	virDomainPtr *doms = NULL;
	struct job *jobs;
	int n = virConnectListAllDomains(conn, &doms,
	    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	size_t left;
	int failed = 0;

	if (n < 0) {
		say("cannot list the guests: %s", last_error());
		return -1;
	}
	jobs = xcalloc((size_t)n + 1, sizeof(*jobs));
	for (int i = 0; i < n; i++) {
		struct job *j = &jobs[i];

		j->dom = doms[i];
		snprintf(j->name, sizeof(j->name), "%s",
		    virDomainGetName(doms[i]));
		(void)virDomainGetUUIDString(doms[i], j->uuid);
		j->persistent = virDomainIsPersistent(doms[i]) == 1;
		j->save = o->save && j->persistent;
		if (j->save) {
			say("%s: saving (managed save)", j->name);
			j->started = pthread_create(&j->thread, NULL, save_one,
			    j) == 0;
			if (!j->started)
				save_one(j);
		} else {
			say("%s: shutting down", j->name);
			if (virDomainShutdown(j->dom) < 0)
				say("%s: shutdown: %s", j->name, last_error());
		}
	}
	/* Wait for every guest to be done, or the deadline. */
	do {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		left = 0;
		for (int i = 0; i < n; i++) {
			struct job *j = &jobs[i];

			if (!j->save && j->done == 0 &&
			    virDomainIsActive(j->dom) == 0) {
				j->done = 1;
				say("%s: shut off", j->name);
			}
			left += j->done == 0;
		}
		if (left > 0)
			nanosleep(&ts, NULL);
	} while (left > 0 && clock_mono_ms() < deadline);
	for (int i = 0; i < n; i++) {
		struct job *j = &jobs[i];

		if (j->done == 0) {
			say("%s: not done by the deadline (%u s): destroyed",
			    j->name, o->timeout_s);
			(void)virDomainDestroy(j->dom);
		}
		if (j->started)
			pthread_join(j->thread, NULL);
		if (j->save && j->done == 1)
			say("%s: saved", j->name);
		failed += j->done != 1;
	}
	write_record(o->record, jobs, (size_t)n);
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	free(jobs);
	return failed > 0 ? -1 : 0;
}

int
guests_stop(const struct guests_stop_opts *o)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)o->timeout_s * 1000;
	struct guests_stop_opts copy = *o;
	unsigned long ver = 0;
	char version[32];
	virConnectPtr conn;
	int r;

	setenv("LIBVIRT_AUTOSTART", "0", 1);	/* never spawn a daemon */
	virSetErrorFunc(NULL, quiet_errors);
	conn = virConnectOpen("qemu:///session");
	if (conn == NULL) {
		say("cannot connect to qemu:///session: %s", last_error());
		return 1;
	}
	if (virConnectGetLibVersion(conn, &ver) < 0)
		ver = 0;
	snprintf(version, sizeof(version), "%lu.%lu.%lu", ver / 1000000,
	    ver / 1000 % 1000, ver % 1000);
	copy.version = version;
	if (o->save && ver >= PRESERVE_VERSION && o->daemon_pid > 0) {
		virConnectClose(conn);
		if (stop_preserving(&copy, deadline) == 0)
			return 0;
		if (pid_gone(o->daemon_pid))
			return 1;
		if ((conn = virConnectOpen("qemu:///session")) == NULL) {
			say("cannot connect to qemu:///session: %s",
			    last_error());
			return 1;
		}
	} else {
		say("libvirt %s: %s through the libvirt API", version,
		    o->save ? "saving" : "shutting down");
	}
	r = stop_by_api(conn, &copy, deadline);
	virConnectClose(conn);
	return r < 0 ? 1 : 0;
}

int
guests_restore(const char *record)
{
	FILE *fp = fopen(record, "r");
	char line[512];
	virConnectPtr conn;
	int failed = 0;

	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		say("%s: %s", record, strerror(errno));
		return 1;
	}
	setenv("LIBVIRT_AUTOSTART", "0", 1);
	virSetErrorFunc(NULL, quiet_errors);
	if ((conn = virConnectOpen("qemu:///session")) == NULL) {
		say("cannot connect to qemu:///session: %s", last_error());
		fclose(fp);
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char uuid[VIR_UUID_STRING_BUFLEN] = "", name[256] = "";
		virDomainPtr dom;

		if (sscanf(line, "%36s %255s", uuid, name) < 1)
			continue;
		dom = virDomainLookupByUUIDString(conn, uuid);
		if (dom == NULL) {
			say("%s (%s): gone: %s", name, uuid, last_error());
			continue;
		}
		if (virDomainIsActive(dom) == 1) {
			say("%s: already running", name);
		} else {
			bool saved = virDomainHasManagedSaveImage(dom, 0) == 1;

			if (virDomainCreate(dom) < 0) {
				say("%s: cannot start: %s", name, last_error());
				failed++;
			} else {
				say("%s: running again%s", name, saved ?
				    ", from its saved state" : "");
			}
		}
		virDomainFree(dom);
	}
	fclose(fp);
	virConnectClose(conn);
	if (failed == 0 && unlink(record) < 0)
		say("%s: %s", record, strerror(errno));
	return failed > 0 ? 1 : 0;
}
