/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for broker/core/config.c: every key, every error as FILE:LINE, all
 * errors of a file reported. Configs are strings (cfg_parse_string), but
 * for NUL bytes, which a C string cannot carry (parse_bytes).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define F "/etc/virt-broker/test.conf"

static struct config *t_cfg;
static char *t_str;

static void
teardown(void)
{
	cfg_free(t_cfg);
	t_cfg = NULL;
	free(t_str);
	t_str = NULL;
}

/* Parses text into t_cfg; the return value must be the error count. */
static void
parse(const char *text)
{
	int r;

	cfg_free(t_cfg);
	t_cfg = cfg_new(F);
	r = cfg_parse_string(t_cfg, text);
	ck_assert_int_eq(r, (int)t_cfg->errors.n);
}

static void
assert_clean(const char *text)
{
	parse(text);
	ck_assert_msg(t_cfg->errors.n == 0, "unexpected error: %s",
	    t_cfg->errors.v[0]);
}

/* Exactly one error, and it is want. */
static void
assert_error(const char *text, const char *want)
{
	parse(text);
	ck_assert_msg(t_cfg->errors.n == 1, "%zu errors, expected 1 ('%s'); "
	    "first: '%s'", t_cfg->errors.n, want,
	    t_cfg->errors.n > 0 ? t_cfg->errors.v[0] : "(none)");
	ck_assert_str_eq(t_cfg->errors.v[0], want);
}

static struct unit_conf *
must_find(const char *name)
{
	struct unit_conf *u = cfg_find_unit(t_cfg, name);

	ck_assert_msg(u != NULL, "no unit %s", name);
	return u;
}

/*
 * Parses len bytes, which may hold NUL bytes, into t_cfg through cfg_parse()
 * on an fmemopen() stream: cfg_parse_string() takes a C string, which ends
 * at its first NUL, so it cannot carry one.
 */
static void
parse_bytes(const char *bytes, size_t len)
{
	FILE *fp;
	int r;

	cfg_free(t_cfg);
	t_cfg = cfg_new(F);
	fp = fmemopen((void *)(uintptr_t)bytes, len, "r");
	ck_assert_ptr_nonnull(fp);
	r = cfg_parse(t_cfg, fp);
	fclose(fp);
	ck_assert_int_eq(r, (int)t_cfg->errors.n);
}

#define PARSE_BYTES(lit)	parse_bytes((lit), sizeof(lit) - 1)

/* "KEY = /aaa...": a line of exactly len bytes, its value one word. */
static char *
line_of(const char *key, size_t len)
{
	size_t klen = strlen(key) + 4;
	char *s;

	ck_assert_uint_gt(len, klen);
	s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	snprintf(s, len + 1, "%s = /", key);
	memset(s + klen, 'x', len - klen);
	s[len] = '\0';
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

/* --- valid configs --- */

static const char full_config[] =
    "; virt-broker.conf, every key\n"
    "[broker]\n"
    "mode = system\n"
    "runtime_dir = /run/vb/libvirt\n"
    "search_path = /opt/sbin:/usr/sbin\n"
    "log = syslog\n"
    "log_dir = /var/log/vb\n"
    "backlog = 128\n"
    "\n"
    "[virtqemud]\n"						/* 10 */
    "exec = /opt/sbin/virtqemud\n"
    "args = --timeout 60 --config \"/etc/my dir/q.conf\" 'a b'\n"
    "start = at-launch\n"
    "restart = always\n"
    "stop_timeout = 45\n"
    "stop_on_exit = no\n"
    "socket = virtqemud.socket virtqemud-sock 0660 libvirt\n"
    "socket = virtqemud-admin.socket /run/vb/admin-sock 0600\n"
    "socket = virtqemud-ro.socket virtqemud-sock-ro\n"
    "env = LIBVIRT_DEBUG=1\n"
    "env = LIBVIRT_LOG_OUTPUTS=1:stderr\n"
    "start_limit_burst = 3\n"
    "start_limit_interval = 20\n"
    "failed_cooldown = 60\n"
    "limit_nofile = 64K\n"
    "limit_memlock = infinity\n"
    "log = file\n"
    "log_max_size = 2M\n"
    "log_keep = 0\n"
    "\n"
    "[mydaemon]\n"						/* 31 */
    "exec = /usr/local/sbin/mydaemon\n"
    "socket = \"my daemon.socket\" my-sock\n"
    "log = stderr\n"
    "limit_memlock = 64M\n";

START_TEST(full_config_parses_broker_keys)
{
	assert_clean(full_config);
	ck_assert_str_eq(t_cfg->file, F);
	ck_assert_int_eq(t_cfg->mode, BROKER_MODE_SYSTEM);
	ck_assert_str_eq(t_cfg->runtime_dir, "/run/vb/libvirt");
	ck_assert_str_eq(t_cfg->search_path, "/opt/sbin:/usr/sbin");
	ck_assert(t_cfg->log_syslog);
	ck_assert_str_eq(t_cfg->log_dir, "/var/log/vb");
	ck_assert_uint_eq(t_cfg->backlog, 128);
	ck_assert_uint_eq(t_cfg->set, CFG_KEY_MODE | CFG_KEY_RUNTIME_DIR |
	    CFG_KEY_SEARCH_PATH | CFG_KEY_LOG | CFG_KEY_LOG_DIR |
	    CFG_KEY_BACKLOG);
	ck_assert_uint_eq(t_cfg->nunits, 2);
}
END_TEST

START_TEST(full_config_parses_unit_keys)
{
	struct unit_conf *u;

	assert_clean(full_config);
	u = must_find("virtqemud");
	ck_assert_int_eq(u->line, 10);
	ck_assert_str_eq(u->exec, "/opt/sbin/virtqemud");
	ck_assert_uint_eq(u->args.n, 5);
	ck_assert_str_eq(u->args.v[0], "--timeout");
	ck_assert_str_eq(u->args.v[1], "60");
	ck_assert_str_eq(u->args.v[2], "--config");
	ck_assert_str_eq(u->args.v[3], "/etc/my dir/q.conf");
	ck_assert_str_eq(u->args.v[4], "a b");
	ck_assert_int_eq(u->start, START_AT_LAUNCH);
	ck_assert_int_eq(u->restart, RESTART_ALWAYS);
	ck_assert_uint_eq(u->stop_timeout, 45);
	ck_assert(!u->stop_on_exit);
	ck_assert_uint_eq(u->set, CFG_KEY_EXEC | CFG_KEY_ARGS | CFG_KEY_START |
	    CFG_KEY_RESTART | CFG_KEY_STOP_TIMEOUT | CFG_KEY_STOP_ON_EXIT |
	    CFG_KEY_START_LIMIT_BURST | CFG_KEY_START_LIMIT_INTERVAL |
	    CFG_KEY_FAILED_COOLDOWN | CFG_KEY_LIMIT_NOFILE |
	    CFG_KEY_LIMIT_MEMLOCK | CFG_KEY_DAEMON_LOG | CFG_KEY_LOG_MAX_SIZE |
	    CFG_KEY_LOG_KEEP);
	ck_assert_uint_eq(u->env.n, 2);
	ck_assert_str_eq(u->env.v[0], "LIBVIRT_DEBUG=1");
	ck_assert_str_eq(u->env.v[1], "LIBVIRT_LOG_OUTPUTS=1:stderr");
}
END_TEST

START_TEST(full_config_parses_supervision_keys)
{
	struct unit_conf *u;

	assert_clean(full_config);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->start_limit_burst, 3);
	ck_assert_uint_eq(u->start_limit_interval, 20);
	ck_assert_uint_eq(u->failed_cooldown, 60);
	ck_assert_uint_eq(u->limit_nofile, 64 * 1024);
	ck_assert_uint_eq(u->limit_memlock, CFG_LIMIT_INFINITY);
	ck_assert_int_eq(u->log, DAEMON_LOG_FILE);
	ck_assert_uint_eq(u->log_max_size, 2 * 1024 * 1024);
	ck_assert_uint_eq(u->log_keep, 0);
	u = must_find("mydaemon");
	ck_assert_int_eq(u->log, DAEMON_LOG_STDERR);
	ck_assert_uint_eq(u->limit_memlock, 64 * 1024 * 1024);
	ck_assert_uint_eq(u->set, CFG_KEY_EXEC | CFG_KEY_DAEMON_LOG |
	    CFG_KEY_LIMIT_MEMLOCK);
}
END_TEST

