/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl, the control client. It speaks ctlproto.h to the
 * broker's control socket (R/virt-broker-ctl-sock) and prints what it got,
 * for people (a table and details) or scripts (--json).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdnoreturn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "ctlproto.h"
#include "debug.h"
#include "doctor.h"
#include "extra.h"
#include "json.h"
#include "paths.h"
#include "request.h"
#include "guests_stop.h"
#include "show.h"
#include "strv.h"
#include "term.h"
#include "trust.h"
#include "xalloc.h"

#define EXIT_INACTIVE	3	/* as systemctl is-active */
static noreturn void
usage(FILE *out, int status)
{
	fprintf(out, "usage: virt-brokerctl [-s SOCKET] [--session|--system] "
	    "[--timeout SECONDS] COMMAND\n"
	    "  status [--json] [UNIT...]   units, or one unit in detail\n"
	    "  start|stop|restart UNIT     act on a unit's daemon\n"
	    "  stop --shutdown             stop the broker as the host shuts "
	    "down (guests saved)\n"
	    "  reset UNIT                  leave the failed state\n"
	    "  reload                      reread the configuration\n"
	    "  reexec                      re-execute the broker's binary "
	    "(after an upgrade)\n"
	    "  log UNIT [-n N] [-f]        the unit's output\n"
	    "  debug UNIT [FILTER...|off]  a running daemon's log filters\n"
	    "  doctor [--json]             what keeps clients from the one "
	    "daemon here, and the fixes\n"
	    "  guests-stop [--shutdown] [--timeout S] [--pid PID] [--exec "
	    "DAEMON] [--record FILE]\n"
	    "                              save (or shut down) this user's "
	    "running guests\n"
	    "  guests-restore --record FILE  start the guests saved there "
	    "again\n");
	exit(status);
}

/*
 * The broker's control socket: in R, which is ~/.cache/libvirt by default
 * in session mode, or $XDG_RUNTIME_DIR/libvirt for a broker configured with
 * runtime_dir = xdg; the first that exists.
 */
static char *
default_socket(bool system)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *r = NULL, *s, *alt;
	struct stat st;

	if (system)
		return xstrdup(PATHS_SYSTEM_RUNTIME_DIR "/" CTLPROTO_SOCKET);
	if (paths_session_runtime_dir(NULL, getenv("XDG_CACHE_HOME"),
	    getenv("HOME"), &r) < 0)
		die("cannot find the runtime directory: set HOME, or use -s "
		    "SOCKET");
	s = paths_join(r, CTLPROTO_SOCKET);
	free(r);
	if (stat(s, &st) == 0 || xdg == NULL || xdg[0] != '/')
		return s;
	r = paths_join(xdg, PATHS_LIBVIRT_SUBDIR);
	alt = paths_join(r, CTLPROTO_SOCKET);
	free(r);
	if (stat(alt, &st) == 0) {
		free(s);
		return alt;
	}
	free(alt);
	return s;
}

static bool
active(const char *state)
{
	return strcmp(state, "running") == 0 ||
	    strcmp(state, "listening") == 0 || strcmp(state, "adopted") == 0 ||
	    strcmp(state, "starting") == 0;
}

static void
fmt_ready(const struct strv *u, char *buf, size_t size)
{
	long ms = strtol(kv(u, "ready_ms"), NULL, 10);

	if (strcmp(kv(u, "pid"), "0") == 0)
		snprintf(buf, size, "-");
	else if (*kv(u, "phase") != '\0' && strcmp(kv(u, "phase"), "-") != 0)
		snprintf(buf, size, "%s", kv(u, "phase"));	/* daemon said */
	else if (ms < 0)
		snprintf(buf, size, "no");
	else
		snprintf(buf, size, "yes (%ld ms)", ms);
}

