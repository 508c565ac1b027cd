/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/edge/daemonlog.c, an edge, with real pipes and libev's
 * loop and nothing outside the process: the test writes as the daemon
 * would. Lines are cut as before (at a newline, or at DLOG_LINE_MAX), and
 * a unit holds a pipe and buffers only while some process writes to it:
 * after EOF it keeps no pipe, no log file and no partial line, only its
 * last lines, which status and the "gave up" message show.
 */
#include <check.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemonlog.h"
#include "log.h"

static char t_dir[] = "/tmp/check-daemonlog.XXXXXX";
static char t_path[64];
static struct dlog t_log;
static struct ev_loop *t_loop;

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(t_dir));
	snprintf(t_path, sizeof(t_path), "%s/u.log", t_dir);
	t_loop = EV_DEFAULT;
	dlog_init(&t_log, t_loop, "u", DAEMON_LOG_FILE, t_path, 1 << 20, 1);
	t_log.pid = 42;
}

static void
teardown(void)
{
	dlog_close(&t_log);
	unlink(t_path);
	rmdir(t_dir);
	memcpy(t_dir + strlen(t_dir) - 6, "XXXXXX", 6);
}

/*
 * A daemon starts: the fd it would get as stdout and stderr (a copy; the
 * broker's own is given away, as unit_spawn does).
 */
static int
start_daemon(void)
{
	int wr = dlog_pipe(&t_log), fd;

	ck_assert_int_ge(wr, 0);
	fd = fcntl(wr, F_DUPFD_CLOEXEC, 3);
	ck_assert_int_ge(fd, 0);
	dlog_handed_over(&t_log);
	ck_assert_int_eq(t_log.pipe_wr, -1);
	return fd;
}

