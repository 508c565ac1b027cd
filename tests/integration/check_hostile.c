/* SPDX-License-Identifier: MIT */
/*
 * A hostile local user (issue 10): sockets bound without following what
 * someone swaps in at the path, a daemon's runaway child flooding the log
 * pipe, and the open file limit daemons get.
 *
 * The bind race is made deterministic by linking with --wrap=bind: the
 * wrapper binds, then (when armed) swaps the path the way an attacker with
 * write access to the directory would, before sock_bind() takes its next
 * step. Those tests bind in a directory anyone may write (mode 0777, not
 * sticky), where sock.c must ask the kernel (sock_diag) what it bound;
 * --wrap=socket counts those queries. In a directory only we can change
 * there is no one to race, and no query is made. sock.c and spawn.c are linked in and called directly; the flood
 * test runs the real broker.
 *
 * A config others may change (issue 27): the system broker refuses it, or
 * one in a directory others may change, at start (checked by a dry run)
 * and at a reload (a system broker kept inside the test's dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "listenfds.h"
#include "plan.h"
#include "sock.h"
#include "spawn.h"

#define T_MS 10000		/* generous deadline for one step */

enum swap {
	SWAP_NONE,
	SWAP_SYMLINK,		/* path -> a symlink to swap_target */
	SWAP_FILE,		/* path -> a regular file of someone else's */
	SWAP_SOCKET,		/* path -> another socket, also ours */
};

static enum swap swap_kind;
static const char *swap_path;
static const char *swap_target;
static int swap_fd = -1;	/* SWAP_SOCKET: the socket swapped in */

static unsigned ndiag;		/* sock_diag sockets opened */

int	__real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int	__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len);
int	__real_socket(int domain, int type, int protocol);
int	__wrap_socket(int domain, int type, int protocol);

int
__wrap_socket(int domain, int type, int protocol)
{
	if (domain == AF_NETLINK)
		ndiag++;
	return __real_socket(domain, type, protocol);
}

/* A path in a directory of the test's that anyone may write (free it). */
static char *
open_dir(const char *name)
{
	char *dir = h_dir("open"), *p = NULL;

	if (mkdir(dir, 0777) < 0)
		ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(chmod(dir, 0777), 0);	/* whatever the umask */
	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	free(dir);
	return p;
}

/* bind(), then the armed swap, once. */
int
__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	enum swap kind = swap_kind;
	int r = __real_bind(fd, sa, len);

	if (r < 0 || kind == SWAP_NONE || sa->sa_family != AF_UNIX ||
	    strcmp(un->sun_path, swap_path) != 0)
		return r;
	swap_kind = SWAP_NONE;
	ck_assert_int_eq(unlink(swap_path), 0);
	switch (kind) {
	case SWAP_SYMLINK:
		ck_assert_int_eq(symlink(swap_target, swap_path), 0);
		break;
	case SWAP_FILE: {
		int f = open(swap_path, O_WRONLY | O_CREAT | O_EXCL, 0644);

		ck_assert_int_ge(f, 0);
		ck_assert_int_eq(write(f, "foreign\n", 8), 8);
		ck_assert_int_eq(fchown(f, 1, 1), 0);
		close(f);
		break;
	}
	case SWAP_SOCKET: {
		mode_t old = umask(077);

		swap_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(swap_fd, 0);
		ck_assert_int_eq(__real_bind(swap_fd, sa, len), 0);
		umask(old);
		break;
	}
	case SWAP_NONE:
		break;
	}
	return r;
}

/* A group other than ours to chown to, or NULL (then only modes count). */
static const struct group *
other_group(void)
{
	static const char *names[] = { "nogroup", "daemon", "bin", "users",
	    NULL };

	if (geteuid() != 0)
		return NULL;
	for (const char **n = names; *n != NULL; n++) {
		const struct group *gr = getgrnam(*n);

		if (gr != NULL && gr->gr_gid != getegid())
			return gr;
	}
	return NULL;
}