static void
print_detail(const struct reply *r, const struct strv *u,
    const struct extra_unit *x)
{
	const char *name = kv(u, "name");
	struct strv w[64];
	size_t n;

	if (*kv(u, "status") != '\0')
		printf("  daemon status: %s\n", kv(u, "status"));
	if (strtoul(kv(u, "reloads"), NULL, 10) > 0)
		printf("  reloads: %s\n", kv(u, "reloads"));

	n = lines_of(r, "exec", name, w, 64);
	for (size_t i = 0; i < n; i++) {
		printf("  exec: %s\n", kv(&w[i], "argv"));
		strv_free(&w[i]);
	}
	n = lines_of(r, "socket", name, w, 64);
	for (size_t i = 0; i < n; i++) {
		printf("  socket: %s %s\n", kv(&w[i], "name"),
		    kv(&w[i], "path"));
		strv_free(&w[i]);
	}
	n = lines_of(r, "log", name, w, 64);
	for (size_t i = 0; i < n; i++) {
		printf("  log: %s %s\n", kv(&w[i], "dest"), kv(&w[i], "path"));
		strv_free(&w[i]);
	}
	extra_text(x);
	n = lines_of(r, "tail", NULL, w, 64);
	if (n > 0)
		printf("  last output:\n");
	for (size_t i = 0; i < n; i++) {
		printf("    %s\n", kv(&w[i], "line"));
		strv_free(&w[i]);
	}
}

/* Does name end with suffix? */
static bool
ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m && strcmp(name + n - m, suffix) == 0;
}

/*
 * The detailed status of every unit in units, in as many requests as the
 * line limit needs, merged into ret: for their socket lines.
 */
static void
request_detail(const char *path, const struct strv *units, size_t n,
    struct reply *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; ) {
		struct strv args = { 0 };
		struct reply r;
		size_t len = 16;

		strv_add(&args, "status");
		for (; i < n && (args.n == 1 || len + strlen(kv(&units[i],
		    "name")) * 3 + 1 < CTLPROTO_MAX_LINE - 16); i++) {
			strv_add(&args, kv(&units[i], "name"));
			len += strlen(kv(&units[i], "name")) * 3 + 1;
		}
		request(path, (const char *const *)args.v, args.n, &r);
		strv_free(&args);
		for (size_t k = 0; r.error == NULL && k < r.lines.n; k++)
			strv_add(&ret->lines, r.lines.v[k]);
		reply_free(&r);
	}
}

/* A unit's facts from the broker, for extra.h. */
static void
extra_fill(struct extra_unit *x, const struct strv *u, const struct reply *r)
{
	struct strv w[64];
	size_t n;

	memset(x, 0, sizeof(*x));
	x->name = xstrdup(kv(u, "name"));
	x->state = xstrdup(kv(u, "state"));
	x->phase = xstrdup(kv(u, "phase"));
	x->pid = (pid_t)strtol(kv(u, "pid"), NULL, 10);
	n = lines_of(r, "socket", x->name, w, 64);
	for (size_t i = 0; i < n; i++) {
		strv_add(&x->paths, kv(&w[i], "path"));
		if (x->admin == NULL && ends_with(kv(&w[i], "name"),
		    "-admin.socket"))
			x->admin = xstrdup(kv(&w[i], "path"));
		strv_free(&w[i]);
	}
}

