/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's flatpak check (doctor.h). A flatpak libvirt
 * client (flathub's virt-manager: --filesystem=xdg-run/libvirt) sees the
 * session's links in XDG_RUNTIME_DIR/libvirt, but not the broker's sockets
 * they point to (~/.cache/libvirt): to it every link dangles, so it finds
 * no daemon and runs its own inside the sandbox, which shows no guests.
 * Read from the installations' metadata and the overrides `flatpak
 * override` writes, in flatpak's order (app, system, user); flatpak itself
 * is not run.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "paths.h"
#include "strv.h"
#include "xalloc.h"

/* Apps known to be libvirt clients even without xdg-run/libvirt. */
static const char *const known_clients[] = {
	"org.virt_manager.virt-manager", NULL,
};

/* Is path dir or below it? */
static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/' || n == 1);
}

/*
 * The host path a --filesystem token stands for ("" for host: all), NULL
 * for tokens that name no path here (xdg-documents and the like are never
 * where the sockets are).
 */
static char *
token_path(const char *tok, const char *home, const char *xdg)
{
	static const struct {
		const char *tok, *base;
	} xdgs[] = { { "xdg-cache", ".cache" }, { "xdg-config", ".config" },
		{ "xdg-data", ".local/share" } };
	size_t n = strcspn(tok, ":");	/* :ro, :rw, :create */
	char *t = xstrndup(tok, n), *p = NULL;

	if (strcmp(t, "host") == 0 || strcmp(t, "host-os") == 0)
		p = xstrdup("/");
	else if (strcmp(t, "home") == 0 || strcmp(t, "~") == 0)
		p = xstrdup(home);
	else if (strncmp(t, "~/", 2) == 0)
		p = paths_join(home, t + 2);
	else if (t[0] == '/')
		p = xstrdup(t);
	else if (strncmp(t, "xdg-run", 7) == 0 && xdg != NULL &&
	    (t[7] == '\0' || t[7] == '/'))
		p = t[7] == '\0' ? xstrdup(xdg) : paths_join(xdg, t + 8);
	for (size_t i = 0; p == NULL && i < sizeof(xdgs) / sizeof(xdgs[0]);
	    i++) {
		size_t len = strlen(xdgs[i].tok);
		char *base;

		if (strncmp(t, xdgs[i].tok, len) != 0 ||
		    (t[len] != '\0' && t[len] != '/'))
			continue;
		base = paths_join(home, xdgs[i].base);
		p = t[len] == '\0' ? xstrdup(base) : paths_join(base,
		    t + len + 1);
		free(base);
	}
	free(t);
	return p;
}

bool
doctor_flatpak_sees(const struct strv *fs, const char *home, const char *xdg,
    const char *path)
{
	bool seen = false;

	/* Later entries win: a "!tok" takes back an earlier tok. */
	for (size_t i = 0; i < fs->n; i++) {
		bool neg = fs->v[i][0] == '!';
		char *p = token_path(fs->v[i] + neg, home, xdg);

		if (p != NULL && under(path, p))
			seen = !neg;
		free(p);
	}
	return seen;
}

/* Add the filesystems= entries of file's [Context] to fs. */
static void
read_filesystems(const char *file, struct strv *fs)
{
	FILE *fp = fopen(file, "re");
	char line[4096];
	bool context = false;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *save = NULL;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[')
			context = strcmp(line, "[Context]") == 0;
		else if (context && strncmp(line, "filesystems=", 12) == 0)
			for (char *t = strtok_r(line + 12, ";", &save);
			    t != NULL; t = strtok_r(NULL, ";", &save))
				strv_add(fs, t);
	}
	fclose(fp);
}

static bool
is_known(const char *app)
{
	for (size_t i = 0; known_clients[i] != NULL; i++)
		if (strcmp(app, known_clients[i]) == 0)
			return true;
	return false;
}

/* The fix: the override that lets app see what it lacks. */
static char *
fix_for(const char *app, const char *home, bool sees_p, const char *r)
{
	char *target = under(r, home) && strcmp(r, home) != 0 ?
	    xasprintf("~/%s", r + strlen(home) + (home[1] != '\0')) :
	    xstrdup(r);
	char *fix = xasprintf("flatpak override --user%s --filesystem=%s %s",
	    sees_p ? "" : " --filesystem=xdg-run/libvirt", target, app);

	free(target);
	return fix;
}

/* One app of one installation. */
static void
check_app(struct doctor *d, const char *app, const char *where,
    const char *sys_dir, const char *user_dir, const char *home,
    const char *xdg, const char *p, const char *r)
{
	char *meta = xasprintf("%s/app/%s/current/active/metadata",
	    strcmp(where, "user") == 0 ? user_dir : sys_dir, app);
	const char *dirs[] = { sys_dir, user_dir };
	struct strv fs = { 0 };
	bool sees_p, sees_r;
	char *lacks;

	read_filesystems(meta, &fs);
	free(meta);
	for (size_t i = 0; i < 2; i++) {
		char *g = xasprintf("%s/overrides/global", dirs[i]);
		char *o = xasprintf("%s/overrides/%s", dirs[i], app);

		read_filesystems(g, &fs);
		read_filesystems(o, &fs);
		free(g);
		free(o);
	}
	sees_p = doctor_flatpak_sees(&fs, home, xdg, p);
	sees_r = doctor_flatpak_sees(&fs, home, xdg, r);
	strv_free(&fs);
	if (!sees_p && !is_known(app))
		return;			/* not a libvirt session client */
	if (sees_p && sees_r) {
		doctor_add(d, "flatpak", DOCTOR_OK, xasprintf("%s (%s) sees "
		    "%s and the broker's sockets in %s", app, where, p, r),
		    NULL);
		return;
	}
	lacks = sees_p ? xasprintf("sees %s but not %s, where its links "
	    "point", p, r) : xasprintf("sees neither %s nor %s", p, r);
	doctor_add(d, "flatpak", DOCTOR_WARN, xasprintf("%s (%s) %s: in its "
	    "sandbox the session's links dangle, it finds no daemon and runs "
	    "its own, which shows none of your guests", app, where, lacks),
	    fix_for(app, home, sees_p, r));
	free(lacks);
}

/* Every app of the installation at dir. */
static void
check_installation(struct doctor *d, const char *where, const char *sys_dir,
    const char *user_dir, const char *home, const char *xdg, const char *p,
    const char *r)
{
	char *apps = xasprintf("%s/app", strcmp(where, "user") == 0 ?
	    user_dir : sys_dir);
	DIR *dir = opendir(apps);
	struct dirent *de;

	free(apps);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			check_app(d, de->d_name, where, sys_dir, user_dir, home,
			    xdg, p, r);
	closedir(dir);
}

void
doctor_flatpak(struct doctor *d, const char *r)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_RUNTIME_DIR");
	const char *sys_dir = getenv("FLATPAK_SYSTEM_DIR");
	const char *user_env = getenv("FLATPAK_USER_DIR");
	const char *data = getenv("XDG_DATA_HOME");
	char *user_dir, *p;

	if (home == NULL || home[0] != '/' || xdg == NULL || xdg[0] != '/')
		return;		/* a sandbox always has XDG_RUNTIME_DIR */
	if (sys_dir == NULL || sys_dir[0] != '/')
		sys_dir = "/var/lib/flatpak";
	if (user_env != NULL && user_env[0] == '/')
		user_dir = xstrdup(user_env);
	else if (data != NULL && data[0] == '/')
		user_dir = paths_join(data, "flatpak");
	else
		user_dir = paths_join(home, ".local/share/flatpak");
	p = paths_join(xdg, PATHS_LIBVIRT_SUBDIR);
	check_installation(d, "system", sys_dir, user_dir, home, xdg, p, r);
	check_installation(d, "user", sys_dir, user_dir, home, xdg, p, r);
	free(p);
	free(user_dir);
}