START_TEST(full_config_parses_sockets_in_order)
{
	struct unit_conf *u;

	assert_clean(full_config);
	u = must_find("virtqemud");
	ck_assert_uint_eq(u->nsockets, 3);
	ck_assert_str_eq(u->sockets[0].name, "virtqemud.socket");
	ck_assert_str_eq(u->sockets[0].path, "virtqemud-sock");
	ck_assert_uint_eq(u->sockets[0].mode, 0660);
	ck_assert_str_eq(u->sockets[0].group, "libvirt");
	ck_assert_str_eq(u->sockets[1].name, "virtqemud-admin.socket");
	ck_assert_str_eq(u->sockets[1].path, "/run/vb/admin-sock");
	ck_assert_uint_eq(u->sockets[1].mode, 0600);
	ck_assert_ptr_null(u->sockets[1].group);
	ck_assert_str_eq(u->sockets[2].name, "virtqemud-ro.socket");
	ck_assert_uint_eq(u->sockets[2].mode, 0600);	/* the default */
	ck_assert_ptr_null(u->sockets[2].group);
	u = must_find("mydaemon");
	ck_assert_int_eq(u->line, 31);
	ck_assert_uint_eq(u->nsockets, 1);
	ck_assert_str_eq(u->sockets[0].name, "my daemon.socket");
}
END_TEST

START_TEST(defaults_without_keys)
{
	struct unit_conf *u;

	assert_clean("[virtnetworkd]\n");
	ck_assert_int_eq(t_cfg->mode, BROKER_MODE_SESSION);
	ck_assert_ptr_null(t_cfg->runtime_dir);
	ck_assert_str_eq(t_cfg->search_path, CFG_DEFAULT_SEARCH_PATH);
	ck_assert(!t_cfg->log_syslog);
	ck_assert_uint_eq(t_cfg->backlog, CFG_DEFAULT_BACKLOG);
	ck_assert_ptr_null(t_cfg->log_dir);
	ck_assert_uint_eq(t_cfg->set, 0);
	u = must_find("virtnetworkd");
	ck_assert_uint_eq(u->set, 0);
	ck_assert_ptr_null(u->exec);
	ck_assert_uint_eq(u->args.n, 0);
	ck_assert_int_eq(u->start, START_ON_DEMAND);
	ck_assert_int_eq(u->restart, RESTART_ON_FAILURE);
	ck_assert_uint_eq(u->stop_timeout, CFG_DEFAULT_STOP_TIMEOUT);
	ck_assert(u->stop_on_exit);
	ck_assert_uint_eq(u->nsockets, 0);
	ck_assert_uint_eq(u->env.n, 0);
	ck_assert_uint_eq(u->start_limit_burst, CFG_DEFAULT_START_LIMIT_BURST);
	ck_assert_uint_eq(u->start_limit_interval,
	    CFG_DEFAULT_START_LIMIT_INTERVAL);
	ck_assert_uint_eq(u->failed_cooldown, CFG_DEFAULT_FAILED_COOLDOWN);
	ck_assert_uint_eq(u->limit_nofile, 0);
	ck_assert_uint_eq(u->limit_memlock, 0);
	ck_assert_int_eq(u->log, DAEMON_LOG_FILE);
	ck_assert_uint_eq(u->log_max_size, CFG_DEFAULT_LOG_MAX_SIZE);
	ck_assert_uint_eq(u->log_keep, CFG_DEFAULT_LOG_KEEP);
}
END_TEST

START_TEST(empty_config_has_no_errors)
{
	assert_clean("");
	ck_assert_uint_eq(t_cfg->nunits, 0);
	assert_clean("\n\n   \n\t\n");
	ck_assert_uint_eq(t_cfg->nunits, 0);
}
END_TEST

START_TEST(comments_are_ignored)
{
	struct unit_conf *u;

	assert_clean("; a comment\n"
	    "# another comment\n"
	    "   ; an indented comment\n"
	    "[virtqemud] ; trailing comment\n"
	    "exec = /usr/sbin/virtqemud ; the binary\n"
	    "args = --timeout 5 ; idle exit\n"
	    "#exec = /nope\n");
	u = must_find("virtqemud");
	ck_assert_str_eq(u->exec, "/usr/sbin/virtqemud");
	ck_assert_uint_eq(u->args.n, 2);
	ck_assert_str_eq(u->args.v[1], "5");
}
END_TEST

START_TEST(section_without_keys_creates_unit)
{
	struct unit_conf *u;

	assert_clean("[broker]\nmode = session\n\n[virtlogd]\n");
	ck_assert_uint_eq(t_cfg->nunits, 1);
	u = must_find("virtlogd");
	ck_assert_str_eq(u->name, "virtlogd");
	ck_assert_int_eq(u->line, 4);
}
END_TEST

START_TEST(broker_section_is_not_a_unit)
{
	assert_clean("[broker]\nlog = stderr\n");
	ck_assert_uint_eq(t_cfg->nunits, 0);
	ck_assert_ptr_null(cfg_find_unit(t_cfg, "broker"));
	ck_assert(!t_cfg->log_syslog);
}
END_TEST

START_TEST(find_unit_returns_null_for_unknown)
{
	assert_clean("[virtqemud]\n[virtlogd]\n");
	ck_assert_ptr_eq(cfg_find_unit(t_cfg, "virtlogd"), &t_cfg->units[1]);
	ck_assert_ptr_null(cfg_find_unit(t_cfg, "virtlockd"));
	ck_assert_ptr_null(cfg_find_unit(t_cfg, "virtqemu"));
	ck_assert_ptr_null(cfg_find_unit(t_cfg, ""));
}
END_TEST

START_TEST(bool_spellings)
{
	const char *yes[] = { "yes", "true", "on", "1" };
	const char *no[] = { "no", "false", "off", "0" };
	char buf[64];

	for (size_t i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "[u]\nstop_on_exit = %s\n", no[i]);
		assert_clean(buf);
		ck_assert(!must_find("u")->stop_on_exit);
		snprintf(buf, sizeof(buf), "[u]\nstop_on_exit = %s\n", yes[i]);
		assert_clean(buf);
		ck_assert(must_find("u")->stop_on_exit);
	}
}
END_TEST

START_TEST(policy_spellings)
{
	assert_clean("[u]\nstart = on-demand\nrestart = on-failure\n");
	ck_assert_int_eq(must_find("u")->start, START_ON_DEMAND);
	ck_assert_int_eq(must_find("u")->restart, RESTART_ON_FAILURE);
	assert_clean("[u]\nstart = disabled\nrestart = no\n");
	ck_assert_int_eq(must_find("u")->start, START_DISABLED);
	ck_assert_int_eq(must_find("u")->restart, RESTART_NO);
	assert_clean("[broker]\nmode = session\n");
	ck_assert_int_eq(t_cfg->mode, BROKER_MODE_SESSION);
	ck_assert_uint_eq(t_cfg->set, CFG_KEY_MODE);
}
END_TEST

START_TEST(stop_timeout_bounds_accepted)
{
	assert_clean("[u]\nstop_timeout = 1\n");
	ck_assert_uint_eq(must_find("u")->stop_timeout, 1);
	assert_clean("[u]\nstop_timeout = 3600\n");
	ck_assert_uint_eq(must_find("u")->stop_timeout, 3600);
}
END_TEST

