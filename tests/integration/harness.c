/* SPDX-License-Identifier: MIT */
/* Test harness for the real broker binary (see harness.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

struct harness H;

void
h_fixture_setup(void)
{
	h_setup(&H);
}

void
h_fixture_teardown(void)
{
	h_teardown(&H);
}

/* Adds the test cases, each with the fixture and a timeout in seconds. */
void
h_add_tcases(Suite *s, TCase *const *tcs, size_t n, int timeout)
{
	for (size_t i = 0; i < n; i++) {
		tcase_add_checked_fixture(tcs[i], h_fixture_setup,
		    h_fixture_teardown);
		tcase_set_timeout(tcs[i], timeout);
		suite_add_tcase(s, tcs[i]);
	}
}

/* Runs the suite as CK_ENV says; the exit status for main(). */
int
h_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* A path in the broker's runtime dir R (free it). */
char *
h_rt(const char *name)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", H.rt, name), 0);
	return p;
}

/* A path in the test's temp dir (free it). */
char *
h_dir(const char *name)
{
	return h_path(&H, name);
}

long
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits a little without sleeping on a condition: one poll tick. */
static void
tick(void)
{
	(void)poll(NULL, 0, 10);
}

static const char *
env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "%s is not set (run through ctest)\n", name);
		exit(2);
	}
	return v;
}

const char *
h_fake_daemon(void)
{
	return env_or_die("VB_FAKE_DAEMON");
}

void
h_setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/vb-it.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	chmod(h->dir, 0755);
	snprintf(h->xdg, sizeof(h->xdg), "%s/run", h->dir);
	ck_assert_int_eq(mkdir(h->xdg, 0700), 0);
	/* R: libvirt's fallback under HOME (= dir), the session default. */
	snprintf(h->rt, sizeof(h->rt), "%s/.cache", h->dir);
	ck_assert_int_eq(mkdir(h->rt, 0700), 0);
	snprintf(h->rt, sizeof(h->rt), "%s/.cache/libvirt", h->dir);
	snprintf(h->conf, sizeof(h->conf), "%s/broker.conf", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/broker.log", h->dir);
	h->broker = -1;
	h_write_conf(h, "[broker]\n");
}

/* Copies a file (a binary to run as another uid), with mode. */
void
h_copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	ck_assert_msg(in >= 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_msg(out >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(fchmod(out, mode), 0);
	ck_assert_int_eq(close(out), 0);
}

/* Every process whose environment has HOME=dir: the test's daemons. */
static void
kill_by_home(const char *dir)
{
	char want[400], path[64], env[8192];
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (d == NULL)
		return;
	snprintf(want, sizeof(want), "HOME=%s", dir);
	while ((e = readdir(d)) != NULL) {
		long pid = strtol(e->d_name, NULL, 10);
		ssize_t n;
		int fd;

		if (pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, env, sizeof(env) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
			env[n] = '\0';
			if (strcmp(env + i, want) == 0) {
				kill((pid_t)pid, SIGKILL);
				break;
			}
		}
	}
	closedir(d);
}

static void
dump_log(const struct harness *h)
{
	char line[1024];
	FILE *fp = fopen(h->log, "r");

	if (fp == NULL)
		return;
	fprintf(stderr, "---- broker log %s ----\n", h->log);
	while (fgets(line, sizeof(line), fp) != NULL)
		fputs(line, stderr);
	fprintf(stderr, "---- end ----\n");
	fclose(fp);
}

void
h_teardown(struct harness *h)
{
	char cmd[600];

	if (getenv("VB_TEST_VERBOSE") != NULL)
		dump_log(h);
	if (h->broker > 0) {
		kill(h->broker, SIGKILL);
		waitpid(h->broker, NULL, 0);
	}
	kill_by_home(h->dir);	/* daemons a failed test left behind */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", h->dir);
}

void
h_write_conf(struct harness *h, const char *fmt, ...)
{
	FILE *fp = fopen(h->conf, "w");
	char *text = NULL;
	va_list ap;

	ck_assert_ptr_nonnull(fp);
	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&text, fmt, ap), 0);
	va_end(ap);
	/*
	 * The default publish list includes /run/user/UID/libvirt: the
	 * machine's own, never the test's. Unless the test says where, the
	 * broker publishes into the test's XDG_RUNTIME_DIR only.
	 */
	if (strncmp(text, "[broker]\n", 9) == 0 &&
	    strstr(text, "\npublish =") == NULL)
		fprintf(fp, "[broker]\npublish = %s/libvirt\n%s", h->xdg,
		    text + 9);
	else
		fputs(text, fp);
	free(text);
	fclose(fp);
}


