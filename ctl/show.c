/* SPDX-License-Identifier: MIT */
/* Edge: admin and guest facts for virt-brokerctl status (show.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctlproto.h"
#include "json.h"
#include "show.h"
#include "xalloc.h"

/* Values that stay strings in JSON even when they look like numbers. */
static const char *const string_keys[] = {
	"name", "transport", "comm", "unix_user_name", "unix_group_name",
	"sock_addr", "sasl_user_name", "tls_x509_dname", "selinux_context",
	"error", "info_error", NULL
};

static const char *
kv(const struct strv *w, const char *key)
{
	const char *v = ctlproto_kv(w, key);

	return v != NULL ? v : "";
}

static bool
is_kind(const struct strv *w, const char *kind)
{
	return w->n > 0 && strcmp(w->v[0], kind) == 0;
}

/* The result's lines split into words; *ret_n of them. */
static struct strv *
split_all(const struct adm_result *r, size_t *ret_n)
{
	struct strv *w = xcalloc(r->lines.n + 1, sizeof(*w));
	size_t n = 0;

	for (size_t i = 0; i < r->lines.n; i++)
		if (ctlproto_split(r->lines.v[i], &w[n]) == 0 && w[n].n > 0)
			n++;
	*ret_n = n;
	return w;
}

static void
free_all(struct strv *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_free(&w[i]);
	free(w);
}

/* Wall-clock seconds as local time, or "-". */
void
fmt_time(const char *epoch, char *buf, size_t size)
{
	time_t t = (time_t)strtoll(epoch, NULL, 10);
	struct tm tm;

	if (t <= 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void
text_client(const struct strv *c)
{
	char since[32];

	fmt_time(kv(c, "since"), since, sizeof(since));
	printf("    client %s: %s", kv(c, "id"), kv(c, "transport"));
	if (*kv(c, "unix_user_id") != '\0')
		printf(", uid %s (%s)", kv(c, "unix_user_id"),
		    *kv(c, "unix_user_name") ? kv(c, "unix_user_name") : "?");
	if (*kv(c, "unix_process_id") != '\0')
		printf(", pid %s (%s)", kv(c, "unix_process_id"),
		    *kv(c, "comm") ? kv(c, "comm") : "gone");
	if (*kv(c, "sock_addr") != '\0')
		printf(", from %s", kv(c, "sock_addr"));
	if (*kv(c, "sasl_user_name") != '\0')
		printf(", SASL user %s", kv(c, "sasl_user_name"));
	if (*kv(c, "tls_x509_dname") != '\0')
		printf(", x509 %s", kv(c, "tls_x509_dname"));
	if (*kv(c, "readonly") != '\0')
		printf(", %s", strcmp(kv(c, "readonly"), "1") == 0 ?
		    "read-only" : "read-write");
	printf(", since %s%s\n", since,
	    strcmp(kv(c, "self"), "1") == 0 ? " (this query)" : "");
	if (*kv(c, "info_error") != '\0')
		printf("      (no details: %s)\n", kv(c, "info_error"));
}

static void
text_server(struct strv *w, size_t n, const char *srv)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv(&w[i], "server"), srv) != 0)
			continue;
		if (is_kind(&w[i], "limits") && *kv(&w[i], "error"))
			printf("    client limits: %s\n", kv(&w[i], "error"));
		else if (is_kind(&w[i], "limits"))
			printf("    clients: %s of max %s; unauthenticated "
			    "%s of max %s\n", kv(&w[i], "nclients"),
			    kv(&w[i], "nclients_max"),
			    kv(&w[i], "nclients_unauth"),
			    kv(&w[i], "nclients_unauth_max"));
		else if (is_kind(&w[i], "threadpool") && *kv(&w[i], "error"))
			printf("    thread pool: %s\n", kv(&w[i], "error"));
		else if (is_kind(&w[i], "threadpool"))
			printf("    thread pool: %s workers (min %s, max %s), "
			    "%s free, %s priority, %s jobs queued\n",
			    kv(&w[i], "nWorkers"), kv(&w[i], "minWorkers"),
			    kv(&w[i], "maxWorkers"), kv(&w[i], "freeWorkers"),
			    kv(&w[i], "prioWorkers"),
			    kv(&w[i], "jobQueueDepth"));
		else if (is_kind(&w[i], "clients"))
			printf("    client list: %s\n", kv(&w[i], "error"));
		else if (is_kind(&w[i], "client"))
			text_client(&w[i]);
	}
}