START_TEST(socket_mode_bounds_accepted)
{
	assert_clean("[u]\nsocket = a.socket a-sock 0\n"
	    "socket = b.socket b-sock 0777\nsocket = c.socket c-sock 666\n");
	ck_assert_uint_eq(must_find("u")->sockets[0].mode, 0);
	ck_assert_uint_eq(must_find("u")->sockets[1].mode, 0777);
	ck_assert_uint_eq(must_find("u")->sockets[2].mode, 0666);
}
END_TEST

START_TEST(supervision_bounds_accepted)
{
	struct unit_conf *u;

	assert_clean("[u]\nstart_limit_burst = 64\nstart_limit_interval = "
	    "86400\nfailed_cooldown = 1\nlimit_nofile = infinity\n"
	    "limit_memlock = 1\nlog = syslog\nlog_max_size = 4096\n"
	    "log_keep = 100\n");
	u = must_find("u");
	ck_assert_uint_eq(u->start_limit_burst, 64);
	ck_assert_uint_eq(u->start_limit_interval, 86400);
	ck_assert_uint_eq(u->failed_cooldown, 1);
	ck_assert_uint_eq(u->limit_nofile, CFG_LIMIT_INFINITY);
	ck_assert_uint_eq(u->limit_memlock, 1);
	ck_assert_int_eq(u->log, DAEMON_LOG_SYSLOG);
	ck_assert_uint_eq(u->log_max_size, 4096);
	ck_assert_uint_eq(u->log_keep, 100);
	assert_clean("[u]\nstart_limit_burst = 1\nlog_keep = 0\n"
	    "limit_nofile = 1\n");
	ck_assert_uint_eq(must_find("u")->start_limit_burst, 1);
	ck_assert_uint_eq(must_find("u")->limit_nofile, 1);
}
END_TEST

START_TEST(empty_args_allowed)
{
	assert_clean("[virtqemud]\nargs =\n");
	ck_assert_uint_eq(must_find("virtqemud")->set, CFG_KEY_ARGS);
	ck_assert_uint_eq(must_find("virtqemud")->args.n, 0);
}
END_TEST

START_TEST(colon_delimiter_and_crlf_accepted)
{
	assert_clean("[virtqemud]\r\nexec: /usr/sbin/virtqemud\r\n");
	ck_assert_str_eq(must_find("virtqemud")->exec, "/usr/sbin/virtqemud");
}
END_TEST

START_TEST(utf8_bom_is_skipped)
{
	assert_clean("\xEF\xBB\xBF[virtqemud]\nexec = /usr/sbin/virtqemud\n");
	ck_assert_str_eq(must_find("virtqemud")->exec, "/usr/sbin/virtqemud");
}
END_TEST

/* Unit names are valid up to 64 bytes, so their keys must be kept. */
/* inih cuts section names at 49 bytes: 48 is the longest unit name. */
START_TEST(long_unit_name_keeps_its_keys)
{
	char name[65], text[256], want[256];

	memset(name, 'd', CFG_UNIT_NAME_MAX);
	name[CFG_UNIT_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), "[%s]\nexec = /usr/sbin/x\n", name);
	assert_clean(text);
	ck_assert_str_eq(must_find(name)->exec, "/usr/sbin/x");
	cfg_free(t_cfg);
	t_cfg = NULL;
	memset(name, 'd', 60);
	name[60] = '\0';
	snprintf(text, sizeof(text), "[%s]\nexec = /usr/sbin/x\n", name);
	snprintf(want, sizeof(want), F ":1: [%s] invalid unit name (letters, "
	    "digits, '_', '.', '@', '-'; at most 48)", name);
	assert_error(text, want);
}
END_TEST

START_TEST(line_of_198_bytes_is_accepted)
{
	char *text;

	t_str = line_of("exec", 198);
	text = malloc(strlen(t_str) + 16);
	ck_assert_ptr_nonnull(text);
	sprintf(text, "[u]\n%s\n", t_str);
	parse(text);
	free(text);
	ck_assert_msg(t_cfg->errors.n == 0, "%s", t_cfg->errors.v[0]);
	/* The whole value arrived: 198 bytes minus "exec = ". */
	ck_assert_uint_eq(strlen(must_find("u")->exec), 198 - 7);
}
END_TEST

/* --- one error each, as FILE:LINE: message --- */

START_TEST(error_unknown_broker_key)
{
	assert_error("[broker]\nmode = session\nbogus = 1\n",
	    F ":3: [broker] unknown key 'bogus'");
}
END_TEST

START_TEST(error_unknown_unit_key)
{
	assert_error("\n[virtqemud]\nexce = /usr/sbin/virtqemud\n",
	    F ":3: [unit virtqemud] unknown key 'exce'");
}
END_TEST

START_TEST(error_bad_mode)
{
	assert_error("[broker]\nmode = user\n",
	    F ":2: [broker] mode: 'user' is not session or system");
}
END_TEST

START_TEST(error_bad_start)
{
	assert_error("[virtqemud]\nstart = sometimes\n",
	    F ":2: [unit virtqemud] start: 'sometimes' is not on-demand, "
	    "at-launch or disabled");
}
END_TEST

START_TEST(error_bad_restart)
{
	assert_error("[virtqemud]\nrestart = never\n",
	    F ":2: [unit virtqemud] restart: 'never' is not on-failure, "
	    "always or no");
}
END_TEST

START_TEST(error_bad_bool)
{
	assert_error("[virtlogd]\nstop_on_exit = maybe\n",
	    F ":2: [unit virtlogd] stop_on_exit: 'maybe' is not yes or no");
}
END_TEST

START_TEST(error_stop_timeout_zero)
{
	assert_error("[u]\nstop_timeout = 0\n",
	    F ":2: [unit u] stop_timeout: '0' is not a number of seconds "
	    "from 1 to 3600");
}
END_TEST

START_TEST(error_stop_timeout_too_big)
{
	assert_error("[u]\nstop_timeout = 3601\n",
	    F ":2: [unit u] stop_timeout: '3601' is not a number of seconds "
	    "from 1 to 3600");
}
END_TEST

START_TEST(error_stop_timeout_not_a_number)
{
	assert_error("[u]\nstop_timeout = abc\n",
	    F ":2: [unit u] stop_timeout: 'abc' is not a number of seconds "
	    "from 1 to 3600");
	assert_error("[u]\nstop_timeout = -5\n",
	    F ":2: [unit u] stop_timeout: '-5' is not a number of seconds "
	    "from 1 to 3600");
	assert_error("[u]\nstop_timeout = 10s\n",
	    F ":2: [unit u] stop_timeout: '10s' is not a number of seconds "
	    "from 1 to 3600");
}
END_TEST

START_TEST(error_exec_relative)
{
	assert_error("[virtqemud]\nexec = virtqemud\n",
	    F ":2: [unit virtqemud] exec: 'virtqemud' is not an absolute path "
	    "(put arguments in 'args')");
}
END_TEST

START_TEST(error_exec_with_arguments)
{
	assert_error("[virtqemud]\nexec = /usr/sbin/virtqemud -v\n",
	    F ":2: [unit virtqemud] exec: '/usr/sbin/virtqemud -v' is not an "
	    "absolute path (put arguments in 'args')");
}
END_TEST

START_TEST(error_args_unterminated_quote)
{
	assert_error("[virtqemud]\nargs = --timeout \"120\n",
	    F ":2: [unit virtqemud] args: unterminated quote or trailing "
	    "backslash in '--timeout \"120'");
}
END_TEST

START_TEST(error_socket_one_word)
{
	assert_error("[u]\nsocket = u.socket\n",
	    F ":2: [unit u] socket: expected 'NAME PATH [MODE [GROUP]]', got "
	    "'u.socket'");
}
END_TEST

