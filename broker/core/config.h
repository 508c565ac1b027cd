/* SPDX-License-Identifier: MIT */
/*
 * Pure: the INI configuration as written, before it is merged with the
 * catalog (see plan.h). Parsing collects every error as "FILE:LINE: msg".
 */
#ifndef VB_CONFIG_H
#define VB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "strmap.h"
#include "strv.h"

enum broker_mode {
	BROKER_MODE_SESSION,
	BROKER_MODE_SYSTEM,
	BROKER_MODE_MAX
};

enum start_policy {
	START_ON_DEMAND,
	START_AT_LAUNCH,
	START_DISABLED,
	START_POLICY_MAX
};

enum restart_policy {
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
	RESTART_NO,
	RESTART_POLICY_MAX
};

/* Which scalar keys a section set (a catalog unit keeps the others). */
enum cfg_key {
	CFG_KEY_EXEC		= 1 << 0,
	CFG_KEY_ARGS		= 1 << 1,
	CFG_KEY_START		= 1 << 2,
	CFG_KEY_RESTART		= 1 << 3,
	CFG_KEY_STOP_TIMEOUT	= 1 << 4,
	CFG_KEY_STOP_ON_EXIT	= 1 << 5,
	CFG_KEY_MODE		= 1 << 6,
	CFG_KEY_RUNTIME_DIR	= 1 << 7,
	CFG_KEY_SEARCH_PATH	= 1 << 8,
	CFG_KEY_LOG		= 1 << 9,
	CFG_KEY_BACKLOG		= 1 << 10,
	CFG_KEY_START_LIMIT_BURST = 1 << 11,
	CFG_KEY_START_LIMIT_INTERVAL = 1 << 12,
	CFG_KEY_FAILED_COOLDOWN	= 1 << 13,
	CFG_KEY_LIMIT_NOFILE	= 1 << 14,
	CFG_KEY_LIMIT_MEMLOCK	= 1 << 15,
	CFG_KEY_DAEMON_LOG	= 1 << 16,
	CFG_KEY_LOG_MAX_SIZE	= 1 << 17,
	CFG_KEY_LOG_KEEP	= 1 << 18,
	CFG_KEY_LOG_DIR		= 1 << 19,
	CFG_KEY_PUBLISH		= 1 << 20,
	CFG_KEY_SOCKET_MODE	= 1 << 21,
	CFG_KEY_SOCKET_GROUP	= 1 << 22,
	CFG_KEY_LISTEN_TCP	= 1 << 23,
	CFG_KEY_LISTEN_TLS	= 1 << 24,
	CFG_KEY_HOLDER_TIMEOUT	= 1 << 25,
	CFG_KEY_USERS		= 1 << 26,
	CFG_KEY_ON_SHUTDOWN	= 1 << 27,
	CFG_KEY_SHUTDOWN_TIMEOUT = 1 << 28,
};

/* What a session broker does with its running guests at the host's
 * shutdown (a stop with that intent: SIGPWR, virt-brokerctl stop
 * --shutdown), before it stops the hypervisor daemon. */
enum on_shutdown {
	ON_SHUTDOWN_SAVE,	/* managed save; started again next time */
	ON_SHUTDOWN_SHUTDOWN,	/* shut down, destroyed at the timeout */
	ON_SHUTDOWN_NONE,	/* left to whatever comes next */
	ON_SHUTDOWN_MAX
};
#define CFG_DEFAULT_SHUTDOWN_TIMEOUT	300	/* libvirt-guests' default */

#define CFG_TCP_PREFIX		"tcp:"
#define CFG_DEFAULT_TCP_PORT	16509	/* libvirt's tcp_port */
#define CFG_DEFAULT_TLS_PORT	16514	/* libvirt's tls_port */
#define CFG_DEFAULT_TCP_HOST	"0.0.0.0"

/* Where a daemon's stdout and stderr go, line by line. */
enum daemon_log {
	DAEMON_LOG_FILE,
	DAEMON_LOG_SYSLOG,
	DAEMON_LOG_STDERR,
	DAEMON_LOG_MAX
};

#define CFG_LIMIT_INFINITY		UINT64_MAX
#define CFG_DEFAULT_START_LIMIT_BURST	5
#define CFG_MAX_START_LIMIT_BURST	64
#define CFG_DEFAULT_START_LIMIT_INTERVAL 10
#define CFG_DEFAULT_FAILED_COOLDOWN	30
#define CFG_DEFAULT_LOG_MAX_SIZE	(1024 * 1024)
#define CFG_DEFAULT_LOG_KEEP		3