static void
fmt_clients(const struct extra_unit *x, char *buf, size_t size)
{
	if (x->paths.n == 0)
		snprintf(buf, size, "-");
	else if (x->clients < 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%ld", x->clients);
}

static int
cmd_status(const char *path, int argc, char **argv, bool json, bool system)
{
	struct strv args = { 0 }, units[4096];
	struct extra_unit *x;
	struct reply r, d = { 0 };
	size_t n;
	int status = 0;

	strv_add(&args, "status");
	for (int i = 0; i < argc; i++)
		strv_add(&args, argv[i]);
	request(path, (const char *const *)args.v, args.n, &r);
	strv_free(&args);
	if (r.error != NULL)
		die("%s", r.error);
	n = lines_of(&r, "unit", NULL, units, 4096);
	if (argc == 0)			/* the table: their sockets too */
		request_detail(path, units, n, &d);
	x = xcalloc(n > 0 ? n : 1, sizeof(*x));
	for (size_t i = 0; i < n; i++)
		extra_fill(&x[i], &units[i], argc == 0 ? &d : &r);
	if (argc == 0)
		reply_free(&d);
	extra_collect(x, n, system, argc > 0);
	if (json)
		printf("{\"units\":[");
	else
		printf("%-16s %-10s %7s  %-19s %5s %7s  %-34s %s\n", "UNIT",
		    "STATE", "PID", "SINCE", "ACT", "CLIENTS", "LAST EXIT",
		    "READY");
	for (size_t i = 0; i < n; i++) {
		const struct strv *u = &units[i];
		char since[32], ready[32], clients[24];

		if (!active(kv(u, "state")))
			status = EXIT_INACTIVE;
		if (json) {
			printf("%s{\"name\":", i > 0 ? "," : "");
			json_string(kv(u, "name"));
			printf(",\"state\":");
			json_string(kv(u, "state"));
			printf(",\"pid\":%s,\"since\":%s,\"activations\":%s,"
			    "\"last_exit\":", kv(u, "pid"), kv(u, "since"),
			    kv(u, "activations"));
			json_string(kv(u, "last"));
			printf(",\"ready_ms\":%s,\"reloads\":%s,\"phase\":",
			    kv(u, "ready_ms"), *kv(u, "reloads") != '\0' ?
			    kv(u, "reloads") : "0");
			json_string(kv(u, "phase"));
			printf(",\"daemon_status\":");
			json_string(kv(u, "status"));
			extra_json(&x[i], argc > 0);
			printf("}");
			continue;
		}
		fmt_time(kv(u, "since"), since, sizeof(since));
		fmt_ready(u, ready, sizeof(ready));
		fmt_clients(&x[i], clients, sizeof(clients));
		printf("%-16s %-10s %7s  %-19s %5s %7s  %-34s %s\n",
		    kv(u, "name"), kv(u, "state"), kv(u, "pid"), since,
		    kv(u, "activations"), clients, kv(u, "last"), ready);
		if (argc > 0)
			print_detail(&r, u, &x[i]);
	}
	for (size_t i = 0; i < n; i++)
		extra_free(&x[i]);
	free(x);
	{
		struct strv dup[64];
		size_t m = lines_of(&r, "duplicate", NULL, dup, 64);

		if (json)
			printf("],\"duplicates\":[");
		for (size_t i = 0; i < m; i++) {
			if (json) {
				printf("%s{\"path\":", i > 0 ? "," : "");
				json_string(kv(&dup[i], "path"));
				printf(",\"pid\":%s}", kv(&dup[i], "pid"));
			} else {
				printf("duplicate: %s is served by pid %s, not "
				    "the broker's daemon: clients that look "
				    "there reach a second daemon\n",
				    kv(&dup[i], "path"), kv(&dup[i], "pid"));
			}
			strv_free(&dup[i]);
		}
		m = lines_of(&r, "retired", NULL, dup, 1);
		if (json)
			printf("],\"retired\":%s", m == 1 ?
			    kv(&dup[0], "count") : "0");
		else if (m == 1 && strcmp(kv(&dup[0], "count"), "0") != 0)
			printf("retired: %s duplicate daemon(s) that clients' "
			    "autospawn started in a published place\n",
			    kv(&dup[0], "count"));
		if (m == 1)
			strv_free(&dup[0]);
		m = lines_of(&r, "warning", NULL, dup, 64);
		if (json)
			printf(",\"warnings\":[");
		for (size_t i = 0; i < m; i++) {
			char when[32];

			if (json) {
				printf("%s{\"time\":%s,\"text\":", i > 0 ?
				    "," : "", kv(&dup[i], "time"));
				json_string(kv(&dup[i], "text"));
				printf("}");
			} else {
				fmt_time(kv(&dup[i], "time"), when,
				    sizeof(when));
				printf("warning: %s %s\n", when,
				    kv(&dup[i], "text"));
			}
			strv_free(&dup[i]);
		}
		if (json)
			printf("]");
	}
	if (json) {
		struct strv w[256];
		size_t m = lines_of(&r, "tail", NULL, w, 256);

		printf(",\"last_output\":[");
		for (size_t i = 0; i < m; i++) {
			printf("%s", i > 0 ? "," : "");
			json_string(kv(&w[i], "line"));
			strv_free(&w[i]);
		}
		printf("]}\n");
	}
	for (size_t i = 0; i < n; i++)
		strv_free(&units[i]);
	reply_free(&r);
	return status;
}

static int cmd_simple(const char *path, const char *cmd, const char *unit);

/*
 * reexec, then a status request: the control socket stays open across the
 * exec, so it is answered once the new broker serves (or, if the exec
 * failed, by the old one, whose log says why).
 */
static int
cmd_reexec(const char *path)
{
	const char *args[1] = { "status" };
	struct reply r;

	cmd_simple(path, "reexec", NULL);
	request(path, args, 1, &r);
	if (r.error != NULL)
		die("after reexec: %s", r.error);
	reply_free(&r);
	return 0;
}

static int
cmd_simple(const char *path, const char *cmd, const char *unit)
{
	const char *args[2] = { cmd, unit };
	struct reply r;
	struct strv w[256];
	size_t n;

	request(path, args, unit != NULL ? 2 : 1, &r);
	n = lines_of(&r, "error", NULL, w, 256);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "%s\n", kv(&w[i], "text"));
		strv_free(&w[i]);
	}
	if (r.error != NULL)
		die("%s%s%s", unit != NULL ? unit : "", unit != NULL ? ": " : "",
		    r.error);
	reply_free(&r);
	return 0;
}

