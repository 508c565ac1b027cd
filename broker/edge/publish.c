/* SPDX-License-Identifier: MIT */
/*
 * Edge: the published links (see publish.h).
 *
 * For each published dir P (e.g. /run/user/UID/libvirt when R is
 * ~/.cache/libvirt): P is created only when its parent exists and is ours
 * (so /run/user/UID, logind's, is never created by us; ~/.cache is, if the
 * home dir is ours), never through a symlink; then P/NAME -> R/NAME for
 * every socket NAME the broker serves in R. What is already at P/NAME is
 * left alone unless it is dead: a live socket there is a daemon the broker
 * did not start, which clients using P would reach instead of ours, and is
 * reported with its pid. publish_sync() is idempotent and runs at start-up
 * and on every inotify event, which is how logins, logouts and removed
 * links are followed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"
#include "paths.h"
#include "publish.h"
#include "sock.h"
#include "xalloc.h"

/* Logs a problem once, until publish_set() starts afresh. */
static void
say_once(struct publisher *p, const char *msg)
{
	if (strv_contains(&p->said, msg))
		return;
	log_warnx("%s", msg);
	strv_add(&p->said, msg);
}

void
publish_init(struct publisher *p, const char *runtime_dir,
    const struct strv *dirs)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->runtime_dir = xstrdup(runtime_dir);
	/* R's mode: 0700 in session mode; 0755 in system mode, where others
	 * reach the read-only socket through the links. */
	p->dir_mode = stat(runtime_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0755 ? 0755 : 0700;
	strv_copy(&p->dirs, dirs);
	p->parents = xcalloc(dirs->n + 1, sizeof(*p->parents));
}

/* The identity of dir, if it is a directory of ours; else all zero. */
static struct publish_id
dir_id(const char *dir)
{
	struct publish_id id = { 0 };
	struct statx sx;

	if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS |
	    STATX_BTIME, &sx) < 0 || !S_ISDIR(sx.stx_mode) ||
	    sx.stx_uid != geteuid())
		return id;
	id.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	id.ino = sx.stx_ino;
	if (sx.stx_mask & STATX_BTIME)
		id.btime_ns = sx.stx_btime.tv_sec * 1000000000LL +
		    sx.stx_btime.tv_nsec;
	return id;
}

static bool
same_id(const struct publish_id *a, const struct publish_id *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	    a->btime_ns == b->btime_ns;
}

static bool
seen(const struct publish_seen *s, const struct publish_id *id)
{
	for (size_t k = 0; k < PUBLISH_SEEN; k++)
		if (same_id(&s->id[k], id))
			return true;
	return false;
}

static void
remember(struct publish_seen *s, const struct publish_id *id)
{
	if (id->ino == 0 || same_id(&s->id[0], id))
		return;
	memmove(&s->id[1], &s->id[0], (PUBLISH_SEEN - 1) * sizeof(s->id[0]));
	s->id[0] = *id;
}

static bool
owned_dir(const char *path, struct stat *st)
{
	return lstat(path, st) == 0 && S_ISDIR(st->st_mode) &&
	    st->st_uid == geteuid();
}

/*
 * Empties and removes parent/tmp, prepare_dir()'s work dir left by a broker
 * killed there: only what it makes (links to R/NAME, NAME.pid files of
 * ours) is removed, so a dir holding anything else stays.
 */
