/* SPDX-License-Identifier: MIT */
/*
 * Layer lifecycle (broker/lifecycle/): the units' lifecycle, the core's
 * decisions carried out through the edges. Calls run one way: reload.c ->
 * adopt.c -> supervise.c -> unit_exec.c -> unit_notify.c; supervise.c asks
 * the files above it through struct sup_hooks.
 *
 * The units at run time. Owns every listening socket, every daemon
 * pid, each unit's output pipe, and the libev watchers that connect them to
 * the pure state machine (unit.h). unit_set_state() is the only writer of a
 * unit's state.
 */
#ifndef VB_SUPERVISE_H
#define VB_SUPERVISE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemonlog.h"
#include "notify_msg.h"
#include "plan.h"
#include "sock.h"
#include "strmap.h"
#include "strv.h"
#include "unit.h"

struct supervisor;

struct unit_sock {
	const struct sock_spec	*spec;		/* in unit->spec */
	struct bound_sock	 b;		/* b.fd -1: not bound */
	ev_io			 io;		/* readable: a client waits */
	struct unit		*unit;
};

/* The daemon's own account of itself (sd_notify), libvirt 11.x. */
enum unit_phase {
	UNIT_PHASE_NONE,	/* nothing said, or READY=1 */
	UNIT_PHASE_RELOADING,	/* RELOADING=1, no READY=1 since */
	UNIT_PHASE_STOPPING,	/* STOPPING=1 */
};

struct unit {
	struct supervisor	*sup;
	struct unit_spec	 spec;		/* own copy: survives reloads */
	struct unit_spec	*next_spec;	/* new sockets, once stopped */
	struct unit_policy	 policy;
	struct unit_sm		 sm;
	struct unit_sock	*socks;
	size_t			 nsocks;
	int			*fds;		/* socks[i].b.fd, for spawn/poll */
	bool			 serving;	/* every socket bound */
	bool			 removing;	/* gone from the config */
	bool			 dropped;	/* to free: sup_drop_marked */
	char			*key;		/* its name in sup->by_name */
	bool			 paths_lost;	/* socket files gone: rebind */
	bool			 left_running;	/* stop_on_exit = no, at exit */
	bool			 stop_deferred;	/* stop_last: once others are */
	struct dlog		 log;
	pid_t			 pid;		/* 0: none */
	int			 status_fd;	/* exec-status pipe, -1: none */
	ev_io			 status_io;
	ev_child		 child;
	ev_timer		 timer;
	pid_t			 adopted_pid;	/* ADOPTED: its pid, else 0 */
	char			*adopted_dir;	/* it serves there, not R */
	int			 pidfd;		/* watches adopted_pid, or -1 */
	ev_io			 adopt_io;
	ev_timer		 adopt_timer;	/* no pidfd (valgrind, < 5.3) */
	unsigned		 activations;
	unsigned long		 refused;	/* failed: not yet logged */
	uint64_t		 refuse_logged_ms; /* monotonic, 0: never */
	time_t			 since;		/* wall clock of the last change */
	uint64_t		 exec_ms;	/* monotonic, at the last start */
	long			 ready_ms;	/* start to READY=1, -1: not yet */
	enum unit_phase		 phase;		/* what the daemon last said */
	unsigned		 reloads;	/* RELOADING=1 then READY=1 */
	unsigned		 extends;	/* EXTEND_TIMEOUT_USEC this stop */
	char			*status_text;	/* STATUS=; NULL: none */
	bool			 restart_pending; /* start again after the exit */
	bool			 exited_once;	/* last_status is meaningful */
	int			 last_status;	/* wait status of the last exit */
	int			 exec_errno;	/* of the last failed exec */
	pid_t			 job_pid;	/* guests-stop, 0: none */
	ev_child		 job_child;
	ev_timer		 job_timer;
};

/*
 * What supervise.c asks of the files above it, which call into it: adopting
 * a daemon that serves a unit's socket already (adopt.c), settling a
 * unit whose daemon exited after a reload changed or removed it (reload.c)
 * and a session's guests at the host's shutdown (guests.c).
 * Given to sup_new, so that the calls between the files run one way.
 */
struct sup_hooks {
	void	(*adopt)(struct unit *u, size_t live);
	bool	(*adopt_published)(struct unit *u);
	void	(*settle)(struct unit *u);		/* may free u */
	/* The host shuts down: true if u's guests are being saved first
	 * (guests.c), which then stops u itself. */
	bool	(*guests_first)(struct unit *u);
};

/* adopt.c's, reload.c's and guests.c's (defined in reload.c, above them). */
extern const struct sup_hooks sup_lifecycle_hooks;

struct supervisor {
	struct ev_loop		*loop;
	const struct sup_hooks	*hooks;
	const struct plan	*plan;		/* the caller's, without units
						   (plan_release_units);
						   see sup_reload */
	char *const		*parent_env;
	int			 null_fd;	/* /dev/null, daemons' stdin */
	struct unit		**units;
	size_t			 nunits;
	struct strmap		 by_name;	/* name -> struct unit * */
	bool			 shutting_down;
	bool			 shutdown_intent; /* the host shuts down */
};

struct supervisor	*sup_new(struct ev_loop *loop, struct plan *plan,
			    const struct sup_hooks *hooks,
			    char *const *parent_env, size_t *ret_serving);
void			 sup_launch(struct supervisor *sup);
int			 sup_reload(struct supervisor *sup, struct plan *plan);
void			 sup_check_paths(struct supervisor *sup);
void			 sup_adopt_running(struct supervisor *sup);
void			 sup_listen_fds(const struct supervisor *sup, int **ret,
			    size_t *ret_n);
struct unit		*sup_unit(const struct supervisor *sup,
			    const char *name);
int			 sup_unit_command(struct unit *u, const char *cmd,
			    const char **reterr_msg);
void			 sup_unit_notify(struct supervisor *sup, pid_t pid,
			    const struct notify_msg *m);
void			 unit_notify_reset(struct unit *u);
const char		*unit_phase_name(enum unit_phase p);
void			 unit_describe_exit(const struct unit *u, char *buf,
			    size_t size);
void			 sup_socket_names(const struct supervisor *sup,
			    const char *dir, bool left_only,
			    struct strv *ret_names, struct strv *ret_owners);
void			 sup_shutdown(struct supervisor *sup);
/* The same, as the host shuts down: users' brokers are told (SIGPWR), a
 * session's guests saved first (on_shutdown). */
void			 sup_shutdown_for_host(struct supervisor *sup);
/* A session broker's start: the guests saved at the last shutdown. */
void			 guests_restore_start(struct supervisor *sup);
bool			 sup_busy(const struct supervisor *sup);
bool			 sup_any_adopted(const struct supervisor *sup);
void			 sup_free(struct supervisor *sup);

#endif