/* A path in the test's temp dir (free it). */
char *
h_path(const struct harness *h, const char *name)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", h->dir, name), 0);
	return p;
}

/*
 * Forks the broker: stderr to the log, XDG_RUNTIME_DIR and HOME private,
 * --ready-fd when ready_fd >= 0. VB_BROKER_WRAPPER (e.g. "valgrind -q
 * --error-exitcode=99") is put in front when set.
 */
pid_t
h_spawn_broker(struct harness *h, int ready_fd)
{
	const char *broker = env_or_die("VB_BROKER");
	const char *wrapper = getenv("VB_BROKER_WRAPPER");
	char fdarg[16];
	char *argv[32];
	int argc = 0, logfd;
	char *wcopy = NULL;
	pid_t pid;

	if (wrapper != NULL && wrapper[0] != '\0') {
		wcopy = strdup(wrapper);
		for (char *tok = strtok(wcopy, " "); tok != NULL && argc < 20;
		    tok = strtok(NULL, " "))
			argv[argc++] = tok;
	}
	argv[argc++] = (char *)broker;
	argv[argc++] = (char *)(h->system ? "--system" : "--session");
	argv[argc++] = (char *)"-v";
	argv[argc++] = (char *)"-f";
	argv[argc++] = h->conf;
	if (ready_fd >= 0) {
		snprintf(fdarg, sizeof(fdarg), "%d", ready_fd);
		argv[argc++] = (char *)"--ready-fd";
		argv[argc++] = fdarg;
	}
	argv[argc] = NULL;
	logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_ge(logfd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A failed test must not leave its broker behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (h->nofile > 0) {
			struct rlimit rl = { (rlim_t)h->nofile,
			    (rlim_t)h->nofile };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		setenv("XDG_RUNTIME_DIR", h->xdg, 1);
		setenv("HOME", h->dir, 1);
		unsetenv("XDG_CONFIG_HOME");
		unsetenv("XDG_CACHE_HOME");
		unsetenv("PIPEWIRE_RUNTIME_DIR");
		/* A desktop's bus, which daemons must not join. */
		setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent", 1);
		dup2(logfd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	free(wcopy);
	return pid;
}

/* Starts the broker and waits for its ready newline. 0, or -1. */
int
h_start_broker(struct harness *h)
{
	int p[2];
	char c;
	struct pollfd pfd;
	int r;

	ck_assert_int_eq(pipe(p), 0);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	/* The write end must survive exec in the broker: not CLOEXEC. */
	h->broker = h_spawn_broker(h, p[1]);
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	r = poll(&pfd, 1, 30000);
	if (r != 1 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		dump_log(h);
		return -1;
	}
	close(p[0]);
	return 0;
}

/* Waits for pid to exit: its exit status, 128+signal, or -1 on timeout. */
int
h_wait_exit(pid_t pid, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;
	int st;

	while (h_now_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		if (r < 0)
			return -1;
		tick();
	}
	return -1;
}

int
h_stop_broker(struct harness *h, int timeout_ms)
{
	int st;

	if (h->broker <= 0)
		return -1;
	kill(h->broker, SIGTERM);
	st = h_wait_exit(h->broker, timeout_ms);
	if (st >= 0)
		h->broker = -1;
	else
		dump_log(h);
	return st;
}

int
h_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Reads one line. Returns its length, 0 on EOF (the peer closed without a
 * word: a refused client), -ETIMEDOUT, or -errno.
 */
int
h_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = end - h_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf + len, 1);
		if (n < 0)
			return errno == ECONNRESET ? 0 : -errno;
		if (n == 0)
			break;
		if (buf[len++] == '\n')
			break;
	}
	buf[len] = '\0';
	return (int)len;
}