#define CFG_DEFAULT_SEARCH_PATH		"/usr/sbin:/usr/local/sbin"
#define CFG_DEFAULT_STOP_TIMEOUT	30
#define CFG_MAX_STOP_TIMEOUT		3600
#define CFG_DEFAULT_BACKLOG		0	/* 0: SOMAXCONN */
#define CFG_DEFAULT_HOLDER_TIMEOUT	60	/* s a holder waits */
#define CFG_MAX_UNITS			16384
#define CFG_UNIT_NAME_MAX		48	/* inih cuts sections at 49 */

struct sock_conf {
	char		*name;		/* LISTEN_FDNAMES entry */
	char		*path;		/* relative: under the runtime dir */
	unsigned	 mode;
	char		*group;		/* NULL: the broker's group */
};

struct unit_conf {
	char			*name;
	int			 line;		/* of the first [name] header */
	unsigned		 set;		/* enum cfg_key bits */
	char			*exec;
	struct strv		 args;
	enum start_policy	 start;
	enum restart_policy	 restart;
	unsigned		 stop_timeout;
	bool			 stop_on_exit;
	struct sock_conf	*sockets;
	size_t			 nsockets;
	struct strv		 env;
	unsigned		 start_limit_burst;
	unsigned		 start_limit_interval;	/* seconds */
	unsigned		 failed_cooldown;	/* seconds */
	uint64_t		 limit_nofile;		/* CFG_LIMIT_INFINITY */
	uint64_t		 limit_nofile_hard;	/* 0: not given */
	uint64_t		 limit_memlock;		/* bytes */
	enum daemon_log		 log;
	uint64_t		 log_max_size;		/* bytes */
	unsigned		 log_keep;
	unsigned		 socket_mode;		/* of the first socket */
	char			*socket_group;		/* of every socket */
	char			*listen_tcp;		/* "tcp:HOST:PORT" */
	char			*listen_tls;
};

struct config {
	char			*file;
	unsigned		 set;		/* enum cfg_key bits */
	enum broker_mode	 mode;
	char			*runtime_dir;	/* a path; NULL: default */
	bool			 runtime_dir_xdg; /* runtime_dir = xdg */
	char			*search_path;
	bool			 log_syslog;
	char			*log_dir;	/* daemons' log files */
	struct strv		 publish;	/* dirs; "none": empty + set */
	unsigned		 socket_mode;	/* default for every unit */
	char			*socket_group;
	unsigned		 backlog;
	unsigned		 holder_timeout;	/* s; 0: no holder */
	struct strv		 users;		/* names, "@group"s */
	enum on_shutdown	 on_shutdown;
	unsigned		 shutdown_timeout;	/* s */
	struct unit_conf	*units;
	size_t			 nunits;
	struct strmap		 unit_index;	/* name -> index in units */
	struct strv		 errors;	/* "FILE:LINE: message" */
};

/*
 * Users' session brokers (system mode): [broker] users names them, and a
 * section [user@NAME] changes one's defaults; its unit is user@NAME.
 */
#define CFG_USER_UNIT_PREFIX	"user@"
#define CFG_USER_NAME_MAX	32
#define CFG_DEFAULT_USER_STOP_TIMEOUT	330	/* a guest save's 300, and 30 */

/* runtime_dir = xdg: R follows XDG_RUNTIME_DIR, as libvirt's client does. */
#define CFG_RUNTIME_DIR_XDG	"xdg"

struct config		*cfg_new(const char *file);
void			 cfg_free(struct config *cfg);
/* Both return the error count; a line with a NUL byte is an error. */
int			 cfg_parse(struct config *cfg, FILE *fp);
/* text ends at its first NUL: to parse one, use cfg_parse (fmemopen). */
int			 cfg_parse_string(struct config *cfg, const char *text);
struct unit_conf	*cfg_find_unit(const struct config *cfg, const char *name);
/* A user or group name as [broker] users takes it (without the '@'). */
bool			 cfg_user_name_is_valid(const char *name);
void			 cfg_error(struct config *cfg, int line, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));
bool			 cfg_unit_name_is_valid(const char *name);

const char	*broker_mode_name(enum broker_mode m);
const char	*start_policy_name(enum start_policy p);
const char	*restart_policy_name(enum restart_policy p);
const char	*daemon_log_name(enum daemon_log d);
const char	*on_shutdown_name(enum on_shutdown o);
int		 cfg_parse_size(const char *s, uint64_t *ret);
int		 cfg_parse_soft_hard(const char *s, uint64_t *ret_soft,
		    uint64_t *ret_hard);
int		 cfg_parse_inet(const char *spec, char *ret_host,
		    size_t host_size, unsigned *ret_port);

#endif