START_TEST(error_socket_five_words)
{
	assert_error("[u]\nsocket = u.socket u-sock 0600 libvirt extra\n",
	    F ":2: [unit u] socket: expected 'NAME PATH [MODE [GROUP]]', got "
	    "'u.socket u-sock 0600 libvirt extra'");
}
END_TEST

START_TEST(error_socket_fd_name_with_colon)
{
	assert_error("[u]\nsocket = u:x.socket u-sock\n",
	    F ":2: [unit u] socket: invalid fd name 'u:x.socket' (printable "
	    "ASCII, no ':', at most 255 bytes)");
}
END_TEST

START_TEST(error_socket_path_with_dotdot)
{
	assert_error("[u]\nsocket = u.socket ../u-sock\n",
	    F ":2: [unit u] socket: invalid path '../u-sock' (no '.' or '..' "
	    "parts, under 108 bytes; or tcp:[HOST:]PORT)");
	assert_error("[u]\nsocket = u.socket /run/../u-sock\n",
	    F ":2: [unit u] socket: invalid path '/run/../u-sock' (no '.' or "
	    "'..' parts, under 108 bytes; or tcp:[HOST:]PORT)");
}
END_TEST

START_TEST(error_socket_path_too_long)
{
	char text[256], path[109];

	memset(path, 'p', 108);
	path[108] = '\0';
	snprintf(text, sizeof(text), "[u]\nsocket = u.socket %s\n", path);
	parse(text);
	ck_assert_uint_eq(t_cfg->errors.n, 1);
	ck_assert_ptr_nonnull(strstr(t_cfg->errors.v[0],
	    F ":2: [unit u] socket: invalid path 'ppp"));
}
END_TEST

START_TEST(error_socket_mode_not_octal)
{
	assert_error("[u]\nsocket = u.socket u-sock 0800\n",
	    F ":2: [unit u] socket: invalid mode '0800' (octal, 0 to 0777)");
}
END_TEST

START_TEST(error_socket_mode_symbolic)
{
	assert_error("[u]\nsocket = u.socket u-sock rw\n",
	    F ":2: [unit u] socket: invalid mode 'rw' (octal, 0 to 0777)");
}
END_TEST

START_TEST(error_socket_mode_too_big)
{
	assert_error("[u]\nsocket = u.socket u-sock 01777\n",
	    F ":2: [unit u] socket: invalid mode '01777' (octal, 0 to 0777)");
}
END_TEST

START_TEST(error_env_without_equals)
{
	assert_error("[u]\nenv = LIBVIRT_DEBUG\n",
	    F ":2: [unit u] env: expected 'NAME=VALUE', got 'LIBVIRT_DEBUG'");
}
END_TEST

START_TEST(error_env_bad_name)
{
	assert_error("[u]\nenv = 1X=2\n",
	    F ":2: [unit u] env: expected 'NAME=VALUE', got '1X=2'");
	assert_error("[u]\nenv = =2\n",
	    F ":2: [unit u] env: expected 'NAME=VALUE', got '=2'");
}
END_TEST

START_TEST(error_env_sets_listen_fds)
{
	assert_error("[u]\nenv = LISTEN_FDS=3\n",
	    F ":2: [unit u] env: LISTEN_FDS is set by the broker");
	assert_error("[u]\nenv = LISTEN_FDNAMES=a\n",
	    F ":2: [unit u] env: LISTEN_FDNAMES is set by the broker");
}
END_TEST

START_TEST(error_key_outside_section)
{
	assert_error("exec = /usr/sbin/virtqemud\n",
	    F ":1: key 'exec' outside any section (start with [broker] or "
	    "[UNIT])");
}
END_TEST

START_TEST(error_line_without_equals)
{
	assert_error("[broker]\njust some words\n",
	    F ":2: expected 'key = value' or '[section]'");
}
END_TEST

START_TEST(error_key_name_missing)
{
	assert_error("[broker]\n= session\n",
	    F ":2: key name missing before '='");
}
END_TEST

START_TEST(error_section_without_bracket)
{
	assert_error("[broker]\nmode = session\n[virtqemud\n",
	    F ":3: section header without ']'");
}
END_TEST

START_TEST(error_indented_line)
{
	assert_error("[virtqemud]\nexec = /usr/sbin/virtqemud\n"
	    "  --timeout 5\n",
	    F ":3: line starts with white space (continuation lines are not "
	    "supported)");
	ck_assert_str_eq(must_find("virtqemud")->exec, "/usr/sbin/virtqemud");
	assert_error("[virtqemud]\n\texec = /usr/sbin/virtqemud\n",
	    F ":2: line starts with white space (continuation lines are not "
	    "supported)");
	ck_assert_ptr_null(must_find("virtqemud")->exec);
}
END_TEST

START_TEST(error_duplicate_unit_key)
{
	assert_error("[virtqemud]\nexec = /a/virtqemud\nexec = /b/virtqemud\n",
	    F ":3: [unit virtqemud] key 'exec' given twice");
	ck_assert_str_eq(must_find("virtqemud")->exec, "/a/virtqemud");
}
END_TEST

/* A repeated section is an error, but its keys are still checked. */
START_TEST(error_repeated_unit_section)
{
	struct unit_conf *u;

	assert_error("[virtqemud]\n"
	    "exec = /a/virtqemud\n"
	    "[virtlogd]\n"
	    "[virtqemud]\n"					/* 4 */
	    "args = -v\n"
	    "socket = q.socket q-sock\n",
	    F ":4: [virtqemud] repeated; its first section is at line 1");
	ck_assert_uint_eq(t_cfg->nunits, 2);
	u = must_find("virtqemud");
	ck_assert_int_eq(u->line, 1);
	ck_assert_str_eq(u->exec, "/a/virtqemud");
	ck_assert_uint_eq(u->args.n, 1);
	ck_assert_uint_eq(u->nsockets, 1);
}
END_TEST

START_TEST(error_repeated_broker_section)
{
	assert_error("; comment\n"
	    "[broker]\n"						/* 2 */
	    "mode = session\n"
	    "[virtqemud]\n"
	    "[broker]\n"						/* 5 */
	    "log = syslog\n",
	    F ":5: [broker] repeated; its first section is at line 2");
	ck_assert_uint_eq(t_cfg->nunits, 1);
	ck_assert(t_cfg->log_syslog);
}
END_TEST

START_TEST(error_repeated_sections_all_reported)
{
	parse("[a]\n"						/* 1 */
	    "[broker]\n"						/* 2 */
	    "[b]\n"							/* 3 */
	    "[a]\n"							/* 4 */
	    "bogus = 1\n"						/* 5 */
	    "[broker]\n"						/* 6 */
	    "[b]\n"							/* 7 */
	    "[a]\n");							/* 8 */
	ck_assert_uint_eq(t_cfg->errors.n, 5);
	ck_assert_str_eq(t_cfg->errors.v[0],
	    F ":4: [a] repeated; its first section is at line 1");
	ck_assert_str_eq(t_cfg->errors.v[1],
	    F ":5: [unit a] unknown key 'bogus'");
	ck_assert_str_eq(t_cfg->errors.v[2],
	    F ":6: [broker] repeated; its first section is at line 2");
	ck_assert_str_eq(t_cfg->errors.v[3],
	    F ":7: [b] repeated; its first section is at line 3");
	ck_assert_str_eq(t_cfg->errors.v[4],
	    F ":8: [a] repeated; its first section is at line 1");
	ck_assert_uint_eq(t_cfg->nunits, 2);
}
END_TEST