/* Connects, reads "hello PID": the pid, 0 if refused, -1 on error. */
long
h_hello(const char *path, int timeout_ms)
{
	char line[64];
	int fd = h_connect(path), n;
	long pid = -1;

	if (fd < 0)
		return -1;
	n = h_read_line(fd, line, sizeof(line), timeout_ms);
	if (n == 0)
		pid = 0;
	else if (n > 0 && sscanf(line, "hello %ld", &pid) != 1)
		pid = -1;
	close(fd);
	return pid;
}

/* The fake-daemon report has key=want. */
void
h_assert_report(const char *report, const char *key, const char *want)
{
	char *v = h_report_get(report, key);

	ck_assert_msg(v != NULL, "report has no %s", key);
	ck_assert_msg(strcmp(v, want) == 0, "%s=%s, want %s", key, v, want);
	free(v);
}

/* The daemon had, at fd, the listening socket bound at path, as passed. */
void
h_assert_passed_fd(const char *report, int fd, const char *path)
{
	static const char *const flags[][2] = {
		{ "cloexec", "0" }, { "nonblock", "0" }, { "listening", "1" },
	};
	char key[32];

	snprintf(key, sizeof(key), "fd%d.path", fd);
	h_assert_report(report, key, path);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		snprintf(key, sizeof(key), "fd%d.%s", fd, flags[i][0]);
		h_assert_report(report, key, flags[i][1]);
	}
}

/* The value of key= in a fake-daemon report (free it), or NULL. */
char *
h_report_get(const char *file, const char *key)
{
	char line[4096];
	size_t klen = strlen(key);
	FILE *fp = fopen(file, "r");
	char *v = NULL;

	if (fp == NULL)
		return NULL;
	while (v == NULL && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			line[strcspn(line, "\n")] = '\0';
			v = strdup(line + klen + 1);
		}
	}
	fclose(fp);
	return v;
}

int
h_count_lines(const char *file)
{
	FILE *fp = fopen(file, "r");
	int n = 0, c;

	if (fp == NULL)
		return 0;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

int
h_log_count(const struct harness *h, const char *needle)
{
	char line[2048];
	FILE *fp = fopen(h->log, "r");
	int n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

bool
h_wait_log(const struct harness *h, const char *needle, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		if (h_log_count(h, needle) > 0)
			return true;
		tick();
	} while (h_now_ms() < end);
	return false;
}

bool
h_wait_file(const char *path, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		if (access(path, F_OK) == 0)
			return true;
		tick();
	} while (h_now_ms() < end);
	return false;
}

bool
h_pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* The broker reaps its children, so kill(pid, 0) fails once it has. */
bool
h_wait_gone(pid_t pid, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		if (!h_pid_alive(pid))
			return true;
		tick();
	} while (h_now_ms() < end);
	return false;
}

/* Polls until a client on path is served: *ret_pid = the daemon's pid. */
bool
h_wait_hello(const char *path, long *ret_pid, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		long pid = h_hello(path, 2000);

		if (pid > 0) {
			*ret_pid = pid;
			return true;
		}
		tick();
	} while (h_now_ms() < end);
	return false;
}

/* SIGHUP, then waits for the log to show done ("reload: done", ...). */
int
h_reload(struct harness *h, const char *done, int timeout_ms)
{
	int before = h_log_count(h, done);
	long end = h_now_ms() + timeout_ms;

	kill(h->broker, SIGHUP);
	do {
		if (h_log_count(h, done) > before)
			return 0;
		tick();
	} while (h_now_ms() < end);
	return -1;
}