static struct sock_spec
spec(char *path, unsigned mode, const struct group *gr)
{
	struct sock_spec s = {
		.name = (char *)"t.socket",
		.path = path,
		.mode = mode,
		.group = gr != NULL ? gr->gr_name : NULL,
	};

	return s;
}

/* The mode comes from the umask at bind, whatever the process umask. */
START_TEST(socket_mode_comes_from_the_bind_itself)
{
	static const unsigned modes[] = { 0600, 0660, 0666, 0640 };
	const struct group *gr = other_group();

	umask(0);
	ndiag = 0;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char name[32], *path;
		struct sock_spec s;
		struct bound_sock b;
		struct stat st;

		snprintf(name, sizeof(name), "s%zu", i);
		path = h_dir(name);
		s = spec(path, modes[i], i % 2 == 1 ? gr : NULL);
		ck_assert_int_eq(sock_bind("t", &s, 0, &b), 0);
		ck_assert_int_eq(lstat(path, &st), 0);
		ck_assert(S_ISSOCK(st.st_mode));
		ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
		ck_assert_uint_eq(st.st_ino, b.ino);
		if (s.group != NULL)
			ck_assert_uint_eq(st.st_gid, gr->gr_gid);
		else
			ck_assert_uint_eq(st.st_gid, getegid());
		sock_unlink_ours(path, &b);
		ck_assert_int_ne(access(path, F_OK), 0);
		close(b.fd);
		free(path);
	}
	ck_assert_uint_eq(ndiag, 0);	/* the test's dir is ours alone */
}
END_TEST

/* The same where others may write: every bind is checked by sock_diag. */
START_TEST(socket_in_a_shared_dir_is_identified_by_the_kernel)
{
	char *path = open_dir("sock");
	struct sock_spec s = spec(path, 0660, NULL);
	struct bound_sock b;
	struct stat st;

	umask(0);
	ndiag = 0;
	ck_assert_int_eq(sock_bind("t", &s, 0, &b), 0);
	ck_assert_uint_eq(ndiag, 1);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_ino, b.ino);
	sock_unlink_ours(path, &b);
	close(b.fd);
	free(path);
}
END_TEST

/*
 * A symlink swapped in right after bind is never followed: its target
 * keeps its mode and group, and the symlink stays (it is not ours).
 */
START_TEST(symlink_swapped_in_after_bind_is_not_followed)
{
	char *path = open_dir("sock"), *target = open_dir("shadow");
	const struct group *gr = other_group();
	struct sock_spec s = spec(path, 0666, gr);
	struct bound_sock b;
	struct stat st;
	int f;

	f = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(f, 0);
	close(f);
	swap_kind = SWAP_SYMLINK;
	swap_path = path;
	swap_target = target;
	ck_assert_int_lt(sock_bind("t", &s, 0, &b), 0);
	ck_assert_int_eq(swap_kind, SWAP_NONE);		/* the swap happened */
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_gid, getegid());
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	free(path);
	free(target);
}
END_TEST

/* A foreign file swapped in after bind survives the failed bind as is. */
START_TEST(foreign_file_swapped_in_after_bind_survives)
{
	char *path = open_dir("sock"), buf[32] = "";
	struct sock_spec s = spec(path, 0666, other_group());
	struct bound_sock b;
	struct stat st;
	FILE *fp;

	if (geteuid() != 0) {
		fprintf(stderr, "foreign_file_swapped_in_after_bind_survives: "
		    "needs root to plant another user's file\n");
		free(path);
		return;
	}
	swap_kind = SWAP_FILE;
	swap_path = path;
	ck_assert_int_lt(sock_bind("t", &s, 0, &b), 0);
	ck_assert_int_eq(swap_kind, SWAP_NONE);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(st.st_uid, 1);
	ck_assert_uint_eq(st.st_gid, 1);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	ck_assert_str_eq(buf, "foreign\n");
	free(path);
}
END_TEST

/*
 * Another socket of ours swapped in (same owner, so only the kernel can
 * tell: sock_diag) is not taken for the one just bound, and not touched.
 */
