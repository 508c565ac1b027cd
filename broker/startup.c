/* SPDX-License-Identifier: MIT */
/* The broker's start-up: options, the config file, the plan (startup.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "startup.h"
#include "usercred.h"
#include "version.h"
#include "xalloc.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: virt-broker [-dnsv] [-f file] [--ready-fd N] "
	    "[--pidfile file] [--session | --system]\n"
	    "  -d, --daemon       detach; the parent exits once every socket "
	    "is bound\n"
	    "      --pidfile FILE write the broker's pid to FILE\n"
	    "  -f, --config FILE  configuration file\n"
	    "  -n, --dry-run      print the resolved units and exit\n"
	    "  -s, --syslog       log to syslog instead of stderr\n"
	    "  -v, --verbose      log debug messages\n"
	    "      --ready-fd N   write a newline to fd N once every socket "
	    "is bound\n"
	    "      --session      serve the user's session daemons\n"
	    "      --system       serve the system daemons (root)\n"
	    "  -V, --version      print the version and exit\n");
}

void
startup_options(int argc, char **argv, struct options *o)
{
	enum { OPT_READY_FD = 256, OPT_SESSION, OPT_SYSTEM, OPT_PIDFILE,
		OPT_BOOT };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "syslog", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "daemon", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "session", no_argument, NULL, OPT_SESSION },
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "boot", no_argument, NULL, OPT_BOOT },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	o->ready_fd = -1;
	o->mode = geteuid() == 0 ? BROKER_MODE_SYSTEM : BROKER_MODE_SESSION;
	while ((c = getopt_long(argc, argv, "df:nsvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->file = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 's':
			o->syslog = true;
			break;
		case 'd':
			o->daemon = true;
			break;
		case OPT_PIDFILE:
			if (optarg[0] != '/')
				fatalx("--pidfile: '%s' is not an absolute path",
				    optarg);
			o->pidfile = optarg;
			break;
		case 'V':
			printf("virt-broker %s\n", VB_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_READY_FD:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX)
				fatalx("--ready-fd: '%s' is not a file "
				    "descriptor number", optarg);
			o->ready_fd = (int)v;
			break;
		case OPT_BOOT:
			o->boot = true;
			break;
		case OPT_SESSION:
		case OPT_SYSTEM:
			o->mode_forced = true;
			o->mode = c == OPT_SESSION ? BROKER_MODE_SESSION :
			    BROKER_MODE_SYSTEM;
			break;
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
}

/*
 * Does the config run as the system broker? Either the mode before the file
 * was read (root, or --system) or the one the file sets counts: a file that
 * others may write must not exempt itself by saying mode = session.
 */
static bool
config_is_system(const struct config *cfg, const struct options *o)
{
	if (o->mode == BROKER_MODE_SYSTEM)
		return true;
	return !o->mode_forced && (cfg->set & CFG_KEY_MODE) &&
	    cfg->mode == BROKER_MODE_SYSTEM;
}