/*
 * debug UNIT [FILTER... | off]: only for a daemon that runs; libvirt's
 * run-time settings go when it exits, and asking would start it.
 */
static int
cmd_debug(const char *path, const char *unit, int argc, char **argv,
    bool system)
{
	const char *args[2] = { "status", unit };
	struct extra_unit x;
	struct adm_target t;
	struct strv u[1], f = { 0 };
	struct reply r;
	char *rundir, *filters, why[512];
	int rc;

	request(path, args, 2, &r);
	if (r.error != NULL)
		die("%s", r.error);
	/* It would write in the owner's R and set the outputs the owner's
	 * files choose: the owner's to do, as the owner (trust.h). */
	if (trust_broker.foreign)
		die("debug: the broker at %s is uid %ld's, and debug acts only "
		    "as the broker's own user (it writes that user's files and "
		    "sets outputs that user chose); run it as uid %ld, e.g. "
		    "runuser -u USER -- virt-brokerctl debug %s", path,
		    (long)trust_broker.uid, (long)trust_broker.uid, unit);
	if (lines_of(&r, "unit", NULL, u, 1) == 0)
		die("%s: the broker did not describe it", unit);
	extra_fill(&x, &u[0], &r);
	strv_free(&u[0]);
	reply_free(&r);
	if (x.admin == NULL)
		die("%s has no admin socket (no fd name ending in "
		    "-admin.socket)", unit);
	if (!extra_may_connect(&x)) {
		extra_why_not(&x, why, sizeof(why));
		fprintf(stderr, "virt-brokerctl: %s, not running: not asked, "
		    "since a connection to %s would start it (and run-time "
		    "log settings end with the daemon); start it first: "
		    "virt-brokerctl start %s\n", why, x.admin, unit);
		extra_free(&x);
		return EXIT_INACTIVE;
	}
	if (!adm_built())
		die("debug: %s", ADM_NOT_BUILT);
	if (!trust_admin_socket(x.admin, x.pid, why, sizeof(why)))
		die("debug %s: not connecting: %s", unit, why);
	t.unit = x.name;
	t.socket = x.admin;
	t.pid = x.pid;
	t.system = system;
	rundir = paths_dirname(path);
	if (argc == 1 && strcmp(argv[0], "off") == 0) {
		rc = debug_off(&t, rundir) < 0 ? 1 : 0;
	} else {
		for (int i = 0; i < argc; i++)
			strv_add(&f, argv[i]);
		filters = argc > 0 ? strv_join(&f, " ") :
		    xstrdup(DEBUG_FILTERS);
		rc = debug_on(&t, rundir, filters) < 0 ? 1 : 0;
		free(filters);
		strv_free(&f);
	}
	free(rundir);
	extra_free(&x);
	return rc;
}