START_TEST(another_socket_swapped_in_is_not_taken_for_ours)
{
	char *path = open_dir("sock");
	struct sock_spec s = spec(path, 0666, other_group());
	struct bound_sock b;
	struct stat st;

	swap_kind = SWAP_SOCKET;
	swap_path = path;
	ck_assert_int_lt(sock_bind("t", &s, 0, &b), 0);
	ck_assert_int_eq(swap_kind, SWAP_NONE);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);	/* umask 077 */
	ck_assert_uint_eq(st.st_gid, getegid());
	close(swap_fd);
	swap_fd = -1;
	free(path);
}
END_TEST

/* A planted symlink or file at the path is refused and left alone. */
START_TEST(planted_symlink_or_file_is_refused_and_left)
{
	char *path = h_dir("sock"), *target = h_dir("target");
	struct sock_spec s = spec(path, 0666, other_group());
	struct bound_sock b;
	struct stat st;
	int f;

	f = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(f, 0);
	close(f);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_lt(sock_bind("t", &s, 0, &b), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_gid, getegid());
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rename(target, path), 0);
	ck_assert_int_lt(sock_bind("t", &s, 0, &b), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	free(path);
	free(target);
}
END_TEST

/* Spawns fake-daemon --report FILE, waits for it; nofile_soft. */
static long
spawn_report_nofile(bool set_nofile, rlim_t want)
{
	char *report = h_dir("report"), *v;
	char slot[LFD_PID_SLOT] = LFD_PID_PREFIX "0";
	char *argv[] = { (char *)h_fake_daemon(), (char *)"--report", report,
	    (char *)"--exit-on-start", (char *)"0", NULL };
	char *envp[] = { slot, NULL };
	struct spawn_req req = {
		.argv = argv,
		.envp = envp,
		.pid_slot = slot,
		.out_fd = -1,
		.set_nofile = set_nofile,
	};
	int st, status_fd, e = 0;
	pid_t pid;
	long n;

	req.nofile.rlim_cur = want;
	req.nofile.rlim_max = want;
	req.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(req.null_fd, 0);
	unlink(report);
	ck_assert_int_eq(spawn_daemon(&req, &pid, &status_fd), 0);
	ck_assert_int_eq(spawn_read_status(status_fd, &e), 0);
	close(status_fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(req.null_fd);
	v = h_report_get(report, "nofile_soft");
	ck_assert_ptr_nonnull(v);
	n = atol(v);
	free(v);
	free(report);
	return n;
}

/*
 * The broker raises its own soft RLIMIT_NOFILE at start; a daemon without
 * limit_nofile gets the limit the broker was started with, a configured
 * limit_nofile wins.
 */
START_TEST(daemon_gets_the_nofile_limit_the_broker_started_with)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2048) {
		fprintf(stderr, "daemon_gets_the_nofile_limit_the_broker_"
		    "started_with: hard limit %llu is too low\n",
		    (unsigned long long)rl.rlim_max);
		return;
	}
	rl.rlim_cur = 512;			/* as the user started it */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	spawn_set_inherited_nofile(rl.rlim_cur);
	rl.rlim_cur = 2048;			/* raise_fd_limit() */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(spawn_report_nofile(false, 0), 512);
	ck_assert_int_eq(spawn_report_nofile(true, 1000), 1000);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, 2048);	/* the broker's own stays */
}
END_TEST

/* The "flood line N" lines of a log file: how many, -1 at a gap. */
static long
consecutive_flood_lines(const char *file)
{
	char line[8192];
	long prev = -1, count = 0;
	FILE *fp = fopen(file, "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *p = strstr(line, "flood line ");
		long n;
		int len = 0;

		if (p == NULL)
			continue;
		if (sscanf(p, "flood line %ld%n", &n, &len) != 1 ||
		    len != 20 || (prev >= 0 && n != prev + 1)) {
			fprintf(stderr, "%s: after line %ld: %s", file, prev,
			    line);
			count = -1;
			break;
		}
		prev = n;
		count++;
	}
	fclose(fp);
	return count;
}