START_TEST(error_duplicate_key_across_repeated_section)
{
	parse("[u]\nstart = at-launch\n[v]\n[u]\nstart = disabled\n");
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0],
	    F ":4: [u] repeated; its first section is at line 1");
	ck_assert_str_eq(t_cfg->errors.v[1],
	    F ":5: [unit u] key 'start' given twice");
	ck_assert_int_eq(must_find("u")->start, START_AT_LAUNCH);
}
END_TEST

/* Each cfg_parse() is one file: its sections are its own. */
START_TEST(sections_of_an_earlier_parse_are_not_repeats)
{
	parse("[broker]\nmode = session\n[u]\n");
	ck_assert_int_eq(cfg_parse_string(t_cfg, "[broker]\nlog = syslog\n"
	    "[u]\n"), 0);
	ck_assert(t_cfg->log_syslog);
	ck_assert_uint_eq(t_cfg->nunits, 1);
}
END_TEST

START_TEST(error_duplicate_broker_key)
{
	assert_error("[broker]\nmode = session\nmode = system\n",
	    F ":3: [broker] key 'mode' given twice");
	ck_assert_int_eq(t_cfg->mode, BROKER_MODE_SESSION);
}
END_TEST

START_TEST(error_invalid_unit_name)
{
	assert_error("[bad name]\nexec = /usr/sbin/x\n",
	    F ":1: [bad name] invalid unit name (letters, digits, '_', '.', "
	    "'@', '-'; at most 48)");
	ck_assert_uint_eq(t_cfg->nunits, 0);
	assert_error("[-x]\n", F ":1: [-x] invalid unit name (letters, "
	    "digits, '_', '.', '@', '-'; at most 48)");
	assert_error("[]\n", F ":1: [] invalid unit name (letters, digits, "
	    "'_', '.', '@', '-'; at most 48)");
	ck_assert_uint_eq(t_cfg->nunits, 0);
}
END_TEST

START_TEST(error_unit_name_over_64_bytes)
{
	char name[66], text[128];

	memset(name, 'n', 65);
	name[65] = '\0';
	snprintf(text, sizeof(text), "[%s]\n", name);
	parse(text);
	ck_assert_uint_eq(t_cfg->errors.n, 1);
	ck_assert_ptr_nonnull(strstr(t_cfg->errors.v[0], "invalid unit name"));
	ck_assert_uint_eq(t_cfg->nunits, 0);
}
END_TEST

START_TEST(error_empty_unit_value)
{
	assert_error("[u]\nexec =\n", F ":2: [unit u] exec: empty value");
}
END_TEST

START_TEST(error_broker_values)
{
	assert_error("[broker]\nruntime_dir = run/libvirt\n",
	    F ":2: [broker] runtime_dir: 'run/libvirt' is not xdg or a "
	    "clean absolute path of at most 80 bytes");
	assert_error("[broker]\nsearch_path = /usr/sbin:\n",
	    F ":2: [broker] search_path: '/usr/sbin:' is not a ':'-separated "
	    "list of absolute directories");
	assert_error("[broker]\nlog = file:/x\n",
	    F ":2: [broker] log: 'file:/x' is not stderr or syslog");
	assert_error("[broker]\nbacklog = 0\n",
	    F ":2: [broker] backlog: '0' is not a number from 1 to 65535");
}
END_TEST

START_TEST(error_start_limit_burst_out_of_range)
{
	assert_error("[u]\nstart_limit_burst = 0\n",
	    F ":2: [unit u] start_limit_burst: '0' is not a number from 1 to "
	    "64");
	assert_error("[u]\nstart_limit_burst = 65\n",
	    F ":2: [unit u] start_limit_burst: '65' is not a number from 1 to "
	    "64");
}
END_TEST

START_TEST(error_start_limit_interval_out_of_range)
{
	assert_error("[u]\nstart_limit_interval = 0\n",
	    F ":2: [unit u] start_limit_interval: '0' is not a number of "
	    "seconds from 1 to 86400");
	assert_error("[u]\nstart_limit_interval = 86401\n",
	    F ":2: [unit u] start_limit_interval: '86401' is not a number of "
	    "seconds from 1 to 86400");
}
END_TEST

START_TEST(error_failed_cooldown_out_of_range)
{
	assert_error("[u]\nfailed_cooldown = 0\n",
	    F ":2: [unit u] failed_cooldown: '0' is not a number of seconds "
	    "from 1 to 86400");
	assert_error("[u]\nfailed_cooldown = 1m\n",
	    F ":2: [unit u] failed_cooldown: '1m' is not a number of seconds "
	    "from 1 to 86400");
}
END_TEST

START_TEST(holder_timeout_parses_and_bounds)
{
	assert_clean("");
	ck_assert_uint_eq(t_cfg->holder_timeout, CFG_DEFAULT_HOLDER_TIMEOUT);
	assert_clean("[broker]\nholder_timeout = 0\n");
	ck_assert_uint_eq(t_cfg->holder_timeout, 0);
	assert_error("[broker]\nholder_timeout = 86401\n",
	    F ":2: [broker] holder_timeout: '86401' is not a number of "
	    "seconds from 0 to 86400");
	assert_error("[broker]\nholder_timeout = soon\n",
	    F ":2: [broker] holder_timeout: 'soon' is not a number of "
	    "seconds from 0 to 86400");
}
END_TEST

START_TEST(error_limit_nofile_zero_or_words)
{
	static const char *const bad[] = { "0", "lots", "1024:", ":4096",
	    "4096:1024", "0:10", "1:0", "1:2:3", "1024:lots",
	    "123456789012345678901234567890:1" };
	char text[128], want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[u]\nlimit_nofile = %s\n",
		    bad[i]);
		snprintf(want, sizeof(want), F ":2: [unit u] limit_nofile: "
		    "'%s' is not SOFT or SOFT:HARD, each a positive number or "
		    "infinity, SOFT <= HARD", bad[i]);
		assert_error(text, want);
	}
}
END_TEST

/* systemd's LimitNOFILE=SOFT:HARD form, as libvirt 11.x's units use. */
START_TEST(limit_nofile_soft_and_hard)
{
	uint64_t soft, hard;

	ck_assert_int_eq(cfg_parse_soft_hard("1024:524288", &soft, &hard), 0);
	ck_assert_uint_eq(soft, 1024);
	ck_assert_uint_eq(hard, 524288);
	ck_assert_int_eq(cfg_parse_soft_hard("8192", &soft, &hard), 0);
	ck_assert_uint_eq(soft, 8192);
	ck_assert_uint_eq(hard, 0);
	ck_assert_int_eq(cfg_parse_soft_hard("1K:infinity", &soft, &hard), 0);
	ck_assert_uint_eq(soft, 1024);
	ck_assert_uint_eq(hard, CFG_LIMIT_INFINITY);
	ck_assert_int_eq(cfg_parse_soft_hard("4096:4096", &soft, &hard), 0);
	ck_assert_int_eq(cfg_parse_soft_hard("infinity:1024", &soft, &hard),
	    -EINVAL);
}
END_TEST

START_TEST(error_limit_memlock_zero)
{
	assert_error("[u]\nlimit_memlock = 0\n",
	    F ":2: [unit u] limit_memlock: '0' is not a positive size (e.g. "
	    "64M) or infinity");
}
END_TEST

START_TEST(error_limit_memlock_bad_suffix)
{
	assert_error("[u]\nlimit_memlock = 64MB\n",
	    F ":2: [unit u] limit_memlock: '64MB' is not a positive size (e.g. 64M) or "
	    "infinity");
	assert_error("[u]\nlimit_memlock = 64m\n",
	    F ":2: [unit u] limit_memlock: '64m' is not a positive size (e.g. 64M) or "
	    "infinity");
}
END_TEST

START_TEST(error_unit_log_target)
{
	assert_error("[u]\nlog = journal\n",
	    F ":2: [unit u] log: 'journal' is not file, syslog or stderr");
}
END_TEST

