/* SPDX-License-Identifier: MIT */
/*
 * Test harness: runs the real virt-broker binary (VB_BROKER) in a private
 * runtime dir with a config written by the test, waits for it through
 * --ready-fd, and talks to its sockets. Conditions are polled against a
 * deadline, never slept on.
 */
#ifndef VB_HARNESS_H
#define VB_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>

struct harness {
	char	dir[256];	/* private temp dir, removed at the end */
	char	xdg[300];	/* XDG_RUNTIME_DIR */
	char	rt[320];	/* R = dir/.cache/libvirt (HOME = dir) */
	char	conf[300];
	char	log[300];	/* the broker's stderr */
	pid_t	broker;
	long	nofile;		/* > 0: the broker's RLIMIT_NOFILE */
	bool	system;		/* --system instead of --session */
};

/* The test's harness; h_fixture_setup/teardown make and remove it. */
extern struct harness H;

void	 h_fixture_setup(void);
void	 h_fixture_teardown(void);
void	 h_add_tcases(Suite *s, TCase *const *tcs, size_t n, int timeout);
int	 h_run(Suite *s);
char	*h_rt(const char *name);
char	*h_dir(const char *name);
void	 h_setup(struct harness *h);
void	 h_teardown(struct harness *h);
void	 h_write_conf(struct harness *h, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
char	*h_path(const struct harness *h, const char *name);
void	 h_copy_file(const char *from, const char *to, mode_t mode);
const char *h_fake_daemon(void);
int	 h_start_broker(struct harness *h);
pid_t	 h_spawn_broker(struct harness *h, int ready_fd);
int	 h_stop_broker(struct harness *h, int timeout_ms);
int	 h_wait_exit(pid_t pid, int timeout_ms);
int	 h_connect(const char *path);
int	 h_listen_at(const char *path);
int	 h_read_line(int fd, char *buf, size_t size, int timeout_ms);
long	 h_hello(const char *path, int timeout_ms);
char	*h_report_get(const char *file, const char *key);
void	 h_assert_report(const char *report, const char *key, const char *want);
void	 h_assert_passed_fd(const char *report, int fd, const char *path);
int	 h_count_lines(const char *file);
int	 h_log_count(const struct harness *h, const char *needle);
bool	 h_wait_log(const struct harness *h, const char *needle,
	    int timeout_ms);
bool	 h_wait_file(const char *path, int timeout_ms);
bool	 h_wait_gone(pid_t pid, int timeout_ms);
bool	 h_pid_alive(pid_t pid);
long	 h_now_ms(void);
bool	 h_wait_hello(const char *path, long *ret_pid, int timeout_ms);
int	 h_reload(struct harness *h, const char *done, int timeout_ms);
ino_t	 h_inode(const char *path);
int	 h_ctl_as(int uid, char *out, size_t size, const char *const *args);
int	 h_child_output(pid_t pid, int rfd, char *out, size_t size);
bool	 h_is_link_to(const char *path, const char *target);
bool	 h_wait_link(const char *path, const char *target, int timeout_ms);
pid_t	 h_load_start(const char *interval_ms, const char *a, const char *b,
	    int *ret_out);
void	 h_load_stop(pid_t pid, int out, char *buf, size_t size);
long	 h_load_count(const char *counts, const char *key);
void	 h_load_assert_clean(const char *counts, long min_ok);
void	 h_let_run(int ms);

#endif