static void
clear_unfinished(const struct publisher *p, int pfd, const char *tmp)
{
	int tfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	struct stat st;

	if (tfd < 0)
		return;
	if (fstat(tfd, &st) < 0 || st.st_uid != geteuid()) {
		fd_close(&tfd);
		return;
	}
	for (size_t j = 0; j < p->names.n; j++) {
		char *target = paths_join(p->runtime_dir, p->names.v[j]);
		char buf[4096];
		ssize_t n = readlinkat(tfd, p->names.v[j], buf, sizeof(buf));

		if (n > 0 && (size_t)n == strlen(target) &&
		    memcmp(buf, target, (size_t)n) == 0)
			(void)unlinkat(tfd, p->names.v[j], 0);
		free(target);
	}
	for (size_t k = 0; k < p->guard.names.n; k++) {
		char file[300];

		snprintf(file, sizeof(file), "%s.pid", p->guard.names.v[k]);
		if (fstatat(tfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid())
			(void)unlinkat(tfd, file, 0);
	}
	fd_close(&tfd);
	(void)unlinkat(pfd, tmp, AT_REMOVEDIR);
}

/*
 * P made whole before it is there: in a new dir beside it, NAME.pid locked
 * (spawnguard.h) and the links made, then renamed to P, never over
 * anything. A client that looks in P finds it missing (and makes it itself,
 * which sync_dir() guards at once) or complete, never a P without links in
 * which its autospawn could take the pidfile. False (and nothing left)
 * if it could not be done: the caller makes P the plain way.
 */
static bool
prepare_dir(struct publisher *p, size_t i, const char *parent,
    const char *dir)
{
	const char *base = strrchr(dir, '/') + 1;
	char tmp[300];
	int pfd, tfd = -1;
	bool ok = false;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.virt-broker", base) >=
	    sizeof(tmp))
		return false;
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return false;
	clear_unfinished(p, pfd, tmp);		/* a broker killed here */
	if (mkdirat(pfd, tmp, p->dir_mode) < 0)
		goto out;
	tfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (tfd < 0 || fchmod(tfd, p->dir_mode) < 0)
		goto undo;
	(void)guard_pidfiles(&p->guard, i, tfd);
	for (size_t j = 0; j < p->names.n; j++) {
		char *target = paths_join(p->runtime_dir, p->names.v[j]);
		int r = symlinkat(target, tfd, p->names.v[j]);

		free(target);
		if (r < 0)
			goto undo;
	}
	if (renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE) < 0)
		goto undo;
	for (size_t j = 0; j < p->names.n; j++) {
		char *path = paths_join(dir, p->names.v[j]);

		if (!strv_contains(&p->made, path))
			strv_add(&p->made, path);
		free(path);
	}
	log_debug("publish: %s made with its links and pidfile locks", dir);
	ok = true;
	goto out;
undo:
	guard_drop(&p->guard, i);
	clear_unfinished(p, pfd, tmp);
out:
	fd_close(&tfd);
	fd_close(&pfd);
	return ok;
}

/* P exists (made if its parent is ours) as our directory: true. */
static bool
ensure_dir(struct publisher *p, size_t i, struct fswatch *w)
{
	const char *dir = p->dirs.v[i];
	char *parent = paths_dirname(dir), *grand = paths_dirname(parent);
	struct stat st;
	char msg[4400];
	bool ok = false;

	fswatch_add(w, grand);		/* the parent may appear (login) */
	if (lstat(parent, &st) < 0 && errno == ENOENT &&
	    owned_dir(grand, &st) && mkdir(parent, p->dir_mode) < 0 &&
	    errno != EEXIST)
		log_warn("publish: create %s", parent);
	if (!owned_dir(parent, &st))
		goto out;		/* not (yet) there, or not ours */
	fswatch_add(w, parent);		/* P may be removed (logout) */
	if (lstat(dir, &st) < 0) {
		bool made = false;
		int err = errno;

		if (err == ENOENT && prepare_dir(p, i, parent, dir))
			err = 0;		/* made whole */
		else if (err == ENOENT &&
		    !(made = mkdir(dir, p->dir_mode) == 0))
			err = errno == EEXIST ? 0 : errno;
		if (err != 0) {
			snprintf(msg, sizeof(msg), "publish: create %s: %s", dir,
			    strerror(err));
			say_once(p, msg);
			goto out;
		}
		if (lstat(dir, &st) < 0)
			goto out;
		/* Made by us just now: the umask must not take the others'
		 * x bit. */
		if (made && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		    (st.st_mode & 0777) != p->dir_mode)
			(void)chmod(dir, p->dir_mode);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(msg, sizeof(msg), "publish: %s is %s; not publishing "
		    "there", dir, S_ISLNK(st.st_mode) ? "a symlink" :
		    !S_ISDIR(st.st_mode) ? "not a directory" :
		    st.st_uid != geteuid() ? "owned by someone else" :
		    "writable by others (chmod go-w)");
		say_once(p, msg);
		goto out;
	}
	fswatch_add(w, dir);		/* a link may be removed */
	ok = true;
out:
	free(parent);
	free(grand);
	return ok;
}