START_TEST(error_log_max_size_too_small_or_infinite)
{
	assert_error("[u]\nlog_max_size = 4095\n",
	    F ":2: [unit u] log_max_size: '4095' is not a size of at least "
	    "4096 bytes (e.g. 1M)");
	assert_error("[u]\nlog_max_size = infinity\n",
	    F ":2: [unit u] log_max_size: 'infinity' is not a size of at least "
	    "4096 bytes (e.g. 1M)");
}
END_TEST

START_TEST(error_log_keep_out_of_range)
{
	assert_error("[u]\nlog_keep = 101\n",
	    F ":2: [unit u] log_keep: '101' is not a number from 0 to 100");
}
END_TEST

START_TEST(error_log_dir_relative)
{
	assert_error("[broker]\nlog_dir = var/log\n",
	    F ":2: [broker] log_dir: 'var/log' is not a clean absolute path");
	ck_assert_ptr_null(t_cfg->log_dir);
}
END_TEST

START_TEST(error_duplicate_supervision_key)
{
	assert_error("[u]\nstart_limit_burst = 2\nstart_limit_burst = 3\n",
	    F ":3: [unit u] key 'start_limit_burst' given twice");
	ck_assert_uint_eq(must_find("u")->start_limit_burst, 2);
	assert_error("[u]\nlog = syslog\nlog = stderr\n",
	    F ":3: [unit u] key 'log' given twice");
	ck_assert_int_eq(must_find("u")->log, DAEMON_LOG_SYSLOG);
}
END_TEST

/* --- sizes --- */

static void
assert_size(const char *s, int want_r, uint64_t want)
{
	uint64_t v = 12345;

	ck_assert_msg(cfg_parse_size(s, &v) == want_r, "'%s': expected %d",
	    s, want_r);
	if (want_r == 0)
		ck_assert_msg(v == want, "'%s': %llu, expected %llu", s,
		    (unsigned long long)v, (unsigned long long)want);
	else
		ck_assert_uint_eq(v, 12345);	/* untouched */
}

START_TEST(size_plain_numbers)
{
	assert_size("0", 0, 0);
	assert_size("1", 0, 1);
	assert_size("8192", 0, 8192);
}
END_TEST

START_TEST(size_suffixes_are_powers_of_1024)
{
	assert_size("1K", 0, 1024);
	assert_size("64M", 0, 64ULL << 20);
	assert_size("2G", 0, 2ULL << 30);
}
END_TEST

START_TEST(size_infinity)
{
	assert_size("infinity", 0, CFG_LIMIT_INFINITY);
}
END_TEST

START_TEST(size_rejects_malformed)
{
	assert_size("", -EINVAL, 0);
	assert_size("K", -EINVAL, 0);
	assert_size("-1", -EINVAL, 0);
	assert_size(" 1", -EINVAL, 0);
	assert_size("1k", -EINVAL, 0);
	assert_size("1T", -EINVAL, 0);
	assert_size("1KB", -EINVAL, 0);
	assert_size("1 K", -EINVAL, 0);
	assert_size("Infinity", -EINVAL, 0);
}
END_TEST

START_TEST(size_rejects_overflow)
{
	/* The largest finite value is just below CFG_LIMIT_INFINITY. */
	assert_size("18446744073709551614", 0, UINT64_MAX - 1);
	assert_size("18446744073709551615", -ERANGE, 0);
	assert_size("99999999999999999999", -ERANGE, 0);
	assert_size("17179869184G", -ERANGE, 0);
	assert_size("17179869183G", 0, 17179869183ULL << 30);
}
END_TEST

/* --- overlong lines and several errors --- */

START_TEST(error_overlong_line_named_and_parsing_goes_on)
{
	char *text;

	t_str = line_of("exec", 199);
	text = malloc(strlen(t_str) + 64);
	ck_assert_ptr_nonnull(text);
	sprintf(text, "[u]\n%s\nbogus = 1\nargs = -v\n", t_str);
	parse(text);
	free(text);
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0],
	    F ":2: line too long (at most 198 bytes)");
	ck_assert_str_eq(t_cfg->errors.v[1],
	    F ":3: [unit u] unknown key 'bogus'");
	/* The truncated value was not taken, the next line was. */
	ck_assert_ptr_null(must_find("u")->exec);
	ck_assert_uint_eq(must_find("u")->args.n, 1);
}
END_TEST

START_TEST(error_very_long_line_counts_as_one_line)
{
	char *text;

	t_str = line_of("args", 1000);
	text = malloc(strlen(t_str) + 64);
	ck_assert_ptr_nonnull(text);
	sprintf(text, "[u]\n%s\nexec = rel\n", t_str);
	parse(text);
	free(text);
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0],
	    F ":2: line too long (at most 198 bytes)");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":3: [unit u] exec: 'rel' is "
	    "not an absolute path (put arguments in 'args')");
}
END_TEST

START_TEST(error_long_last_line_without_newline)
{
	char *text;

	t_str = line_of("exec", 250);
	text = malloc(strlen(t_str) + 16);
	ck_assert_ptr_nonnull(text);
	sprintf(text, "[u]\n%s", t_str);
	parse(text);
	free(text);
	ck_assert_uint_eq(t_cfg->errors.n, 1);
	ck_assert_str_eq(t_cfg->errors.v[0],
	    F ":2: line too long (at most 198 bytes)");
}
END_TEST

/* --- NUL bytes: fgets() would stop at one without telling --- */

START_TEST(error_nul_byte_in_value_named_and_next_line_kept)
{
	PARSE_BYTES("[u]\n"
	    "exec = /a/b\0c\n"					/* 2 */
	    "args = -v\n"
	    "bogus = 1\n");					/* 4 */
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: NUL byte in the line");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":4: [unit u] unknown key "
	    "'bogus'");
	ck_assert_ptr_null(must_find("u")->exec);
	ck_assert_uint_eq(must_find("u")->args.n, 1);
}
END_TEST

START_TEST(error_nul_byte_in_last_line_without_newline)
{
	PARSE_BYTES("[u]\nexec = /a/b\0/c");
	ck_assert_uint_eq(t_cfg->errors.n, 1);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: NUL byte in the line");
	ck_assert_ptr_null(must_find("u")->exec);
}
END_TEST

START_TEST(error_nul_byte_at_line_start_and_alone)
{
	PARSE_BYTES("[u]\n"
	    "\0exec = /x\n"						/* 2 */
	    "\0\n"							/* 3 */
	    "exec = rel\n");						/* 4 */
	ck_assert_uint_eq(t_cfg->errors.n, 3);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: NUL byte in the line");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":3: NUL byte in the line");
	ck_assert_str_eq(t_cfg->errors.v[2], F ":4: [unit u] exec: 'rel' is "
	    "not an absolute path (put arguments in 'args')");
}
END_TEST

START_TEST(error_nul_byte_in_header_drops_the_section)
{
	PARSE_BYTES("[broker]\n"
	    "[u\0v]\n"						/* 2 */
	    "log = stderr\n");
	ck_assert_uint_eq(t_cfg->errors.n, 1);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: NUL byte in the line");
	ck_assert_uint_eq(t_cfg->nunits, 0);
	ck_assert(!t_cfg->log_syslog);	/* still [broker] */
}
END_TEST

START_TEST(error_nul_byte_in_overlong_line_is_one_error)
{
	char *text;
	size_t len;

	t_str = line_of("exec", 300);
	t_str[250] = '\0';
	text = malloc(300 + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "[u]\n", 4);
	memcpy(text + 4, t_str, 300);
	len = 4 + 300;
	memcpy(text + len, "\nexec = rel\n", 12);
	len += 12;
	parse_bytes(text, len);
	free(text);
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: NUL byte in the line");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":3: [unit u] exec: 'rel' is "
	    "not an absolute path (put arguments in 'args')");
}
END_TEST