/*
 * A daemon leaves a child behind that floods the output pipe they share.
 * The broker reads it a budget per wake-up: it notices the daemon's exit,
 * activates another unit and answers within the deadline, loses no line
 * and stops cleanly.
 */
START_TEST(flooding_orphan_does_not_freeze_the_broker)
{
	char *f = h_rt("sock-f"), *o = h_rt("sock-o"), *logdir = h_dir("log");
	char *rotated = NULL;
	long pid, t0;

	h_write_conf(&H, "[broker]\nsearch_path = /nonexistent\npublish = none"
	    "\nlog_dir = %s\n[flood]\nexec = %s\nargs = --flood-child "
	    "--exit-after 1\nsocket = f.socket sock-f\nrestart = no\n"
	    "[other]\nexec = %s\nsocket = o.socket sock-o\n", logdir,
	    h_fake_daemon(), h_fake_daemon());
	ck_assert_int_eq(h_start_broker(&H), 0);
	pid = h_hello(f, T_MS);		/* then it exits, its child not */
	ck_assert_int_gt(pid, 0);
	ck_assert(h_wait_gone((pid_t)pid, T_MS));	/* reaped */
	t0 = h_now_ms();
	ck_assert(h_wait_hello(o, &pid, T_MS));
	ck_assert_int_lt(h_now_ms() - t0, T_MS);
	ck_assert(h_wait_log(&H, "unit flood: pid", T_MS));
	ck_assert_int_ge(asprintf(&rotated, "%s/flood.log.1", logdir), 0);
	ck_assert(h_wait_file(rotated, T_MS));
	ck_assert_int_gt(consecutive_flood_lines(rotated), 1000);
	ck_assert_int_gt(h_hello(o, T_MS), 0);	/* still answering */
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
	free(rotated);
	free(f);
	free(o);
	free(logdir);
}
END_TEST

#define NOBODY		65534	/* a uid that is not root */
#define CONF_MINIMAL	"[broker]\nsearch_path = /nonexistent\npublish = none\n"

/* Skips (saying why) a test that plants root's and another uid's files. */
static bool
need_root(const char *test)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "%s: skipped: needs root to own a config as the "
	    "system broker wants, and to chown one to uid %d; checked in CI\n",
	    test, NOBODY);
	return false;
}

/* Writes path (truncated, its inode kept) with mode, whatever the umask. */
static void
write_file(const char *path, mode_t mode, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int fd;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&text, fmt, ap), 0);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	free(text);
}

