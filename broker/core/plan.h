/* SPDX-License-Identifier: MIT */
/*
 * Layer core (broker/core/): pure. No system call, no libev, no header of
 * the layers above; what it needs from the system its callers hand in.
 *
 * Pure: the plan, i.e. the units the broker serves, resolved from the
 * parsed config, the built-in catalog, the mode and the environment.
 */
#ifndef VB_PLAN_H
#define VB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "strv.h"

struct sock_spec {
	char		*name;		/* LISTEN_FDNAMES entry */
	char		*path;		/* absolute */
	unsigned	 mode;
	char		*group;		/* NULL: leave the group alone */
};

struct unit_spec {
	char			*name;
	char			*exec;		/* absolute */
	struct strv		 argv;		/* argv[0] is exec */
	struct strv		 env;		/* the unit's own K=V */
	enum start_policy	 start;
	enum restart_policy	 restart;
	unsigned		 stop_timeout;	/* seconds */
	bool			 stop_on_exit;
	bool			 stop_last;	/* virtlogd, virtlockd */
	bool			 stop_first;	/* users' brokers */
	char			*user;		/* a user's broker runs as */
	struct sock_spec	*sockets;	/* in fd order */
	size_t			 nsockets;
	unsigned		 start_limit_burst;
	unsigned		 start_limit_interval;	/* seconds */
	unsigned		 failed_cooldown;	/* seconds */
	uint64_t		 limit_nofile;	/* 0: inherit */
	uint64_t		 limit_nofile_hard; /* 0: >= the soft one */
	uint64_t		 limit_memlock;	/* 0: inherit */
	enum daemon_log		 log;
	char			*log_path;	/* log = file */
	uint64_t		 log_max_size;
	unsigned		 log_keep;
};

struct plan {
	enum broker_mode	 mode;
	char			*runtime_dir;	/* R */
	char			*daemon_xdg_runtime_dir; /* NULL: unset */
	char			*pipewire_runtime_dir;	/* the broker's XDG */
	char			*log_dir;	/* daemons' log files */
	char			*notify_socket;	/* daemons' NOTIFY_SOCKET */
	char			*control_socket; /* virt-brokerctl's */
	struct strv		 publish;	/* other dirs clients look in */
	unsigned		 backlog;	/* 0: SOMAXCONN */
	unsigned		 holder_timeout; /* s; 0: no fd holder */
	char			*holder_socket;	/* R/virt-broker-holder-sock */
	bool			 log_syslog;
	enum on_shutdown	 on_shutdown;	/* session: guests at shutdown */
	unsigned		 shutdown_timeout; /* s */
	char			*ctl_exe;	/* virt-brokerctl, which saves
						   them; NULL: not found */
	struct unit_spec	*units;
	size_t			 nunits;
	struct strmap		 index;		/* name -> index in units */
	struct strv		 notices;	/* skipped units, one line each */
};

/* What plan_build() needs from the outside world, injected. */
struct plan_input {
	enum broker_mode	 default_mode;
	bool			 mode_forced;	/* default_mode beats the file */
	const char		*xdg_runtime_dir;
	const char		*xdg_cache_home;
	const char		*home;
	const char		*xdg_state_home;
	unsigned long		 uid;		/* for /run/user/UID */
	bool			 var_run_separate; /* /var/run is not /run */
	bool			(*is_executable)(const char *path, void *arg);
	/*
	 * System mode, [broker] users: the broker's own binary, which each
	 * user's broker runs, and a group's members (0, or -errno if there
	 * is no such group).
	 */
	const char		*self_exe;
	/*
	 * --boot (a user's broker a system broker starts at boot): the
	 * hypervisor, network and storage daemons start at launch only if
	 * has_boot_work says there is something to take up (autostart,
	 * saved guests); else on demand.
	 */
	bool			 boot;
	bool			(*has_boot_work)(const char *unit,
				    const char *runtime_dir, void *arg);
	/* virt-brokerctl, for guests at shutdown; NULL: none found */
	const char		*ctl_exe;
	int			(*group_members)(const char *group,
				    struct strv *ret_names, void *arg);
	void			*arg;
};

int	 plan_build(struct config *cfg, const struct plan_input *in,
	    struct plan **ret_plan);
void	 plan_free(struct plan *plan);
void	 plan_print(const struct plan *plan, FILE *out);
const struct unit_spec *plan_find(const struct plan *plan, const char *name);
void	 plan_release_units(struct plan *plan);
/* The defaults every unit starts from; the scalar keys and env lines a
 * section set, over them (exec, args and sockets are the caller's). */
void	 unit_spec_defaults(struct unit_spec *u);
void	 unit_spec_apply(struct unit_spec *u, const struct unit_conf *uc);
void	 unit_spec_copy(struct unit_spec *dst, const struct unit_spec *src);
void	 unit_spec_clear(struct unit_spec *u);
bool	 unit_spec_same_sockets(const struct unit_spec *a,
	    const struct unit_spec *b);
bool	 unit_spec_equal(const struct unit_spec *a, const struct unit_spec *b);

/*
 * RLIMIT_NOFILE per libvirt's units. 11.x gives every daemon 1024:524288
 * and the daemons raise their soft limit to the hard one themselves; 9.0
 * gave fixed values and raised nothing. The catalog gives 9.0's soft value
 * (so 9.0 has what it expects) with 11.x's hard one (so 10 to 12 do too).
 */
#define PLAN_HYPERVISOR_NOFILE	8192	/* virtqemud, libvirtd (9.0) */
#define PLAN_VIRTLOGD_NOFILE	16384
#define PLAN_VIRTLOCKD_NOFILE	40960
#define PLAN_DRIVER_NOFILE	1024
#define PLAN_NOFILE_HARD	524288	/* 11.x: LimitNOFILE=1024:524288 */
#define PLAN_SUN_PATH_MAX	108	/* sizeof(sockaddr_un.sun_path) */
#define PLAN_NOTIFY_SOCKET	"virt-broker-notify-sock"
#define PLAN_HOLDER_SOCKET	"virt-broker-holder-sock"
#define PLAN_HYPERVISOR_MEMLOCK	(64ULL << 20)	/* LimitMEMLOCK=64M */

#endif