/* The last n lines of a file (small files: reads it all). */
static long
print_tail(FILE *fp, long n)
{
	struct strv lines = { 0 };
	char buf[4200];

	while (fgets(buf, sizeof(buf), fp) != NULL)
		strv_add(&lines, buf);
	for (size_t i = lines.n > (size_t)n ? lines.n - (size_t)n : 0;
	    i < lines.n; i++)
		fputs(lines.v[i], stdout);
	fflush(stdout);
	strv_free(&lines);
	return ftell(fp);
}

/* -f: new lines as they come; a rotation (rename) reopens the file. */
static noreturn void
follow(const char *file, FILE *fp)
{
	int in = inotify_init1(IN_CLOEXEC);
	char ev[4096], buf[4200];

	if (in < 0 || inotify_add_watch(in, file, IN_MODIFY | IN_MOVE_SELF |
	    IN_DELETE_SELF) < 0)
		die("inotify %s: %s", file, strerror(errno));
	clearerr(fp);		/* what came between the tail and the watch */
	while (fgets(buf, sizeof(buf), fp) != NULL)
		fputs(buf, stdout);
	fflush(stdout);
	for (;;) {
		ssize_t n = read(in, ev, sizeof(ev));
		bool moved = false;

		if (n <= 0)
			exit(1);
		for (ssize_t off = 0; off < n; ) {
			const struct inotify_event *e =
			    (const struct inotify_event *)(ev + off);

			moved |= (e->mask & (IN_MOVE_SELF | IN_DELETE_SELF)) != 0;
			off += (ssize_t)sizeof(*e) + e->len;
		}
		clearerr(fp);
		while (fgets(buf, sizeof(buf), fp) != NULL)
			fputs(buf, stdout);
		fflush(stdout);
		if (moved) {
			FILE *nfp = NULL;
			int wd = -1;

			while (nfp == NULL || wd < 0) {	/* the new file */
				struct pollfd p = { .fd = -1 };

				(void)poll(&p, 0, 100);
				if (nfp == NULL) {
					int fd = trust_open(file);

					nfp = fd >= 0 ? fdopen(fd, "r") : NULL;
				}
				if (nfp != NULL)
					wd = inotify_add_watch(in, file,
					    IN_MODIFY | IN_MOVE_SELF |
					    IN_DELETE_SELF);
			}
			fclose(fp);
			fp = nfp;
		}
	}
}

static int
cmd_log(const char *path, const char *unit, long n, bool follow_it)
{
	const char *args[2] = { "status", unit };
	struct reply r;
	struct strv w[64];
	char *dest, *file;
	size_t m;
	FILE *fp;
	int fd;

	request(path, args, 2, &r);
	if (r.error != NULL)
		die("%s", r.error);
	m = lines_of(&r, "log", unit, w, 1);
	if (m == 0)
		die("%s: the broker did not say where its log is", unit);
	dest = xstrdup(kv(&w[0], "dest"));
	file = xstrdup(kv(&w[0], "path"));
	strv_free(&w[0]);
	if (strcmp(dest, "file") != 0) {
		printf("(%s logs to %s; its last lines:)\n", unit, dest);
		m = lines_of(&r, "tail", NULL, w, 64);
		for (size_t i = 0; i < m; i++) {
			printf("%s\n", kv(&w[i], "line"));
			strv_free(&w[i]);
		}
		reply_free(&r);
		free(dest);
		free(file);
		return 0;
	}
	reply_free(&r);
	/* The broker names the file: opened as trust.h says. */
	fd = trust_open(file);
	if (fd == -EPERM)
		die("%s: not a regular file of the broker's user (uid %ld); "
		    "not reading it", file, (long)trust_broker.uid);
	if (fd < 0 || (fp = fdopen(fd, "r")) == NULL)
		die("%s: %s (has the unit run yet?)", file,
		    strerror(fd < 0 ? -fd : errno));
	(void)print_tail(fp, n);
	if (follow_it)
		follow(file, fp);
	fclose(fp);
	free(dest);
	free(file);
	return 0;
}