/* An error for each way someone but root may change path (what: prefix). */
static void
refuse_unsafe(struct config *cfg, const char *what, const char *path,
    const struct stat *st)
{
	if (st->st_uid != 0)
		cfg_error(cfg, 0, "%sowned by uid %lu (must be root); chown "
		    "root %s", what, (unsigned long)st->st_uid, path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		cfg_error(cfg, 0, "%smode %04o lets group or others write it; "
		    "chmod go-w %s", what, (unsigned)(st->st_mode & 07777),
		    path);
}

/*
 * The system broker runs what its config names as root, so the file and
 * its directory must be root's alone (sshd's StrictModes, for a user's
 * keys, asks the same). The file is judged through the fd it was read
 * from, whatever the path names now.
 */
static void
check_config_owner(struct config *cfg, FILE *fp, const char *path)
{
	struct stat st;
	char *dir = paths_dirname(path), *what;

	if (fstat(fileno(fp), &st) < 0)
		cfg_error(cfg, 0, "cannot stat: %s", strerror(errno));
	else
		refuse_unsafe(cfg, "", path, &st);
	what = xasprintf("directory %s: ", dir);
	if (stat(dir, &st) < 0)
		cfg_error(cfg, 0, "%s%s", what, strerror(errno));
	else
		refuse_unsafe(cfg, what, dir, &st);
	free(what);
	free(dir);
}

/*
 * Reads the config: -f FILE must exist; the default file may be missing,
 * which means the built-in catalog alone. Errors are collected in the
 * returned config, not printed.
 */
struct config *
startup_config(const struct options *o)
{
	struct config *cfg;
	char *path = NULL;
	FILE *fp;

	if (o->file != NULL)
		path = xstrdup(o->file);
	else if (o->mode == BROKER_MODE_SYSTEM)
		path = xstrdup(VB_SYSCONFDIR "/virt-broker/virt-broker.conf");
	else if (paths_session_config_file(getenv("XDG_CONFIG_HOME"),
	    getenv("HOME"), &path) < 0)
		path = NULL;
	cfg = cfg_new(path != NULL ? path : "(built-in)");
	if (path != NULL) {
		fp = fopen(path, "re");
		if (fp != NULL) {
			cfg_parse(cfg, fp);
			if (config_is_system(cfg, o))
				check_config_owner(cfg, fp, path);
			fclose(fp);
		} else if (errno != ENOENT || o->file != NULL) {
			cfg_error(cfg, 0, "cannot read: %s", strerror(errno));
		} else {
			log_debug("no %s: using the built-in catalog", path);
		}
	}
	free(path);
	return cfg;
}

static bool
is_executable(const char *path, void *arg)
{
	struct stat st;

	(void)arg;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* /var/run exists and is not /run (a link to it, or the same dir). */
static bool
var_run_separate(void)
{
	struct stat a, b;

	return stat("/var/run", &a) == 0 && S_ISDIR(a.st_mode) &&
	    (stat("/run", &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino);
}

/* Does dir hold a regular file (or a link to one) whose name ends in sfx? */
static bool
dir_has(const char *dir, const char *const *sfx)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d != NULL && !found && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		for (size_t i = 0; sfx[i] != NULL && !found; i++) {
			size_t sl = strlen(sfx[i]);
			struct stat st;

			/* libvirt's autostart entries are links to the
			 * definition: followed (the user's own, as the user) */
			found = len > sl && strcmp(de->d_name + len - sl,
			    sfx[i]) == 0 && fstatat(dirfd(d), de->d_name, &st,
			    0) == 0 && S_ISREG(st.st_mode);
		}
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/*
 * --boot (a user's broker a system broker starts): is there work for this
 * daemon to take up now? The user's autostart guests, networks and pools,
 * and guests saved to be restored (libvirt's managed saves, the broker's
 * record), read as the user, in the user's libvirt config dir.
 */
static bool
has_boot_work(const char *unit, const char *rt, void *arg)
{
	static const char *const xml[] = { ".xml", ".xml.once", NULL };
	static const char *const saves[] = { ".save", NULL };
	const char *cfg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	bool qemu = strcmp(unit, "virtqemud") == 0, all = strcmp(unit,
	    "libvirtd") == 0, work = false;
	char *base, *p;

	(void)arg;
	if (cfg != NULL && cfg[0] == '/')
		base = paths_join(cfg, "libvirt");
	else if (home != NULL && home[0] == '/')
		base = paths_join(home, ".config/libvirt");
	else
		return true;		/* cannot tell: as without --boot */
	if (qemu || all) {
		p = paths_join(base, "qemu/autostart");
		work = dir_has(p, xml);
		free(p);
		p = paths_join(base, "qemu/save");
		work = work || dir_has(p, saves);
		free(p);
		p = rt != NULL ? paths_join(rt, "virt-broker.saved-guests") :
		    NULL;
		work = work || (p != NULL && access(p, F_OK) == 0);
		free(p);
	}
	if (!work && (all || strcmp(unit, "virtnetworkd") == 0)) {
		p = paths_join(base, "qemu/networks/autostart");
		work = dir_has(p, xml);
		free(p);
	}
	if (!work && (all || strcmp(unit, "virtstoraged") == 0)) {
		p = paths_join(base, "storage/autostart");
		work = dir_has(p, xml);
		free(p);
	}
	free(base);
	return work;
}

/*
 * virt-brokerctl, which saves a session's guests at shutdown: beside the
 * broker's binary (a build tree, one profile), else where it is installed.
 */
static char *
find_ctl(const char *self)
{
	char *p;

	if (self != NULL) {
		char *dir = paths_dirname(self);

		p = paths_join(dir, "virt-brokerctl");
		free(dir);
		if (is_executable(p, NULL))
			return p;
		free(p);
	}
	p = xstrdup(VB_BINDIR "/virt-brokerctl");
	if (is_executable(p, NULL))
		return p;
	free(p);
	return NULL;
}

/* The plan, or NULL having printed every error (prefixed by what). */
struct plan *
startup_plan(struct config *cfg, const struct options *o, const char *what)
{
	struct plan_input in = {
		.default_mode = o->mode,
		.mode_forced = o->mode_forced,
		.xdg_runtime_dir = getenv("XDG_RUNTIME_DIR"),
		.xdg_cache_home = getenv("XDG_CACHE_HOME"),
		.home = getenv("HOME"),
		.xdg_state_home = getenv("XDG_STATE_HOME"),
		.uid = (unsigned long)geteuid(),
		.var_run_separate = var_run_separate(),
		.is_executable = is_executable,
		.group_members = usercred_group_members,
	};
	struct plan *plan = NULL;
	char *self = usercred_self_exe(), *ctl = find_ctl(self);
	int r;

	in.self_exe = self;
	in.boot = o->boot;
	in.has_boot_work = has_boot_work;
	in.ctl_exe = ctl;
	r = cfg->errors.n == 0 ? plan_build(cfg, &in, &plan) : -EINVAL;
	free(self);
	free(ctl);
	if (r == 0) {
		for (size_t i = 0; i < plan->notices.n; i++)
			log_info("%s", plan->notices.v[i]);
		return plan;
	}
	for (size_t i = 0; i < cfg->errors.n; i++)
		log_warnx("%s%s", what, cfg->errors.v[i]);
	log_warnx("%s%zu error%s in the configuration", what, cfg->errors.n,
	    cfg->errors.n == 1 ? "" : "s");
	return NULL;
}