/* Forgets path as a duplicate (it is a link now, or gone). */
static void
dup_forget(struct publisher *p, const char *path)
{
	for (size_t i = 0; i < p->dups.paths.n; i++) {
		if (strcmp(p->dups.paths.v[i], path) != 0)
			continue;
		strv_remove_at(&p->dups.paths, i);
		strv_remove_at(&p->dups.pids, i);
		return;
	}
}

/*
 * A live socket at path that is not ours: handed to the retirer (an
 * autospawned duplicate with no guest), else reported with who serves it,
 * once.
 */
static void
report_foreign(struct publisher *p, const char *dir, const char *owner,
    const char *path)
{
	char msg[4400];
	pid_t pid = 0;
	uid_t uid = (uid_t)-1;

	sock_listener_cred(path, &pid, &uid);
	if (p->foreign != NULL && pid > 0 && owner[0] != '\0' &&
	    p->foreign(p->foreign_arg, dir, owner, path, pid, uid))
		return;
	dup_forget(p, path);
	strv_add(&p->dups.paths, path);
	strv_addf(&p->dups.pids, "%ld", (long)pid);
	if (pid > 0)
		snprintf(msg, sizeof(msg), "publish: %s is a live socket served "
		    "by pid %ld (uid %ld), not by the broker's daemon: clients "
		    "that look there reach a duplicate daemon; stop it and the "
		    "broker links the path to %s", path, (long)pid, (long)uid,
		    p->runtime_dir);
	else
		snprintf(msg, sizeof(msg), "publish: %s is a live socket the "
		    "broker did not bind; leaving it", path);
	say_once(p, msg);
}

/*
 * P/NAME -> R/NAME. A live socket at P/NAME is left alone: the daemon the
 * broker adopted there (R/NAME links to it, see adopt.c), or a duplicate,
 * which is reported.
 */
static bool
link_one(struct publisher *p, const char *dir, const char *name)
{
	bool foreign = false;
	char *path = paths_join(dir, name);
	char *target = paths_join(p->runtime_dir, name);
	char msg[4400];
	struct stat st;

	dup_forget(p, path);
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode) && sock_is_link_to(path, target))
			goto made;		/* ours already */
		if (!S_ISLNK(st.st_mode) && !S_ISSOCK(st.st_mode)) {
			snprintf(msg, sizeof(msg), "publish: %s exists and is "
			    "not a socket or a link; leaving it", path);
			say_once(p, msg);
			goto out;
		}
		if (sock_probe_live(path) == 1) {
			/* not adopted: reported by the caller */
			foreign = !sock_is_link_to(target, path);
			goto out;
		}
		/* Not live to us (it may refuse us: EACCES) and not ours:
		 * another user's, never removed. */
		if (st.st_uid != geteuid()) {
			snprintf(msg, sizeof(msg), "publish: %s is uid %ld's; "
			    "leaving it", path, (long)st.st_uid);
			say_once(p, msg);
			goto out;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			log_warn("publish: remove dead %s", path);
			goto out;
		}
	}
	if (symlink(target, path) < 0) {
		snprintf(msg, sizeof(msg), "publish: link %s: %s", path,
		    strerror(errno));
		say_once(p, msg);
		goto out;
	}
	log_debug("publish: %s -> %s", path, target);
made:
	if (!strv_contains(&p->made, path))
		strv_add(&p->made, path);
out:
	free(path);
	free(target);
	return foreign;
}

/* Removes path if it is still a link to R/name that we made. */
static void
unlink_ours(struct publisher *p, const char *path)
{
	const char *name = strrchr(path, '/') + 1;
	char *target = paths_join(p->runtime_dir, name);

	if (sock_is_link_to(path, target) && unlink(path) < 0)
		log_warn("publish: remove %s", path);
	free(target);
}

/* Is dir/name our link to R/name? */
static bool
linked(const struct publisher *p, const char *dir, const char *name)
{
	char *path = paths_join(dir, name);
	char *target = paths_join(p->runtime_dir, name);
	bool ok = sock_is_link_to(path, target);

	free(path);
	free(target);
	return ok;
}

/*
 * The pidfiles of dir i (dfd) that the guard could not lock: each held by
 * a daemon that a client spawned there, handed to p->starting while it is
 * still starting up, before it binds a socket.
 */