ino_t
h_inode(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* A listening UNIX socket of the test's own at path: "a foreign daemon". */
int
h_listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/* Runs virt-brokerctl ARGS (as uid when >= 0); output and exit status. */
int
h_ctl_as(int uid, char *out, size_t size, const char *const *args)
{
	const char *argv[16];
	char copy[400];
	int p[2], n = 0;
	pid_t pid;

	argv[n++] = env_or_die("VB_BROKERCTL");
	if (uid >= 0) {
		/*
		 * Another uid may not reach the build dir (a clone in a 0700
		 * home): it runs a copy in the test's dir.
		 */
		snprintf(copy, sizeof(copy), "%s/virt-brokerctl", H.dir);
		if (access(copy, X_OK) != 0)
			h_copy_file(argv[0], copy, 0755);
		argv[0] = copy;
	}
	argv[n++] = "--session";
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("XDG_RUNTIME_DIR", H.xdg, 1);
		setenv("HOME", H.dir, 1);
		unsetenv("XDG_CACHE_HOME");
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (uid >= 0 && (setgroups(0, NULL) < 0 ||
		    setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	return h_child_output(pid, p[0], out, size);
}

/*
 * A child's output from the read end rfd (closed here) into out, then its
 * exit: the status, or 128 + the signal that killed it.
 */
int
h_child_output(pid_t pid, int rfd, char *out, size_t size)
{
	size_t len = 0;
	ssize_t got;
	int st;

	while (len + 1 < size && (got = read(rfd, out + len,
	    size - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = '\0';
	close(rfd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Is path a symlink to exactly target? */
bool
h_is_link_to(const char *path, const char *target)
{
	char buf[512];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, target) == 0;
}

/* Polls until path is a symlink to target, or the deadline. */
bool
h_wait_link(const char *path, const char *target, int timeout_ms)
{
	long end = h_now_ms() + timeout_ms;

	do {
		if (h_is_link_to(path, target))
			return true;
		tick();
	} while (h_now_ms() < end);
	return false;
}

/*
 * vb-load (VB_LOAD) every interval_ms on a and b (b may be NULL): a steady
 * client load. Its pid; its counts line comes on *ret_out (h_load_stop).
 */
pid_t
h_load_start(const char *interval_ms, const char *a, const char *b,
    int *ret_out)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		execl(env_or_die("VB_LOAD"), "vb-load", "-i", interval_ms, "-t",
		    "8000", a, b, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*ret_out = p[0];
	return pid;
}

/* Stops vb-load; its counts line in buf. */
void
h_load_stop(pid_t pid, int out, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int st;

	kill(pid, SIGTERM);
	while (len + 1 < size && (n = read(out, buf + len,
	    size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "vb-load: %d", st);
}

/* KEY=N of a vb-load counts line. */
long
h_load_count(const char *counts, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = counts; (p = strstr(p, key)) != NULL; p += k)
		if ((p == counts || p[-1] == ' ') && p[k] == '=')
			return strtol(p + k + 1, NULL, 10);
	ck_abort_msg("no %s in '%s'", key, counts);
	return -1;
}

/* At least min_ok clients served, none refused, reset or left waiting. */
void
h_load_assert_clean(const char *counts, long min_ok)
{
	ck_assert_msg(h_load_count(counts, "ok") >= min_ok, "%s", counts);
	ck_assert_msg(h_load_count(counts, "refused") == 0 &&
	    h_load_count(counts, "reset") == 0 &&
	    h_load_count(counts, "timeout") == 0 &&
	    h_load_count(counts, "other") == 0, "%s", counts);
}

/* Lets time pass (a load runs meanwhile): not a synchronisation. */
void
h_let_run(int ms)
{
	long until = h_now_ms() + ms;

	while (h_now_ms() < until)
		usleep(20 * 1000);
}