void
show_admin_text(const struct adm_result *r)
{
	struct strv *w;
	size_t n;

	if (r->error != NULL) {
		printf("  admin: %s\n", r->error);
		return;
	}
	w = split_all(r, &n);
	for (size_t i = 0; i < n; i++) {
		if (!is_kind(&w[i], "server"))
			continue;
		printf("  server %s:\n", kv(&w[i], "name"));
		text_server(w, n, kv(&w[i], "name"));
	}
	free_all(w, n);
}

static bool
is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The words after the kind, but server=, as JSON members. */
static void
json_members(const struct strv *w)
{
	bool first = true;

	for (size_t i = 1; i < w->n; i++) {
		const char *eq = strchr(w->v[i], '=');
		char *key;
		bool str = true;

		if (eq == NULL || strncmp(w->v[i], "server=", 7) == 0)
			continue;
		key = xstrndup(w->v[i], (size_t)(eq - w->v[i]));
		printf("%s", first ? "" : ",");
		first = false;
		json_string(key);
		putchar(':');
		if (strcmp(key, "self") == 0 || strcmp(key, "readonly") == 0) {
			printf("%s", strcmp(eq + 1, "1") == 0 ? "true" :
			    "false");
			str = false;
		} else if (is_number(eq + 1)) {
			str = false;
			for (size_t k = 0; string_keys[k] != NULL; k++)
				str |= strcmp(key, string_keys[k]) == 0;
			if (!str)
				printf("%s", eq + 1);
		}
		if (str)
			json_string(eq + 1);
		free(key);
	}
}

static void
json_server(struct strv *w, size_t n, const char *srv)
{
	bool first = true;

	printf("{\"name\":");
	json_string(srv);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv(&w[i], "server"), srv) != 0)
			continue;
		if (is_kind(&w[i], "threadpool"))
			printf(",\"threadpool\":{");
		else if (is_kind(&w[i], "limits"))
			printf(",\"client_limits\":{");
		else if (is_kind(&w[i], "clients")) {
			printf(",\"clients_error\":");
			json_string(kv(&w[i], "error"));
			continue;
		} else
			continue;
		json_members(&w[i]);
		printf("}");
	}
	printf(",\"clients\":[");
	for (size_t i = 0; i < n; i++) {
		if (!is_kind(&w[i], "client") ||
		    strcmp(kv(&w[i], "server"), srv) != 0)
			continue;
		printf("%s{", first ? "" : ",");
		first = false;
		json_members(&w[i]);
		printf("}");
	}
	printf("]}");
}

/* ,"admin":{"servers":[...]} or ,"admin":{"error":"..."} */
void
show_admin_json(const struct adm_result *r)
{
	struct strv *w;
	size_t n;
	bool first = true;

	printf(",\"admin\":{");
	if (r->error != NULL) {
		printf("\"error\":");
		json_string(r->error);
		printf("}");
		return;
	}
	w = split_all(r, &n);
	printf("\"servers\":[");
	for (size_t i = 0; i < n; i++) {
		if (!is_kind(&w[i], "server"))
			continue;
		printf("%s", first ? "" : ",");
		first = false;
		json_server(w, n, kv(&w[i], "name"));
	}
	printf("]}");
	free_all(w, n);
}

void
show_guests_text(const char *dir, int err, const struct guest *g, size_t n)
{
	size_t alive = guests_alive(g, n);

	if (err < 0) {
		printf("  guests: %s: %s\n", dir, strerror(-err));
		return;
	}
	printf("  guests: %zu running (%s)\n", alive, dir);
	for (size_t i = 0; i < n; i++) {
		if (g[i].alive)
			printf("    %s: %s, QEMU pid %ld\n", g[i].name,
			    g[i].state != NULL ? g[i].state : "?",
			    (long)g[i].pid);
		else
			printf("    %s: status file left, QEMU pid %ld gone\n",
			    g[i].name, (long)g[i].pid);
	}
}

/* ,"guests":{"dir":..,"running":N,"list":[...]} */
void
show_guests_json(const char *dir, int err, const struct guest *g, size_t n)
{
	printf(",\"guests\":{\"dir\":");
	json_string(dir);
	if (err < 0) {
		printf(",\"error\":");
		json_string(strerror(-err));
		printf("}");
		return;
	}
	printf(",\"running\":%zu,\"list\":[", guests_alive(g, n));
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\":", i > 0 ? "," : "");
		json_string(g[i].name);
		printf(",\"state\":");
		json_string(g[i].state != NULL ? g[i].state : "");
		printf(",\"pid\":%ld,\"alive\":%s}", (long)g[i].pid,
		    g[i].alive ? "true" : "false");
	}
	printf("]}");
}