static void
starting_daemons(struct publisher *p, size_t i, int dfd, bool create)
{
	size_t n = p->guard.names.n;
	pid_t *holders = xcalloc(n + 1, sizeof(*holders));

	if (create)
		(void)guard_pidfiles(&p->guard, i, dfd);
	guard_recheck(&p->guard, i, dfd, holders);
	for (size_t k = 0; k < n; k++)
		if (holders[k] > 0 && p->starting != NULL) {
			log_debug("publish: pid %ld holds %s/%s.pid",
			    (long)holders[k], p->dirs.v[i],
			    p->guard.names.v[k]);
			(void)p->starting(p->foreign_arg, p->dirs.v[i],
			    p->guard.names.v[k], holders[k]);
		}
	free(holders);
}

/*
 * A socket file at P/NAME that was not there at the last look: a daemon a
 * client spawned (its pidfile won, see spawnguard.h) has bound it, and
 * clients that look in P reach it from now on. Handed over at once, not
 * once the directories settle (report_foreign(): the retirer stops it).
 * Each socket file is looked at once; an adopted daemon's is passed over.
 */
static void
new_sockets(struct publisher *p, size_t i)
{
	const char *dir = p->dirs.v[i];

	for (size_t j = 0; j < p->names.n; j++) {
		char *path = paths_join(dir, p->names.v[j]);
		char *target = paths_join(p->runtime_dir, p->names.v[j]);
		struct stat st;
		struct publish_id id;
		bool known = false;

		if (lstat(path, &st) < 0 || (!S_ISLNK(st.st_mode) &&
		    !S_ISSOCK(st.st_mode)))
			p->incomplete = true;
		else if (S_ISSOCK(st.st_mode) &&
		    !sock_is_link_to(target, path)) {	/* not adopted */
			p->incomplete = true;
			id = (struct publish_id){ st.st_dev, st.st_ino,
			    st.st_ctim.tv_sec * 1000000000LL +
			    st.st_ctim.tv_nsec };
			known = seen(&p->sockets, &id);
			if (!known)
				remember(&p->sockets, &id);
			if (!known && sock_probe_live(path) == 1) {
				log_debug("publish: %s: a new live socket",
				    path);
				report_foreign(p, dir, p->owners.v[j], path);
			}
		}
		free(target);
		free(path);
	}
}

/*
 * Links in dir i, and remembers which parent directory they went into.
 * libvirt's pidfiles there are ours first, and while links are missing the
 * clients' spawn locks too (spawnguard.h).
 */
static void
sync_dir(struct publisher *p, size_t i, struct fswatch *w)
{
	const char *dir = p->dirs.v[i];
	char *parent = paths_dirname(dir);
	struct publish_id id = dir_id(parent);
	struct stat st;
	bool missing = false, *foreign;
	int dfd;

	remember(&p->parents[i], &id);
	free(parent);
	if (!ensure_dir(p, i, w)) {
		guard_drop(&p->guard, i);
		p->incomplete = true;
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0 && (fstat(dfd, &st) < 0 || st.st_uid != geteuid()))
		fd_close(&dfd);
	/* First: a daemon a client is spawning now (it made P) fails, or
	 * is stopped if it took the pidfile first. */
	if (dfd >= 0)
		starting_daemons(p, i, dfd, true);
	for (size_t j = 0; j < p->names.n && !missing; j++)
		missing = !linked(p, dir, p->names.v[j]);
	p->incomplete |= missing;
	if (missing && dfd >= 0)
		guard_spawn_hold(&p->guard, i, dfd);
	foreign = xcalloc(p->names.n + 1, sizeof(*foreign));
	for (size_t j = 0; j < p->names.n; j++)
		foreign[j] = link_one(p, dir, p->names.v[j]);
	guard_spawn_release(&p->guard, i);
	for (size_t j = 0; j < p->names.n; j++) {
		char *path = paths_join(dir, p->names.v[j]);

		if (foreign[j])		/* retiring one takes the spawn lock */
			report_foreign(p, dir, p->owners.v[j], path);
		free(path);
	}
	free(foreign);
	if (dfd < 0)
		guard_drop(&p->guard, i);
	fd_close(&dfd);
}