/* guests-stop and guests-restore: their own options, after the name. */
static int
cmd_guests(const char *cmd, int argc, char **argv)
{
	struct guests_stop_opts o = { .save = true, .timeout_s = 300 };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--shutdown") == 0) {
			o.save = false;
			continue;
		}
		if (v == NULL)
			usage(stderr, 2);
		if (strcmp(a, "--timeout") == 0)
			o.timeout_s = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--pid") == 0)
			o.daemon_pid = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(a, "--exec") == 0)
			o.daemon_exec = v;
		else if (strcmp(a, "--record") == 0)
			o.record = v;
		else
			usage(stderr, 2);
		i++;
	}
	if (o.timeout_s == 0 || o.timeout_s > 86400)
		die("--timeout: 1 to 86400 seconds");
	if (strcmp(cmd, "guests-restore") == 0) {
		if (o.record == NULL)
			usage(stderr, 2);
		return guests_restore(o.record);
	}
	return guests_stop(&o);
}

int
main(int argc, char **argv)
{
	enum { OPT_SESSION = 256, OPT_SYSTEM, OPT_JSON, OPT_TIMEOUT,
		OPT_SHUTDOWN };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "session", no_argument, NULL, OPT_SESSION },
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool system = geteuid() == 0, json = false, follow_it = false;
	bool host_shutdown = false;
	const char *sock = NULL, *cmd;
	char *path;
	long lines = 20;
	int c, r;

	term_guard();
	for (int i = 1; i < argc; i++)	/* options of their own */
		if (strcmp(argv[i], "guests-stop") == 0 ||
		    strcmp(argv[i], "guests-restore") == 0)
			return cmd_guests(argv[i], argc - i, argv + i);
	while ((c = getopt_long(argc, argv, "+s:n:fh", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case OPT_SESSION: system = false; break;
		case OPT_SYSTEM: system = true; break;
		case OPT_JSON: json = true; break;
		case OPT_TIMEOUT:
			request_timeout = strtol(optarg, NULL, 10);
			if (request_timeout <= 0 || request_timeout > 86400)
				die("--timeout: %s is not 1 to 86400 seconds",
				    optarg);
			break;
		case 'n': lines = strtol(optarg, NULL, 10); break;
		case 'f': follow_it = true; break;
		case 'h': usage(stdout, 0);
		default: usage(stderr, 2);
		}
	}
	if (optind >= argc)
		usage(stderr, 2);
	cmd = argv[optind];
	/*
	 * Options may follow the command too (status --json, log U -n 5):
	 * parse what follows it as its own argv, with the command as argv[0].
	 */
	argc -= optind;
	argv += optind;
	optind = 0;				/* re-initialise getopt */
	while ((c = getopt_long(argc, argv, "s:n:fh", lo, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case OPT_SHUTDOWN: host_shutdown = true; break;
		case 'n': lines = strtol(optarg, NULL, 10); break;
		case 'f': follow_it = true; break;
		default: usage(stderr, 2);
		}
	}
	path = sock != NULL ? xstrdup(sock) : default_socket(system);
	if (strcmp(cmd, "status") == 0)
		r = cmd_status(path, argc - optind, argv + optind, json,
		    system);
	else if (strcmp(cmd, "reload") == 0 && optind == argc)
		r = cmd_simple(path, cmd, NULL);
	else if (strcmp(cmd, "reexec") == 0 && optind == argc)
		r = cmd_reexec(path);
	else if (strcmp(cmd, "stop") == 0 && host_shutdown && optind == argc)
		r = cmd_simple(path, "shutdown", NULL);
	else if ((strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 ||
	    strcmp(cmd, "restart") == 0 || strcmp(cmd, "reset") == 0) &&
	    optind + 1 == argc)
		r = cmd_simple(path, cmd, argv[optind]);
	else if (strcmp(cmd, "debug") == 0 && optind < argc)
		r = cmd_debug(path, argv[optind], argc - optind - 1,
		    argv + optind + 1, system);
	else if (strcmp(cmd, "doctor") == 0 && optind == argc)
		r = cmd_doctor(path, system, json);
	else if (strcmp(cmd, "log") == 0 && optind + 1 == argc)
		r = cmd_log(path, argv[optind], lines, follow_it);
	else
		usage(stderr, 2);
	free(path);
	return r;
}
