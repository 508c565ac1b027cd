/* SPDX-License-Identifier: MIT */
/*
 * Edge: libvirt's admin API for virt-brokerctl (admin.h). Each query runs
 * in a child (child.h) that connects to the daemon's admin socket, asks,
 * writes ctlproto lines and exits; the parent never loads libvirt's state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt-admin.h>
#include <libvirt/virterror.h>

#include "admin.h"
#include "child.h"
#include "ctlproto.h"
#include "proc.h"
#include "xalloc.h"

bool
adm_built(void)
{
	return true;
}

/* libvirt's default handler prints every error to stderr: keep it quiet. */
static void
adm_quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static const char *
adm_errmsg(void)
{
	const char *m = virGetLastErrorMessage();

	return m != NULL ? m : "unknown libvirt error";
}

/* "KIND w1 w2 ..." with the words escaped, to the parent. */
static void
emit(FILE *out, const char *kind, const struct strv *w)
{
	char *body = ctlproto_join((const char *const *)w->v, w->n);

	fprintf(out, "%s %s\n", kind, body);
	free(body);
}

static void
emit_error(FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit_error(FILE *out, const char *fmt, ...)
{
	struct strv w = { 0 };
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	strv_addf(&w, "text=%s", msg != NULL ? msg : "out of memory");
	emit(out, "error", &w);
	strv_free(&w);
	free(msg);
}

/* Typed parameters as key=value words, the way libvirt names them. */
static void
add_params(struct strv *w, virTypedParameterPtr p, int n)
{
	for (int i = 0; i < n; i++) {
		switch (p[i].type) {
		case VIR_TYPED_PARAM_INT:
			strv_addf(w, "%s=%d", p[i].field, p[i].value.i);
			break;
		case VIR_TYPED_PARAM_UINT:
			strv_addf(w, "%s=%u", p[i].field, p[i].value.ui);
			break;
		case VIR_TYPED_PARAM_LLONG:
			strv_addf(w, "%s=%lld", p[i].field, p[i].value.l);
			break;
		case VIR_TYPED_PARAM_ULLONG:
			strv_addf(w, "%s=%llu", p[i].field, p[i].value.ul);
			break;
		case VIR_TYPED_PARAM_DOUBLE:
			strv_addf(w, "%s=%g", p[i].field, p[i].value.d);
			break;
		case VIR_TYPED_PARAM_BOOLEAN:
			strv_addf(w, "%s=%d", p[i].field, p[i].value.b != 0);
			break;
		case VIR_TYPED_PARAM_STRING:
			strv_addf(w, "%s=%s", p[i].field, p[i].value.s);
			break;
		default:
			break;
		}
	}
}

/* virTypedParamsFree is libvirt's, not libvirt-admin's. */
static void
free_params(virTypedParameterPtr p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i].type == VIR_TYPED_PARAM_STRING)
			free(p[i].value.s);
	free(p);
}

static const char *
transport_name(int t)
{
	switch (t) {
	case VIR_CLIENT_TRANS_UNIX:
		return "unix";
	case VIR_CLIENT_TRANS_TCP:
		return "tcp";
	case VIR_CLIENT_TRANS_TLS:
		return "tls";
	default:
		return "?";
	}
}

static long long
param_ll(virTypedParameterPtr p, int n, const char *field)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(p[i].field, field) != 0)
			continue;
		switch (p[i].type) {
		case VIR_TYPED_PARAM_INT:
			return p[i].value.i;
		case VIR_TYPED_PARAM_UINT:
			return p[i].value.ui;
		case VIR_TYPED_PARAM_LLONG:
			return p[i].value.l;
		case VIR_TYPED_PARAM_ULLONG:
			return (long long)p[i].value.ul;
		default:
			return -1;
		}
	}
	return -1;
}

static void
query_client(FILE *out, const char *srv, virAdmClientPtr c)
{
	virTypedParameterPtr p = NULL;
	struct strv w = { 0 };
	char comm[32];
	long long pid;
	int n = 0;

	strv_addf(&w, "server=%s", srv);
	strv_addf(&w, "id=%llu", virAdmClientGetID(c));
	strv_addf(&w, "transport=%s",
	    transport_name(virAdmClientGetTransport(c)));
	strv_addf(&w, "since=%lld", virAdmClientGetTimestamp(c));
	if (virAdmClientGetInfo(c, &p, &n, 0) < 0) {
		strv_addf(&w, "info_error=%s", adm_errmsg());
		n = 0;
	}
	pid = param_ll(p, n, VIR_CLIENT_INFO_UNIX_PROCESS_ID);
	strv_addf(&w, "self=%d", pid == (long long)getpid());
	if (pid > 0 && proc_comm((pid_t)pid, comm, sizeof(comm)))
		strv_addf(&w, "comm=%s", comm);
	add_params(&w, p, n);
	free_params(p, n);
	emit(out, "client", &w);
	strv_free(&w);
}