START_TEST(every_error_reported_in_line_order)
{
	parse("exec = /outside\n"				/* 1 */
	    "[broker]\n"
	    "mode = user\n"					/* 3 */
	    "colour = blue\n"					/* 4 */
	    "[virtqemud]\n"
	    "start = sometimes\n"				/* 6 */
	    "socket = only-one-word\n"				/* 7 */
	    "exec = /usr/sbin/virtqemud\n"
	    "exec = /usr/sbin/virtqemud\n"			/* 9 */
	    "[bad name]\n"					/* 10 */
	    "exec = ignored\n"
	    "no equals sign\n"					/* 12 */
	    "[virtlogd]\n"
	    "env = LISTEN_PID=1\n"				/* 14 */
	    "  indented = 1\n"					/* 15 */
	    "stop_timeout = 0\n");				/* 16 */
	ck_assert_uint_eq(t_cfg->errors.n, 11);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":1: key 'exec' outside any "
	    "section (start with [broker] or [UNIT])");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":3: [broker] mode: 'user' is "
	    "not session or system");
	ck_assert_str_eq(t_cfg->errors.v[2], F ":4: [broker] unknown key "
	    "'colour'");
	ck_assert_str_eq(t_cfg->errors.v[3], F ":6: [unit virtqemud] start: "
	    "'sometimes' is not on-demand, at-launch or disabled");
	ck_assert_str_eq(t_cfg->errors.v[4], F ":7: [unit virtqemud] socket: "
	    "expected 'NAME PATH [MODE [GROUP]]', got 'only-one-word'");
	ck_assert_str_eq(t_cfg->errors.v[5], F ":9: [unit virtqemud] key "
	    "'exec' given twice");
	ck_assert_str_eq(t_cfg->errors.v[6], F ":10: [bad name] invalid unit "
	    "name (letters, digits, '_', '.', '@', '-'; at most 48)");
	ck_assert_str_eq(t_cfg->errors.v[7], F ":12: expected 'key = value' "
	    "or '[section]'");
	ck_assert_str_eq(t_cfg->errors.v[8], F ":14: [unit virtlogd] env: "
	    "LISTEN_PID is set by the broker");
	ck_assert_str_eq(t_cfg->errors.v[9], F ":15: line starts with white "
	    "space (continuation lines are not supported)");
	ck_assert_str_eq(t_cfg->errors.v[10], F ":16: [unit virtlogd] "
	    "stop_timeout: '0' is not a number of seconds from 1 to 3600");
}
END_TEST

START_TEST(error_count_accumulates_over_parses)
{
	parse("[broker]\nbogus = 1\n");
	ck_assert_int_eq(cfg_parse_string(t_cfg, "[broker]\nother = 2\n"), 2);
	ck_assert_str_eq(t_cfg->errors.v[1], F ":2: [broker] unknown key "
	    "'other'");
}
END_TEST

/*
 * inih itself rejects "name ; = value" (the ';' starts a comment before
 * the '='), which our reader lets through; alone it is a syntax error.
 */
/* "mode ; = session" is "mode" to inih: our reader names the problem. */
START_TEST(error_inih_only_syntax_error_alone)
{
	assert_error("[broker]\nmode ; = session\n",
	    F ":2: expected 'key = value' or '[section]'");
}
END_TEST

START_TEST(error_inih_only_syntax_error_among_others)
{
	parse("[broker]\nbogus = 1\nmode ; = session\n");
	ck_assert_msg(t_cfg->errors.n == 2, "%zu errors, expected 2 (line 3 "
	    "is not reported)", t_cfg->errors.n);
	ck_assert_str_eq(t_cfg->errors.v[0], F ":2: [broker] unknown key "
	    "'bogus'");
	ck_assert_ptr_nonnull(strstr(t_cfg->errors.v[1], F ":3: "));
}
END_TEST

