/* SPDX-License-Identifier: MIT */
/*
 * Test daemon: speaks sd_listen_fds(3) like libvirt's daemons, reports what
 * it was given, serves each connection one line ("hello PID\n"), and can
 * misbehave on request for fault tests. Not a replacement for real libvirt:
 * the e2e tests use that.
 *
 * fake-daemon [--report FILE] [--starts FILE] [--idle-ms N]
 *             [--exit-on-start STATUS] [--ignore-term] [--crash-after N]
 *             [--strict] [--fail-while FILE] [--stall-once FILE]
 *             [--flood BYTES] [--say TEXT] [--pidfile FILE]
 *             [--listen PATH] [--notify] [--exit-after N]
 *             [--flood-child] [--notify-reload] [--save-ms N]
 *             [--extend-usec U] [--say-each TEXT] [--timeout=N]
 *             [--pidfile-lock FILE]
 *   --report FILE      write what it received as key=value lines
 *   --starts FILE      append "PID\n" at every start
 *   --idle-ms N        exit 0 after N ms without a connection
 *   --exit-on-start S  exit with status S before accepting anything
 *   --ignore-term      ignore SIGTERM
 *   --crash-after N    raise SIGSEGV after serving N connections
 *   --strict           exit 6 unless LISTEN_PID/FDS/FDNAMES are all right
 *   --fail-while FILE  exit 1 at start while FILE exists
 *   --stall-once FILE  if FILE does not exist: create it and never accept
 *   --flood BYTES      write BYTES of lines to stderr first, then a line
 *                      "fake-daemon: end of flood"
 *   --say TEXT         write TEXT as a line to stderr at start
 *   --pidfile FILE     write its pid to FILE, as libvirt's daemons do
 *   --listen PATH      without LISTEN_FDS: bind and listen on PATH itself
 *                      (a daemon started behind the broker's back)
 *   --notify           send READY=1 to $NOTIFY_SOCKET once serving
 *   --exit-after N     exit 0 after serving N connections (benchmarks)
 *   --flood-child      fork a child that writes numbered lines to stderr
 *                      (the inherited log pipe) until a write fails or 60 s
 *                      pass, as a daemon's runaway child would
 *   --notify-reload    as libvirt 11.x: SIGHUP sends RELOADING=1 with
 *                      MONOTONIC_USEC= in one datagram, then READY=1
 *   --save-ms N        as libvirt 11.2+ saving guests: SIGTERM sends
 *                      STOPPING=1 and STATUS=, then takes N ms to exit 0,
 *                      sending EXTEND_TIMEOUT_USEC=U every 250 ms
 *   --extend-usec U    the U above (default 2000000; 0: never extend)
 *   --say-each TEXT    write "TEXT N" as a line to stderr at the Nth
 *                      connection
 *   --timeout=N        as libvirt's autospawn starts a daemon: exit 0 after
 *                      N s without a connection
 *   --pidfile-lock F   first of all, as libvirt's daemons do: take F's
 *                      lock (fcntl F_SETLK, byte 0) and write the pid; exit
 *                      1 "Failed to acquire pid file" if it is held
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 64

static volatile sig_atomic_t got_hup, got_term;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
install_handler(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);	/* no SA_RESTART: poll sees EINTR */
}

/* One datagram to $NOTIFY_SOCKET, if set. */
static void
notify(const char *msg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	int fd;

	if (path == NULL)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	(void)sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
	    sizeof(sa));
	close(fd);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* libvirt 11.x's SIGHUP: RELOADING=1 + MONOTONIC_USEC=, work, READY=1. */
static void
notify_reload(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
	sleep_ms(100);
	notify("READY=1");
}