static void
query_server(FILE *out, virAdmServerPtr s)
{
	const char *name = virAdmServerGetName(s);
	virTypedParameterPtr p = NULL;
	virAdmClientPtr *cl = NULL;
	struct strv w = { 0 };
	int n = 0, nc;

	strv_addf(&w, "name=%s", name);
	emit(out, "server", &w);
	strv_free(&w);

	strv_addf(&w, "server=%s", name);
	if (virAdmServerGetThreadPoolParameters(s, &p, &n, 0) < 0)
		strv_addf(&w, "error=%s", adm_errmsg());
	else
		add_params(&w, p, n);
	free_params(p, n);
	emit(out, "threadpool", &w);
	strv_free(&w);

	p = NULL;
	n = 0;
	strv_addf(&w, "server=%s", name);
	if (virAdmServerGetClientLimits(s, &p, &n, 0) < 0)
		strv_addf(&w, "error=%s", adm_errmsg());
	else
		add_params(&w, p, n);
	free_params(p, n);
	emit(out, "limits", &w);
	strv_free(&w);

	nc = virAdmServerListClients(s, &cl, 0);
	if (nc < 0) {
		strv_addf(&w, "server=%s", name);
		strv_addf(&w, "error=%s", adm_errmsg());
		emit(out, "clients", &w);
		strv_free(&w);
		return;
	}
	for (int i = 0; i < nc; i++) {
		query_client(out, name, cl[i]);
		virAdmClientFree(cl[i]);
	}
	free(cl);
}

/* "%XX" for every byte of a path that is not plain in a URI's query. */
static char *
uri_escape(const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-~";
	char *r = xmalloc(strlen(s) * 3 + 1), *p = r;

	for (; *s != '\0'; s++) {
		if (strchr(plain, *s) != NULL)
			*p++ = *s;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*s);
	}
	*p = '\0';
	return r;
}

/*
 * The daemon at exactly this socket: the socket parameter overrides the
 * path libvirt would derive from the scheme, and libvirt-admin never
 * spawns a daemon.
 */
static virAdmConnectPtr
adm_open(const struct adm_target *t, FILE *out)
{
	char *sock = uri_escape(t->socket), *uri;
	virAdmConnectPtr conn;

	uri = xasprintf("%s:///%s?socket=%s", t->unit,
	    t->system ? "system" : "session", sock);
	free(sock);
	virSetErrorFunc(NULL, adm_quiet);
	conn = virAdmConnectOpen(uri, 0);
	if (conn == NULL)
		emit_error(out, "%s: admin socket %s: %s", t->unit, t->socket,
		    adm_errmsg());
	free(uri);
	return conn;
}

static int
query_child(void *arg, FILE *out)
{
	const struct adm_target *t = arg;
	virAdmConnectPtr conn = adm_open(t, out);
	virAdmServerPtr *srv = NULL;
	int n;

	if (conn == NULL)
		return 1;
	n = virAdmConnectListServers(conn, &srv, 0);
	if (n < 0) {
		emit_error(out, "%s: list servers: %s", t->unit, adm_errmsg());
		virAdmConnectClose(conn);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		query_server(out, srv[i]);
		virAdmServerFree(srv[i]);
	}
	free(srv);
	virAdmConnectClose(conn);
	return 0;
}

struct logging_arg {
	const struct adm_target	*t;
	const char		*filters, *outputs;
};

/* The current filters and outputs, then the new ones if any. */
static int
logging_child(void *arg, FILE *out)
{
	const struct logging_arg *a = arg;
	virAdmConnectPtr conn = adm_open(a->t, out);
	char *f = NULL, *o = NULL;
	struct strv w = { 0 };
	int r = 1;

	if (conn == NULL)
		return 1;
	if (virAdmConnectGetLoggingFilters(conn, &f, 0) < 0 ||
	    virAdmConnectGetLoggingOutputs(conn, &o, 0) < 0) {
		emit_error(out, "%s: get log settings: %s", a->t->unit,
		    adm_errmsg());
		goto out;
	}
	strv_addf(&w, "filters=%s", f != NULL ? f : "");
	strv_addf(&w, "outputs=%s", o != NULL ? o : "");
	emit(out, "logging", &w);
	if (a->filters != NULL &&
	    virAdmConnectSetLoggingFilters(conn, a->filters, 0) < 0) {
		emit_error(out, "%s: log filters '%s': %s", a->t->unit,
		    a->filters, adm_errmsg());
		goto out;
	}
	if (a->outputs != NULL &&
	    virAdmConnectSetLoggingOutputs(conn, a->outputs, 0) < 0) {
		emit_error(out, "%s: log outputs '%s': %s", a->t->unit,
		    a->outputs, adm_errmsg());
		goto out;
	}
	r = 0;
out:
	strv_free(&w);
	free(f);
	free(o);
	virAdmConnectClose(conn);
	return r;
}

