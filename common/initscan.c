/* SPDX-License-Identifier: MIT */
/*
 * Edge: reads the places init systems enable services in (initsvc.h),
 * under root ("/" but in tests), and hands each libvirt service it finds
 * enabled to the caller. A place that does not exist is no init system of
 * this host; a link that leads nowhere still enables (a dangling link in
 * /var/service is a service runsvdir tries to run).
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "initsvc.h"
#include "paths.h"

size_t
initsvc_scan(const char *root, initsvc_found_fn *fn, void *arg)
{
	size_t found = 0;

	for (size_t i = 0; initsvc_places[i].dir != NULL; i++) {
		const struct initsvc_place *pl = &initsvc_places[i];
		char *dir = paths_join(root, pl->dir);
		DIR *dd = opendir(dir);
		struct dirent *de;

		while (dd != NULL && (de = readdir(dd)) != NULL) {
			const char *daemon = initsvc_match(pl->kind, de->d_name);
			struct initsvc_found f;
			struct stat st;
			char *path;

			if (daemon == NULL)
				continue;
			path = paths_join(dir, de->d_name);
			if (lstat(path, &st) == 0) {
				f.kind = pl->kind;
				f.daemon = daemon;
				f.entry = de->d_name;
				f.path = path;
				f.level = pl->level;
				fn(&f, arg);
				found++;
			}
			free(path);
		}
		if (dd != NULL)
			closedir(dd);
		free(dir);
	}
	return found;
}