struct opts {
	const char	*report;
	const char	*starts;
	long		 idle_ms;
	int		 exit_on_start;	/* -1: no */
	int		 ignore_term;
	long		 crash_after;	/* 0: never */
	int		 strict;
	const char	*fail_while;
	const char	*stall_once;
	long		 flood;
	const char	*say;
	const char	*say_each;
	const char	*pidfile;
	const char	*listen;
	int		 notify;
	long		 exit_after;	/* 0: never */
	int		 flood_child;
	int		 notify_reload;
	long		 save_ms;	/* 0: exit at SIGTERM */
	const char	*pidfile_lock;
	unsigned long long extend_usec;
};

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "starts", required_argument, NULL, 's' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "exit-on-start", required_argument, NULL, 'e' },
		{ "ignore-term", no_argument, NULL, 't' },
		{ "crash-after", required_argument, NULL, 'c' },
		{ "strict", no_argument, NULL, 'S' },
		{ "fail-while", required_argument, NULL, 'F' },
		{ "stall-once", required_argument, NULL, 'O' },
		{ "flood", required_argument, NULL, 'L' },
		{ "say", required_argument, NULL, 'Y' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "listen", required_argument, NULL, 'B' },
		{ "notify", no_argument, NULL, 'N' },
		{ "exit-after", required_argument, NULL, 'X' },
		{ "flood-child", no_argument, NULL, 'C' },
		{ "notify-reload", no_argument, NULL, 'H' },
		{ "save-ms", required_argument, NULL, 'T' },
		{ "extend-usec", required_argument, NULL, 'U' },
		{ "say-each", required_argument, NULL, 'E' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "pidfile-lock", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->exit_on_start = -1;
	o->extend_usec = 2000000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->report = optarg; break;
		case 's': o->starts = optarg; break;
		case 'i': o->idle_ms = atol(optarg); break;
		case 'e': o->exit_on_start = atoi(optarg); break;
		case 't': o->ignore_term = 1; break;
		case 'c': o->crash_after = atol(optarg); break;
		case 'S': o->strict = 1; break;
		case 'F': o->fail_while = optarg; break;
		case 'O': o->stall_once = optarg; break;
		case 'L': o->flood = atol(optarg); break;
		case 'Y': o->say = optarg; break;
		case 'P': o->pidfile = optarg; break;
		case 'B': o->listen = optarg; break;
		case 'N': o->notify = 1; break;
		case 'X': o->exit_after = atol(optarg); break;
		case 'C': o->flood_child = 1; break;
		case 'H': o->notify_reload = 1; break;
		case 'T': o->save_ms = atol(optarg); break;
		case 'U': o->extend_usec = strtoull(optarg, NULL, 10); break;
		case 'E': o->say_each = optarg; break;
		case 'W': o->idle_ms = atol(optarg) * 1000; break;
		case 'K': o->pidfile_lock = optarg; break;
		default: exit(2);
		}
	}
}

static void
report_fds(FILE *fp)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self = d != NULL ? dirfd(d) : -1, first = 1;

	fprintf(fp, "open_fds=");
	while (d != NULL && (de = readdir(d)) != NULL) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self || fd == fileno(fp))
			continue;
		fprintf(fp, "%s%d", first ? "" : ",", fd);
		first = 0;
	}
	fprintf(fp, "\n");
	if (d != NULL)
		closedir(d);
}

static void
report_signals(FILE *fp)
{
	sigset_t mask;
	int blocked = 0, ignored = 0;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;

		if (sigismember(&mask, s) == 1)
			blocked++;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			ignored++;
	}
	fprintf(fp, "blocked_signals=%d\nignored_signals=%d\n", blocked,
	    ignored);
}