START_TEST(inet_specs_parse)
{
	char host[64];
	unsigned port;

	ck_assert_int_eq(cfg_parse_inet("tcp:16509", host, sizeof(host),
	    &port), 0);
	ck_assert_str_eq(host, "0.0.0.0");
	ck_assert_uint_eq(port, 16509);
	ck_assert_int_eq(cfg_parse_inet("tcp:127.0.0.1:80", host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(cfg_parse_inet("tcp:[::1]:16514", host, sizeof(host),
	    &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_lt(cfg_parse_inet("tcp:host.example:80", host,
	    sizeof(host), &port), 0);		/* numeric only */
	ck_assert_int_lt(cfg_parse_inet("tcp:1.2.3.4:0", host, sizeof(host),
	    &port), 0);
	ck_assert_int_lt(cfg_parse_inet("tcp:1.2.3.4:65536", host,
	    sizeof(host), &port), 0);
	ck_assert_int_lt(cfg_parse_inet("tcp:[::1]16514", host, sizeof(host),
	    &port), 0);
	ck_assert_int_lt(cfg_parse_inet("udp:1", host, sizeof(host), &port),
	    0);
}
END_TEST

START_TEST(listen_and_socket_options_parse)
{
	parse("[u]\nlisten_tcp = yes\nlisten_tls = 10.0.0.1:999\n"
	    "socket_mode = 0666\nsocket_group = libvirt\n"
	    "socket = t.socket tcp:127.0.0.1:5000\n");
	ck_assert_msg(t_cfg->errors.n == 0, "%s", t_cfg->errors.v[0]);
	ck_assert_str_eq(cfg_find_unit(t_cfg, "u")->listen_tcp,
	    "tcp:0.0.0.0:16509");
	ck_assert_str_eq(cfg_find_unit(t_cfg, "u")->listen_tls,
	    "tcp:10.0.0.1:999");
	ck_assert_uint_eq(cfg_find_unit(t_cfg, "u")->socket_mode, 0666);
	ck_assert_str_eq(cfg_find_unit(t_cfg, "u")->socket_group, "libvirt");
	ck_assert_str_eq(cfg_find_unit(t_cfg, "u")->sockets[0].path,
	    "tcp:127.0.0.1:5000");
}
END_TEST

START_TEST(error_listen_tcp_not_an_address)
{
	assert_error("[u]\nlisten_tcp = localhost\n",
	    F ":2: [unit u] listen_tcp: 'localhost' is not yes, no, or a "
	    "numeric address with an optional port");
}
END_TEST

START_TEST(cfg_error_without_line)
{
	t_cfg = cfg_new(F);
	cfg_error(t_cfg, 0, "cannot %s", "resolve");
	cfg_error(t_cfg, 7, "bad %d", 42);
	ck_assert_uint_eq(t_cfg->errors.n, 2);
	ck_assert_str_eq(t_cfg->errors.v[0], F ": cannot resolve");
	ck_assert_str_eq(t_cfg->errors.v[1], F ":7: bad 42");
}
END_TEST

/* --- names --- */

START_TEST(unit_name_validity)
{
	char name[66];

	ck_assert(cfg_unit_name_is_valid("virtqemud"));
	ck_assert(cfg_unit_name_is_valid("my_daemon-2.0@x"));
	ck_assert(!cfg_unit_name_is_valid(""));
	ck_assert(!cfg_unit_name_is_valid("broker"));
	ck_assert(!cfg_unit_name_is_valid("a b"));
	ck_assert(!cfg_unit_name_is_valid("a/b"));
	ck_assert(!cfg_unit_name_is_valid(".hidden"));
	ck_assert(!cfg_unit_name_is_valid("-opt"));
	memset(name, 'n', CFG_UNIT_NAME_MAX);
	name[CFG_UNIT_NAME_MAX] = '\0';
	ck_assert(cfg_unit_name_is_valid(name));
	name[CFG_UNIT_NAME_MAX] = 'n';
	name[CFG_UNIT_NAME_MAX + 1] = '\0';
	ck_assert(!cfg_unit_name_is_valid(name));
}
END_TEST

START_TEST(policy_names)
{
	ck_assert_str_eq(broker_mode_name(BROKER_MODE_SESSION), "session");
	ck_assert_str_eq(broker_mode_name(BROKER_MODE_SYSTEM), "system");
	ck_assert_str_eq(broker_mode_name(BROKER_MODE_MAX), "?");
	ck_assert_str_eq(start_policy_name(START_ON_DEMAND), "on-demand");
	ck_assert_str_eq(start_policy_name(START_AT_LAUNCH), "at-launch");
	ck_assert_str_eq(start_policy_name(START_DISABLED), "disabled");
	ck_assert_str_eq(start_policy_name(START_POLICY_MAX), "?");
	ck_assert_str_eq(restart_policy_name(RESTART_ON_FAILURE), "on-failure");
	ck_assert_str_eq(restart_policy_name(RESTART_ALWAYS), "always");
	ck_assert_str_eq(restart_policy_name(RESTART_NO), "no");
	ck_assert_str_eq(restart_policy_name(RESTART_POLICY_MAX), "?");
	ck_assert_str_eq(daemon_log_name(DAEMON_LOG_FILE), "file");
	ck_assert_str_eq(daemon_log_name(DAEMON_LOG_SYSLOG), "syslog");
	ck_assert_str_eq(daemon_log_name(DAEMON_LOG_STDERR), "stderr");
	ck_assert_str_eq(daemon_log_name(DAEMON_LOG_MAX), "?");
}
END_TEST

START_TEST(cfg_free_null_is_noop)
{
	cfg_free(NULL);
	t_cfg = cfg_new(F);
	ck_assert_str_eq(t_cfg->file, F);
	ck_assert_uint_eq(t_cfg->errors.n, 0);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, full_config_parses_broker_keys);
	tcase_add_test(tc, full_config_parses_unit_keys);
	tcase_add_test(tc, full_config_parses_supervision_keys);
	tcase_add_test(tc, full_config_parses_sockets_in_order);
	tcase_add_test(tc, defaults_without_keys);
	tcase_add_test(tc, empty_config_has_no_errors);
	tcase_add_test(tc, comments_are_ignored);
	tcase_add_test(tc, section_without_keys_creates_unit);
	tcase_add_test(tc, broker_section_is_not_a_unit);
	tcase_add_test(tc, find_unit_returns_null_for_unknown);
	tcase_add_test(tc, bool_spellings);
	tcase_add_test(tc, policy_spellings);
	tcase_add_test(tc, stop_timeout_bounds_accepted);
	tcase_add_test(tc, socket_mode_bounds_accepted);
	tcase_add_test(tc, supervision_bounds_accepted);
	tcase_add_test(tc, empty_args_allowed);
	tcase_add_test(tc, colon_delimiter_and_crlf_accepted);
	tcase_add_test(tc, utf8_bom_is_skipped);
	tcase_add_test(tc, long_unit_name_keeps_its_keys);
	tcase_add_test(tc, line_of_198_bytes_is_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, error_unknown_broker_key);
	tcase_add_test(tc, error_unknown_unit_key);
	tcase_add_test(tc, error_bad_mode);
	tcase_add_test(tc, error_bad_start);
	tcase_add_test(tc, error_bad_restart);
	tcase_add_test(tc, error_bad_bool);
	tcase_add_test(tc, error_stop_timeout_zero);
	tcase_add_test(tc, error_stop_timeout_too_big);
	tcase_add_test(tc, error_stop_timeout_not_a_number);
	tcase_add_test(tc, error_exec_relative);
	tcase_add_test(tc, error_exec_with_arguments);
	tcase_add_test(tc, error_args_unterminated_quote);
	tcase_add_test(tc, error_socket_one_word);
	tcase_add_test(tc, error_socket_five_words);
	tcase_add_test(tc, error_socket_fd_name_with_colon);
	tcase_add_test(tc, error_socket_path_with_dotdot);
	tcase_add_test(tc, error_socket_path_too_long);
	tcase_add_test(tc, error_socket_mode_not_octal);
	tcase_add_test(tc, error_socket_mode_symbolic);
	tcase_add_test(tc, error_socket_mode_too_big);
	tcase_add_test(tc, error_env_without_equals);
	tcase_add_test(tc, error_env_bad_name);
	tcase_add_test(tc, error_env_sets_listen_fds);
	tcase_add_test(tc, error_key_outside_section);
	tcase_add_test(tc, error_line_without_equals);
	tcase_add_test(tc, error_key_name_missing);
	tcase_add_test(tc, error_section_without_bracket);
	tcase_add_test(tc, error_indented_line);
	tcase_add_test(tc, error_duplicate_unit_key);
	tcase_add_test(tc, error_repeated_unit_section);
	tcase_add_test(tc, error_repeated_broker_section);
	tcase_add_test(tc, error_repeated_sections_all_reported);
	tcase_add_test(tc, error_duplicate_key_across_repeated_section);
	tcase_add_test(tc, sections_of_an_earlier_parse_are_not_repeats);
	tcase_add_test(tc, error_duplicate_broker_key);
	tcase_add_test(tc, error_invalid_unit_name);
	tcase_add_test(tc, error_unit_name_over_64_bytes);
	tcase_add_test(tc, error_empty_unit_value);
	tcase_add_test(tc, error_broker_values);
	tcase_add_test(tc, error_start_limit_burst_out_of_range);
	tcase_add_test(tc, error_start_limit_interval_out_of_range);
	tcase_add_test(tc, error_failed_cooldown_out_of_range);
	tcase_add_test(tc, error_limit_nofile_zero_or_words);
	tcase_add_test(tc, limit_nofile_soft_and_hard);
	tcase_add_test(tc, holder_timeout_parses_and_bounds);
	tcase_add_test(tc, error_limit_memlock_bad_suffix);
	tcase_add_test(tc, error_limit_memlock_zero);
	tcase_add_test(tc, inet_specs_parse);
	tcase_add_test(tc, listen_and_socket_options_parse);
	tcase_add_test(tc, error_listen_tcp_not_an_address);
	tcase_add_test(tc, error_unit_log_target);
	tcase_add_test(tc, error_log_max_size_too_small_or_infinite);
	tcase_add_test(tc, error_log_keep_out_of_range);
	tcase_add_test(tc, error_log_dir_relative);
	tcase_add_test(tc, error_duplicate_supervision_key);
	tcase_add_test(tc, cfg_error_without_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("all_errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, error_overlong_line_named_and_parsing_goes_on);
	tcase_add_test(tc, error_very_long_line_counts_as_one_line);
	tcase_add_test(tc, error_long_last_line_without_newline);
	tcase_add_test(tc, error_nul_byte_in_value_named_and_next_line_kept);
	tcase_add_test(tc, error_nul_byte_in_last_line_without_newline);
	tcase_add_test(tc, error_nul_byte_at_line_start_and_alone);
	tcase_add_test(tc, error_nul_byte_in_header_drops_the_section);
	tcase_add_test(tc, error_nul_byte_in_overlong_line_is_one_error);
	tcase_add_test(tc, every_error_reported_in_line_order);
	tcase_add_test(tc, error_count_accumulates_over_parses);
	tcase_add_test(tc, error_inih_only_syntax_error_alone);
	tcase_add_test(tc, error_inih_only_syntax_error_among_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_add_test(tc, size_plain_numbers);
	tcase_add_test(tc, size_suffixes_are_powers_of_1024);
	tcase_add_test(tc, size_infinity);
	tcase_add_test(tc, size_rejects_malformed);
	tcase_add_test(tc, size_rejects_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, unit_name_validity);
	tcase_add_test(tc, policy_names);
	tcase_add_test(tc, cfg_free_null_is_noop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