static void
say(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Runs the loop until the pipe is closed (EOF), or 5 s. */
static void
run_until_closed(void)
{
	for (int i = 0; i < 5000 && t_log.pipe_rd >= 0; i++) {
		ev_run(t_loop, EVRUN_NOWAIT);
		if (t_log.pipe_rd >= 0)
			usleep(1000);
	}
	ck_assert_int_eq(t_log.pipe_rd, -1);
}

/* Runs the loop until nothing is left to read. */
static void
run_idle(void)
{
	for (int i = 0; i < 20; i++) {
		ev_run(t_loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

/* The log file's lines without their "STAMP u[42]: " prefix. */
static size_t
file_lines(char lines[][DLOG_LINE_MAX + 1], size_t max)
{
	static char buf[4 * DLOG_LINE_MAX];
	FILE *fp = fopen(t_path, "r");
	size_t n = 0;

	ck_assert_ptr_nonnull(fp);
	while (n < max && fgets(buf, sizeof(buf), fp) != NULL) {
		char *p = strstr(buf, " u[42]: ");

		ck_assert_msg(p != NULL, "no prefix in '%s'", buf);
		p += strlen(" u[42]: ");
		p[strcspn(p, "\n")] = '\0';
		snprintf(lines[n++], DLOG_LINE_MAX + 1, "%s", p);
	}
	fclose(fp);
	return n;
}

static void
assert_holds_only_the_tail(void)
{
	ck_assert_int_eq(t_log.pipe_rd, -1);
	ck_assert_int_eq(t_log.pipe_wr, -1);
	ck_assert_int_eq(t_log.file_fd, -1);
	ck_assert_ptr_null(t_log.line);
	ck_assert_uint_eq(t_log.len, 0);
}

START_TEST(a_unit_that_never_started_has_no_pipe_and_no_buffers)
{
	assert_holds_only_the_tail();
	ck_assert_ptr_null(t_log.tail);
	ck_assert_uint_eq(dlog_tail_count(&t_log), 0);
}
END_TEST

START_TEST(lines_are_cut_at_newlines_and_at_the_max)
{
	static char lines[16][DLOG_LINE_MAX + 1];
	char *a = malloc(DLOG_LINE_MAX + 1), *b = malloc(DLOG_LINE_MAX + 2);
	int fd = start_daemon();
	size_t n;

	memset(a, 'a', DLOG_LINE_MAX);
	a[DLOG_LINE_MAX] = '\0';
	memset(b, 'b', DLOG_LINE_MAX + 1);
	b[DLOG_LINE_MAX + 1] = '\0';
	say(fd, "one\n\nthree-part");
	run_idle();
	ck_assert_ptr_nonnull(t_log.line);	/* a partial line waits */
	ck_assert_uint_eq(t_log.len, strlen("three-part"));
	say(fd, "ial\n");
	run_idle();
	ck_assert_ptr_null(t_log.line);		/* and is gone once out */
	say(fd, a);				/* exactly the max, then */
	say(fd, "\n");				/* its newline: one line */
	say(fd, b);				/* one more: two lines */
	say(fd, "\nno newline at the end");
	close(fd);
	run_until_closed();
	n = file_lines(lines, 16);
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(lines[0], "one");
	ck_assert_str_eq(lines[1], "");
	ck_assert_str_eq(lines[2], "three-partial");
	ck_assert_str_eq(lines[3], a);
	ck_assert_str_eq(lines[4], b + 1);	/* DLOG_LINE_MAX of them */
	ck_assert_str_eq(lines[5], "b");
	ck_assert_str_eq(lines[6], "no newline at the end");
	assert_holds_only_the_tail();
	free(a);
	free(b);
}
END_TEST

START_TEST(after_eof_only_the_last_lines_stay)
{
	char tail[1024];
	int fd = start_daemon();

	say(fd, "starting\ncannot start: flag file\n");
	close(fd);				/* the daemon exits */
	dlog_drain(&t_log);			/* as child_cb does */
	assert_holds_only_the_tail();
	ck_assert_uint_eq(dlog_tail_count(&t_log), 2);
	dlog_tail(&t_log, 3, tail, sizeof(tail));
	ck_assert_str_eq(tail, "starting | cannot start: flag file");
	ck_assert_uint_eq(strlen(t_log.tail[1]), strlen("cannot start: flag "
	    "file"));				/* kept at its own length */
}
END_TEST

START_TEST(a_second_start_makes_a_new_pipe_and_logs_again)
{
	static char lines[4][DLOG_LINE_MAX + 1];
	int fd = start_daemon();

	say(fd, "first run\n");
	close(fd);
	run_until_closed();
	assert_holds_only_the_tail();
	fd = start_daemon();
	ck_assert_int_ge(t_log.pipe_rd, 0);
	say(fd, "second run\n");
	close(fd);
	run_until_closed();
	assert_holds_only_the_tail();
	ck_assert_uint_eq(file_lines(lines, 4), 2);
	ck_assert_str_eq(lines[0], "first run");
	ck_assert_str_eq(lines[1], "second run");
	ck_assert_uint_eq(dlog_tail_count(&t_log), 2);
	ck_assert_str_eq(dlog_tail_line(&t_log, 1), "second run");
}
END_TEST

/* A daemon exits; a child it left behind writes on; then a new start. */
START_TEST(a_writer_left_behind_keeps_the_pipe_and_shares_it)
{
	static char lines[4][DLOG_LINE_MAX + 1];
	struct stat a, b;
	int fd = start_daemon(), orphan = dup(fd), fd2;

	ck_assert_int_ge(orphan, 0);
	say(fd, "daemon\n");
	close(fd);				/* the daemon exits */
	dlog_drain(&t_log);
	ck_assert_int_ge(t_log.pipe_rd, 0);	/* the orphan still writes */
	say(orphan, "orphan\n");
	run_idle();
	ck_assert_int_ge(t_log.pipe_rd, 0);
	fd2 = start_daemon();			/* the same pipe */
	ck_assert_int_eq(fstat(fd2, &a), 0);
	ck_assert_int_eq(fstat(orphan, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	say(fd2, "new daemon\n");
	close(fd2);
	run_idle();
	ck_assert_int_ge(t_log.pipe_rd, 0);	/* the orphan is still there */
	close(orphan);
	run_until_closed();
	assert_holds_only_the_tail();
	ck_assert_uint_eq(file_lines(lines, 4), 3);
	ck_assert_str_eq(lines[0], "daemon");
	ck_assert_str_eq(lines[1], "orphan");
	ck_assert_str_eq(lines[2], "new daemon");
}
END_TEST

START_TEST(the_tail_keeps_the_last_ten_lines_cut_to_fit)
{
	char long_line[400], want[DLOG_TAIL_LEN];
	int fd = start_daemon();

	for (int i = 0; i < 12; i++) {
		char line[32];

		snprintf(line, sizeof(line), "line %d\n", i);
		say(fd, line);
	}
	memset(long_line, 'x', sizeof(long_line) - 2);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';
	say(fd, long_line);
	close(fd);
	run_until_closed();
	ck_assert_uint_eq(dlog_tail_count(&t_log), DLOG_TAIL);
	ck_assert_str_eq(dlog_tail_line(&t_log, 0), "line 3");
	ck_assert_str_eq(dlog_tail_line(&t_log, 8), "line 11");
	memset(want, 'x', DLOG_TAIL_LEN - 1);
	want[DLOG_TAIL_LEN - 1] = '\0';
	ck_assert_str_eq(dlog_tail_line(&t_log, 9), want);
}
END_TEST

/* While a process writes, a drain writes a last line only once it waits. */
START_TEST(drain_writes_a_waiting_partial_line_and_keeps_the_pipe)
{
	static char lines[4][DLOG_LINE_MAX + 1];
	int fd = start_daemon();

	say(fd, "whole\npartial");
	dlog_drain(&t_log);
	ck_assert_int_ge(t_log.pipe_rd, 0);	/* fd still writes */
	ck_assert_ptr_null(t_log.line);
	close(fd);
	run_until_closed();
	ck_assert_uint_eq(file_lines(lines, 4), 2);
	ck_assert_str_eq(lines[1], "partial");
}
END_TEST

static Suite *
daemonlog_suite(void)
{
	Suite *s = suite_create("daemonlog");
	TCase *tc = tcase_create("lines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_are_cut_at_newlines_and_at_the_max);
	tcase_add_test(tc, the_tail_keeps_the_last_ten_lines_cut_to_fit);
	tcase_add_test(tc,
	    drain_writes_a_waiting_partial_line_and_keeps_the_pipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    a_unit_that_never_started_has_no_pipe_and_no_buffers);
	tcase_add_test(tc, after_eof_only_the_last_lines_stay);
	tcase_add_test(tc, a_second_start_makes_a_new_pipe_and_logs_again);
	tcase_add_test(tc, a_writer_left_behind_keeps_the_pipe_and_shares_it);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(daemonlog_suite());
	int failed;

	log_init("check_daemonlog", LOG_LEVEL_WARN, false);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