/* In a child: execs the broker with args, VB_BROKER_WRAPPER in front. */
static noreturn void
exec_broker(const char *const *args)
{
	const char *wrapper = getenv("VB_BROKER_WRAPPER");
	char *argv[48], *copy = NULL;
	int n = 0;

	if (wrapper != NULL && wrapper[0] != '\0') {
		copy = strdup(wrapper);
		for (char *t = strtok(copy, " "); t != NULL && n < 32;
		    t = strtok(NULL, " "))
			argv[n++] = t;
	}
	argv[n++] = getenv("VB_BROKER");
	for (size_t i = 0; args[i] != NULL && n < 47; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	/* A failed test must not leave its broker behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setenv("XDG_RUNTIME_DIR", H.xdg, 1);
	setenv("HOME", H.dir, 1);
	execvp(argv[0], argv);
	_exit(127);
}

/*
 * virt-broker -n [mode] -f conf: its exit status; its output (stdout and
 * stderr) in out.
 */
static int
dry_run(const char *mode, const char *conf, char *out, size_t size)
{
	const char *with_mode[] = { "-n", mode, "-f", conf, NULL };
	const char *without[] = { "-n", "-f", conf, NULL };
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		exec_broker(mode != NULL ? with_mode : without);
	}
	close(p[1]);
	return h_child_output(pid, p[0], out, size);
}

/* The dry run in mode (NULL: root's default) refuses conf, saying fmt. */
static void __attribute__((format(printf, 3, 4)))
assert_refused(const char *mode, const char *conf, const char *fmt, ...)
{
	char out[8192], *want = NULL;
	va_list ap;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&want, fmt, ap), 0);
	va_end(ap);
	ck_assert_int_eq(dry_run(mode, conf, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in: %s", want, out);
	ck_assert_msg(strstr(out, "not starting") != NULL, "%s", out);
	free(want);
}

static void
assert_accepted(const char *mode, const char *conf)
{
	char out[8192];

	ck_assert_msg(dry_run(mode, conf, out, sizeof(out)) == 0, "%s", out);
}

/*
 * The system broker refuses a config that anyone but root may change, or
 * one in such a directory, naming it, its owner or mode, and the fix;
 * root's own, 0644 in a 0755 directory of root's, is read.
 */
START_TEST(system_config_others_may_change_is_refused)
{
	char *etc = h_dir("etc"), *conf = h_dir("etc/virt-broker.conf");

	if (!need_root("system_config_others_may_change_is_refused"))
		goto out;
	ck_assert_int_eq(mkdir(etc, 0755), 0);
	ck_assert_int_eq(chmod(etc, 0755), 0);	/* whatever the umask */
	write_file(conf, 0644, CONF_MINIMAL);
	assert_accepted("--system", conf);
	ck_assert_int_eq(chmod(conf, 0664), 0);
	assert_refused("--system", conf, "%s: mode 0664 lets group or others "
	    "write it; chmod go-w %s", conf, conf);
	ck_assert_int_eq(chmod(conf, 0646), 0);
	assert_refused("--system", conf, "%s: mode 0646 lets", conf);
	ck_assert_int_eq(chmod(conf, 0644), 0);
	ck_assert_int_eq(chown(conf, NOBODY, (gid_t)-1), 0);
	assert_refused("--system", conf, "%s: owned by uid %d (must be root)",
	    conf, NOBODY);
	ck_assert_int_eq(chown(conf, 0, (gid_t)-1), 0);
	ck_assert_int_eq(chmod(etc, 0775), 0);
	assert_refused("--system", conf, "%s: directory %s: mode 0775 lets "
	    "group or others write it; chmod go-w %s", conf, etc, etc);
	ck_assert_int_eq(chmod(etc, 0755), 0);
	ck_assert_int_eq(chown(etc, NOBODY, (gid_t)-1), 0);
	assert_refused("--system", conf, "%s: directory %s: owned by uid %d "
	    "(must be root)", conf, etc, NOBODY);
	ck_assert_int_eq(chown(etc, 0, (gid_t)-1), 0);
	assert_accepted("--system", conf);
out:
	free(etc);
	free(conf);
}
END_TEST

/*
 * Only the system broker judges: a session broker reads the same file.
 * Root's is a system broker by default, and a file others may write does
 * not exempt itself by saying mode = session.
 */
START_TEST(only_the_system_broker_judges_its_config)
{
	char *etc = h_dir("etc"), *conf = h_dir("etc/virt-broker.conf");

	if (!need_root("only_the_system_broker_judges_its_config"))
		goto out;
	ck_assert_int_eq(mkdir(etc, 0777), 0);
	ck_assert_int_eq(chmod(etc, 0777), 0);
	write_file(conf, 0666, CONF_MINIMAL);
	ck_assert_int_eq(chown(conf, NOBODY, (gid_t)-1), 0);
	assert_accepted("--session", conf);
	assert_refused(NULL, conf, "%s: mode 0666 lets", conf);
	write_file(conf, 0666, CONF_MINIMAL "mode = session\n");
	assert_refused(NULL, conf, "%s: owned by uid %d", conf, NOBODY);
	assert_accepted("--session", conf);
out:
	free(etc);
	free(conf);
}
END_TEST

/* Starts a system broker on conf, its stderr in H's log: 0, or -1. */
static int
start_system_broker(const char *conf)
{
	struct pollfd pfd;
	char fdarg[16], c;
	int p[2], r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	H.broker = fork();
	ck_assert_int_ge(H.broker, 0);
	if (H.broker == 0) {
		int log = open(H.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);

		dup2(log, 2);
		/* dup() clears FD_CLOEXEC: the end the broker writes. */
		snprintf(fdarg, sizeof(fdarg), "%d", dup(p[1]));
		exec_broker((const char *[]){ "--system", "-v", "-f", conf,
		    "--ready-fd", fdarg, NULL });
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	r = poll(&pfd, 1, 30000) == 1 && read(p[0], &c, 1) == 1 ? 0 : -1;
	close(p[0]);
	return r;
}

/*
 * A reload finds the config made writable by the group: the running
 * config stays, unit b is not added; made root's alone again, it is.
 */
START_TEST(reload_keeps_the_running_config_when_refused)
{
	char *etc = h_dir("etc"), *conf = h_dir("etc/virt-broker.conf"),
	    *rt = h_dir("sys"), *logd = h_dir("log"), *a = h_dir("sys/sock-a"),
	    *b = h_dir("sys/sock-b"), *want = NULL;
	const char *fmt = CONF_MINIMAL "runtime_dir = %s\nlog_dir = %s\n"
	    "[a]\nexec = %s\nsocket = a.socket sock-a\n%s";

	if (!need_root("reload_keeps_the_running_config_when_refused"))
		goto out;
	ck_assert_int_eq(mkdir(etc, 0755), 0);
	ck_assert_int_eq(chmod(etc, 0755), 0);
	write_file(conf, 0644, fmt, rt, logd, h_fake_daemon(), "");
	ck_assert_int_eq(start_system_broker(conf), 0);
	ck_assert(h_wait_log(&H, "(system mode)", T_MS));
	ck_assert_int_eq(access(a, F_OK), 0);
	write_file(conf, 0664, fmt, rt, logd, h_fake_daemon(),
	    "[b]\nexec = /bin/false\nsocket = b.socket sock-b\n");
	ck_assert_int_eq(h_reload(&H, "reload: keeping the running "
	    "configuration", T_MS), 0);
	ck_assert_int_ge(asprintf(&want, "reload: %s: mode 0664 lets group "
	    "or others write it", conf), 0);
	ck_assert_int_eq(h_log_count(&H, want), 1);
	ck_assert_int_ne(access(b, F_OK), 0);
	ck_assert_int_eq(chmod(conf, 0644), 0);
	ck_assert_int_eq(h_reload(&H, "reload: done", T_MS), 0);
	ck_assert_int_eq(access(b, F_OK), 0);
	ck_assert_int_eq(h_stop_broker(&H, T_MS), 0);
out:
	free(etc);
	free(conf);
	free(rt);
	free(logd);
	free(a);
	free(b);
	free(want);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *sock = tcase_create("sock");
	TCase *limits = tcase_create("limits");
	TCase *flood = tcase_create("flood");
	TCase *config = tcase_create("config");
	TCase *all[] = { sock, limits, flood, config };

	h_add_tcases(s, all, sizeof(all) / sizeof(all[0]), 120);
	/* valgrind emulates RLIMIT_NOFILE: a child never sees its setrlimit. */
	tcase_set_tags(limits, "no-valgrind");
	tcase_add_test(sock, socket_mode_comes_from_the_bind_itself);
	tcase_add_test(sock,
	    socket_in_a_shared_dir_is_identified_by_the_kernel);
	tcase_add_test(sock, symlink_swapped_in_after_bind_is_not_followed);
	tcase_add_test(sock, foreign_file_swapped_in_after_bind_survives);
	tcase_add_test(sock, another_socket_swapped_in_is_not_taken_for_ours);
	tcase_add_test(sock, planted_symlink_or_file_is_refused_and_left);
	tcase_add_test(limits,
	    daemon_gets_the_nofile_limit_the_broker_started_with);
	tcase_add_test(flood, flooding_orphan_does_not_freeze_the_broker);
	tcase_add_test(config, system_config_others_may_change_is_refused);
	tcase_add_test(config, only_the_system_broker_judges_its_config);
	tcase_add_test(config, reload_keeps_the_running_config_when_refused);
	return s;
}

int
main(void)
{
	return h_run(hostile_suite());
}