/* The process state letter from /proc/PID/stat, or 0. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p, st = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
		st = p[2];
	fclose(fp);
	return st;
}

static char *
timeout_msg(const struct adm_target *t)
{
	char st = proc_state(t->pid);

	return xasprintf("%s (pid %ld): no answer on its admin socket %s "
	    "within %d s: %s", t->unit, (long)t->pid, t->socket,
	    ADM_TIMEOUT_MS / 1000,
	    st == 'T' || st == 't' ? "the process is stopped (SIGSTOP?)" :
	    st == 0 ? "the process is gone" : "is it hung?");
}

/* The child's lines into r; its error line, or a made-up one, as error. */
static void
collect(const struct adm_target *t, const struct child *c,
    struct adm_result *r)
{
	memset(r, 0, sizeof(*r));
	if (c->timed_out) {
		r->error = timeout_msg(t);
		return;
	}
	for (char *p = c->out, *nl; p != NULL && (nl = strchr(p, '\n'));
	    p = nl + 1) {
		struct strv w = { 0 };

		*nl = '\0';
		if (ctlproto_split(p, &w) == 0 && w.n > 0 &&
		    strcmp(w.v[0], "error") == 0 && r->error == NULL)
			r->error = xstrdup(ctlproto_kv(&w, "text") != NULL ?
			    ctlproto_kv(&w, "text") : "?");
		else
			strv_add(&r->lines, p);
		strv_free(&w);
	}
	if (r->error == NULL && c->signo != 0)
		r->error = xasprintf("%s: the admin query was killed by "
		    "signal %d (%s)", t->unit, c->signo, strsignal(c->signo));
	else if (r->error == NULL && c->status != 0)
		r->error = xasprintf("%s: the admin query failed (status %d)",
		    t->unit, c->status);
}

void
adm_query(const struct adm_target *t, size_t n, struct adm_result *ret)
{
	struct child *c = xcalloc(n > 0 ? n : 1, sizeof(*c));
	int *err = xcalloc(n > 0 ? n : 1, sizeof(*err));

	for (size_t i = 0; i < n; i++)
		err[i] = child_start(&c[i], query_child, (void *)&t[i]);
	child_wait(c, n, ADM_TIMEOUT_MS);
	for (size_t i = 0; i < n; i++) {
		if (err[i] < 0) {
			memset(&ret[i], 0, sizeof(ret[i]));
			ret[i].error = xasprintf("%s: fork: %s", t[i].unit,
			    strerror(-err[i]));
		} else {
			collect(&t[i], &c[i], &ret[i]);
		}
		child_free(&c[i]);
	}
	free(err);
	free(c);
}

int
adm_logging(const struct adm_target *t, const char *filters,
    const char *outputs, char **ret_filters, char **ret_outputs,
    char **reterr)
{
	struct logging_arg a = { t, filters, outputs };
	struct adm_result r;
	struct child c;
	int e;

	if ((e = child_start(&c, logging_child, &a)) < 0) {
		*reterr = xasprintf("%s: fork: %s", t->unit, strerror(-e));
		return -1;
	}
	child_wait(&c, 1, ADM_TIMEOUT_MS);
	collect(t, &c, &r);
	child_free(&c);
	if (r.error != NULL) {
		*reterr = r.error;
		r.error = NULL;
		adm_result_free(&r);
		return -1;
	}
	for (size_t i = 0; i < r.lines.n; i++) {
		struct strv w = { 0 };

		if (ctlproto_split(r.lines.v[i], &w) == 0 && w.n > 0 &&
		    strcmp(w.v[0], "logging") == 0) {
			*ret_filters = xstrdup(ctlproto_kv(&w, "filters") ?
			    ctlproto_kv(&w, "filters") : "");
			*ret_outputs = xstrdup(ctlproto_kv(&w, "outputs") ?
			    ctlproto_kv(&w, "outputs") : "");
			strv_free(&w);
			adm_result_free(&r);
			return 0;
		}
		strv_free(&w);
	}
	adm_result_free(&r);
	*reterr = xasprintf("%s: the daemon did not say its log settings",
	    t->unit);
	return -1;
}

void
adm_result_free(struct adm_result *r)
{
	strv_free(&r->lines);
	free(r->error);
	r->error = NULL;
}