static void
write_report(const char *path, int nfds)
{
	char tmp[4096], link[4096];
	FILE *fp;
	const char *v;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	if (fp == NULL)
		return;
	fprintf(fp, "pid=%ld\n", (long)getpid());
	v = getenv("LISTEN_PID");
	fprintf(fp, "listen_pid=%s\n", v != NULL ? v : "");
	v = getenv("LISTEN_FDS");
	fprintf(fp, "listen_fds=%s\n", v != NULL ? v : "");
	v = getenv("LISTEN_FDNAMES");
	fprintf(fp, "listen_fdnames=%s\n", v != NULL ? v : "");
	v = getenv("XDG_RUNTIME_DIR");
	fprintf(fp, "xdg_runtime_dir=%s\n", v != NULL ? v : "(unset)");
	v = getenv("PIPEWIRE_RUNTIME_DIR");
	fprintf(fp, "pipewire_runtime_dir=%s\n", v != NULL ? v : "(unset)");
	v = getenv("DBUS_SESSION_BUS_ADDRESS");
	fprintf(fp, "dbus_session_bus_address=%s\n", v != NULL ? v : "(unset)");
	v = getenv("VB_TEST");		/* a unit's env line */
	fprintf(fp, "vb_test=%s\n", v != NULL ? v : "(unset)");
	fprintf(fp, "sid_is_pid=%d\n", getsid(0) == getpid());
	n = readlink("/proc/self/fd/0", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	fprintf(fp, "stdin=%s\n", link);
	for (int i = 0; i < nfds; i++) {
		int fd = 3 + i, fdfl = fcntl(fd, F_GETFD),
		    fl = fcntl(fd, F_GETFL), acc = 0;
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa), alen = sizeof(acc);

		memset(&sa, 0, sizeof(sa));
		getsockname(fd, (struct sockaddr *)&sa, &len);
		getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen);
		fprintf(fp, "fd%d.path=%s\nfd%d.cloexec=%d\nfd%d.nonblock=%d\n"
		    "fd%d.listening=%d\n", fd, sa.sun_path, fd,
		    fdfl >= 0 && (fdfl & FD_CLOEXEC) ? 1 : 0, fd,
		    fl >= 0 && (fl & O_NONBLOCK) ? 1 : 0, fd, acc);
	}
	report_signals(fp);
	{
		struct rlimit rl;

		getrlimit(RLIMIT_NOFILE, &rl);
		fprintf(fp, "nofile_soft=%llu\nnofile_hard=%llu\n",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max);
	}
	report_fds(fp);
	fclose(fp);
	rename(tmp, path);
}

/* Lines of about 100 bytes to stderr, fast, then a marker line. */
static void
flood(long bytes)
{
	char buf[65536];
	size_t len = 0;
	long written = 0, n = 0;

	while (written < bytes) {
		int w = snprintf(buf + len, sizeof(buf) - len, "flood line "
		    "%09ld ......................................................"
		    "....................\n", n++);

		len += (size_t)w;
		written += w;
		if (len + 200 > sizeof(buf) || written >= bytes) {
			if (write(2, buf, len) != (ssize_t)len)
				return;
			len = 0;
		}
	}
	fprintf(stderr, "fake-daemon: end of flood\n");
	fflush(stderr);
}

/*
 * A child that floods stderr with "flood line N" lines, N counting up
 * without gaps, whole lines per write, until a write fails (SIGPIPE: the
 * broker closed the pipe) or 60 s pass. Its listening fds are closed.
 */
static void
flood_child(int nfds)
{
	struct timespec start, now;
	char buf[65536];
	long n = 0;

	if (fork() != 0)
		return;
	for (int i = 0; i < nfds; i++)
		close(3 + i);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		size_t len = 0;

		while (len + 200 < sizeof(buf))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "flood line %09ld ..................................."
			    ".........................\n", n++);
		if (write(2, buf, len) != (ssize_t)len)
			_exit(0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 60)
			_exit(0);
	}
}

static int
check_env(int *ret_nfds)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"),
	    *names = getenv("LISTEN_FDNAMES");
	int n, colons = 0;

	if (pid == NULL || fds == NULL || names == NULL)
		return -1;
	if (atol(pid) != (long)getpid())
		return -1;
	n = atoi(fds);
	for (const char *p = names; *p != '\0'; p++)
		colons += *p == ':';
	if (n <= 0 || n > MAX_FDS || colons + 1 != n)
		return -1;
	*ret_nfds = n;
	return 0;
}

/* libvirt 11.2+ saving guests at SIGTERM: STOPPING=1, STATUS=, and more
 * time asked for every 250 ms until save_ms have passed. */
static int
save_and_exit(const struct opts *o)
{
	char msg[64];

	notify("STOPPING=1\nSTATUS=Saving guests");
	snprintf(msg, sizeof(msg), "EXTEND_TIMEOUT_USEC=%llu", o->extend_usec);
	for (long left = o->save_ms; left > 0; left -= 250) {
		if (o->extend_usec > 0)
			notify(msg);
		sleep_ms(left < 250 ? left : 250);
	}
	notify("STATUS=Guests saved");
	return 0;
}