void
publish_sync(struct publisher *p, struct fswatch *w)
{
	strv_free(&p->dups.paths);	/* found again below if still there */
	strv_free(&p->dups.pids);
	p->incomplete = false;
	for (size_t i = 0; i < p->dirs.n; i++)
		sync_dir(p, i, w);
}

/*
 * In a published dir P that is there and ours, whatever its state (a
 * client makes it again while a logout removes it): P watched, and a
 * daemon a client spawned there found at once, by its pidfile while it
 * starts, or by its socket. Nothing is created in P.
 */
static void
new_daemons(struct publisher *p, size_t i, struct fswatch *w)
{
	const char *dir = p->dirs.v[i];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (dfd < 0) {
		p->incomplete = true;
		return;
	}
	if (fstat(dfd, &st) == 0 && st.st_uid == geteuid() &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0) {
		fswatch_add(w, dir);
		starting_daemons(p, i, dfd, false);
		new_sockets(p, i);
	}
	fd_close(&dfd);
}

/*
 * At once after any change: only the published dirs whose parent is a
 * directory of ours never linked into before (a login made /run/user/UID,
 * gave it to the user, or mounted a tmpfs on it). A removal in progress
 * leaves the parent one we know, and so does a logout's umount (the
 * directory under the tmpfs was linked into at mkdir time), so this never
 * fights logind's or pam_rundir's rm -rf; the settled publish_sync() does
 * the rest. In the others, only new sockets are looked at (a duplicate).
 */
void
publish_sync_logins(struct publisher *p, struct fswatch *w)
{
	p->incomplete = false;
	for (size_t i = 0; i < p->dirs.n; i++) {
		char *parent = paths_dirname(p->dirs.v[i]);
		struct publish_id now = dir_id(parent);

		free(parent);
		if (now.ino != 0 && !seen(&p->parents[i], &now))
			sync_dir(p, i, w);
		else
			new_daemons(p, i, w);
	}
}

/*
 * New dirs or socket names (start-up, reload): links that are no longer
 * wanted are removed; publish_sync() makes the new ones.
 */
void
publish_set(struct publisher *p, const struct strv *dirs,
    const struct strv *names, const struct strv *owners)
{
	struct strv keep = { 0 }, daemons = { 0 };

	for (size_t i = 0; i < p->made.n; i++) {
		const char *path = p->made.v[i];
		char *dir = paths_dirname(path);
		const char *name = strrchr(path, '/') + 1;

		if (strv_contains(dirs, dir) && strv_contains(names, name))
			strv_add(&keep, path);
		else
			unlink_ours(p, path);
		free(dir);
	}
	strv_free(&p->made);
	p->made = keep;
	strv_free(&p->dirs);
	strv_free(&p->names);
	strv_free(&p->owners);
	strv_free(&p->said);
	strv_copy(&p->dirs, dirs);
	strv_copy(&p->names, names);
	strv_copy(&p->owners, owners);
	free(p->parents);
	p->parents = xcalloc(dirs->n + 1, sizeof(*p->parents));
	for (size_t j = 0; j < owners->n; j++)
		if (owners->v[j][0] != '\0' &&
		    !strv_contains(&daemons, owners->v[j]))
			strv_add(&daemons, owners->v[j]);
	guard_set(&p->guard, dirs->n, &daemons);
	strv_free(&daemons);
}

/*
 * At exit: removes our links, but those to sockets named in keep, and the
 * pidfiles the spawn guard made and holds.
 */
void
publish_remove(struct publisher *p, const struct strv *keep)
{
	for (size_t i = 0; i < p->made.n; i++)
		if (!strv_contains(keep, strrchr(p->made.v[i], '/') + 1))
			unlink_ours(p, p->made.v[i]);
	for (size_t i = 0; i < p->dirs.n && i < p->guard.ndirs; i++) {
		int dfd = open(p->dirs.v[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);

		if (dfd >= 0)
			guard_remove(&p->guard, i, dfd);
		fd_close(&dfd);
	}
}

void
publish_free(struct publisher *p)
{
	guard_free(&p->guard);
	strv_free(&p->dirs);
	strv_free(&p->names);
	strv_free(&p->owners);
	strv_free(&p->made);
	strv_free(&p->said);
	strv_free(&p->dups.paths);
	strv_free(&p->dups.pids);
	free(p->parents);
	free(p->runtime_dir);
}