/* As virPidFileAcquirePath: a non-blocking record lock on byte 0, kept. */
static int
take_pidfile(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = 0, .l_len = 1 };
	int fd = open(path, O_WRONLY | O_CREAT, 0644);	/* kept open */
	char pid[32];
	int len;

	if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0) {
		fprintf(stderr, "fake-daemon: Failed to acquire pid file '%s'\n",
		    path);
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	(void)!ftruncate(fd, 0);
	(void)!write(fd, pid, (size_t)len);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct pollfd pfd[MAX_FDS];
	long served = 0;
	int nfds = 0;

	parse(argc, argv, &o);
	if (o.pidfile_lock != NULL && take_pidfile(o.pidfile_lock) < 0)
		return 1;
	if (check_env(&nfds) < 0) {
		const char *fds = getenv("LISTEN_FDS");

		if (o.strict) {
			fprintf(stderr, "fake-daemon: bad activation env\n");
			return 6;
		}
		nfds = fds != NULL ? atoi(fds) : 0;
		if (nfds < 0 || nfds > MAX_FDS)
			nfds = 0;
	}
	if (nfds == 0 && o.listen != NULL) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o.listen);
		unlink(o.listen);
		if (fd < 0 || dup2(fd, 3) < 0 || bind(3, (struct sockaddr *)&sa,
		    sizeof(sa)) < 0 || listen(3, 64) < 0) {
			perror("fake-daemon: listen");
			return 1;
		}
		if (fd != 3)
			close(fd);
		nfds = 1;
	}
	if (o.pidfile != NULL) {
		FILE *fp = fopen(o.pidfile, "w");

		if (fp != NULL) {
			fprintf(fp, "%ld\n", (long)getpid());
			fclose(fp);
		}
	}
	if (o.starts != NULL) {
		FILE *fp = fopen(o.starts, "a");

		if (fp != NULL) {
			fprintf(fp, "%ld\n", (long)getpid());
			fclose(fp);
		}
	}
	if (o.report != NULL)
		write_report(o.report, nfds);
	if (o.say != NULL)
		fprintf(stderr, "%s\n", o.say);
	if (o.flood_child)
		flood_child(nfds);
	if (o.exit_on_start >= 0)
		return o.exit_on_start;
	if (o.fail_while != NULL && access(o.fail_while, F_OK) == 0)
		return 1;
	if (o.flood > 0)
		flood(o.flood);
	if (o.stall_once != NULL && access(o.stall_once, F_OK) != 0) {
		FILE *fp = fopen(o.stall_once, "w");

		if (fp != NULL)
			fclose(fp);
		for (;;)
			pause();	/* queued clients wait for the next one */
	}
	if (o.ignore_term)
		signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < nfds; i++) {
		pfd[i].fd = 3 + i;
		pfd[i].events = POLLIN;
	}
	sigset_t handled, waiting;

	if (o.notify_reload)
		install_handler(SIGHUP);
	if (o.save_ms > 0)
		install_handler(SIGTERM);
	/* The handled signals are delivered only inside ppoll(): none is
	 * lost between a check of the flags and the wait. */
	sigemptyset(&handled);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGTERM);
	sigprocmask(SIG_BLOCK, &handled, &waiting);
	sigdelset(&waiting, SIGHUP);
	sigdelset(&waiting, SIGTERM);
	if (o.notify)
		notify("READY=1");
	for (;;) {
		struct timespec ts = { o.idle_ms / 1000,
		    (o.idle_ms % 1000) * 1000000L };
		int r = ppoll(pfd, (nfds_t)nfds, o.idle_ms > 0 ? &ts : NULL,
		    &waiting);

		if (r < 0 && errno == EINTR) {
			if (got_hup) {
				got_hup = 0;
				notify_reload();
			}
			if (got_term)
				return save_and_exit(&o);
			continue;
		}
		if (r <= 0)
			return 0;		/* idle timeout */
		for (int i = 0; i < nfds; i++) {
			char line[64];
			int c, len;

			if (!(pfd[i].revents & POLLIN))
				continue;
			c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			len = snprintf(line, sizeof(line), "hello %ld\n",
			    (long)getpid());
			(void)!write(c, line, (size_t)len);
			close(c);
			served++;
			if (o.say_each != NULL) {
				fprintf(stderr, "%s %ld\n", o.say_each, served);
				fflush(stderr);
			}
			if (o.exit_after > 0 && served >= o.exit_after)
				return 0;
			if (o.crash_after > 0 && served >= o.crash_after) {
				signal(SIGSEGV, SIG_DFL);	/* not ASan's */
				raise(SIGSEGV);
			}
		}
	}
}
