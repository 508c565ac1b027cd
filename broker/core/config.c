/* SPDX-License-Identifier: MIT */
/*
 * Pure: parses virt-broker.conf with inih into struct config; owns the
 * struct config lifecycle, the error list, the line reader and sections.
 * Keys are in config_keys.c, single values in config_values.c.
 *
 * Debian's shared inih (55) has no line numbers in the handler, stops
 * telling after the first bad line, and passes a truncated value for a line
 * over 199 bytes. So lines come through our own reader: it counts lines for
 * the handler, rejects overlong lines (and swallows their remainder) and
 * lines with a NUL byte (where fgets() would end them without telling), and
 * checks the syntax inih would reject silently, so every error is reported
 * as FILE:LINE, not only the first.
 */
#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "xalloc.h"

struct config *
cfg_new(const char *file)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->file = xstrdup(file);
	cfg->search_path = xstrdup(CFG_DEFAULT_SEARCH_PATH);
	cfg->backlog = CFG_DEFAULT_BACKLOG;
	cfg->holder_timeout = CFG_DEFAULT_HOLDER_TIMEOUT;
	cfg->on_shutdown = ON_SHUTDOWN_SAVE;
	cfg->shutdown_timeout = CFG_DEFAULT_SHUTDOWN_TIMEOUT;
	return cfg;
}

static void
unit_conf_clear(struct unit_conf *u)
{
	free(u->socket_group);
	free(u->listen_tcp);
	free(u->listen_tls);
	free(u->name);
	free(u->exec);
	strv_free(&u->args);
	strv_free(&u->env);
	for (size_t i = 0; i < u->nsockets; i++) {
		free(u->sockets[i].name);
		free(u->sockets[i].path);
		free(u->sockets[i].group);
	}
	free(u->sockets);
}

void
cfg_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nunits; i++)
		unit_conf_clear(&cfg->units[i]);
	free(cfg->units);
	strmap_clear(&cfg->unit_index);
	free(cfg->file);
	free(cfg->runtime_dir);
	free(cfg->search_path);
	free(cfg->log_dir);
	free(cfg->socket_group);
	strv_free(&cfg->publish);
	strv_free(&cfg->users);
	strv_free(&cfg->errors);
	free(cfg);
}

struct unit_conf *
cfg_find_unit(const struct config *cfg, const char *name)
{
	size_t i;

	return strmap_get(&cfg->unit_index, name, &i) ? &cfg->units[i] : NULL;
}

static struct unit_conf *
cfg_unit(struct cfg_ctx *ctx, const char *name)
{
	struct config *cfg = ctx->cfg;
	struct unit_conf *u = cfg_find_unit(cfg, name);

	if (u != NULL)
		return u;
	if (cfg->nunits >= CFG_MAX_UNITS)
		return NULL;
	cfg->units = xgrow(cfg->units, cfg->nunits, sizeof(*cfg->units));
	u = &cfg->units[cfg->nunits++];
	memset(u, 0, sizeof(*u));
	u->name = xstrdup(name);
	strmap_add(&cfg->unit_index, u->name, cfg->nunits - 1, NULL);
	u->line = ctx->line;
	u->start = START_ON_DEMAND;
	u->restart = RESTART_ON_FAILURE;
	u->stop_timeout = CFG_DEFAULT_STOP_TIMEOUT;
	u->stop_on_exit = true;
	u->start_limit_burst = CFG_DEFAULT_START_LIMIT_BURST;
	u->start_limit_interval = CFG_DEFAULT_START_LIMIT_INTERVAL;
	u->failed_cooldown = CFG_DEFAULT_FAILED_COOLDOWN;
	u->log_max_size = CFG_DEFAULT_LOG_MAX_SIZE;
	u->log_keep = CFG_DEFAULT_LOG_KEEP;
	return u;
}

/* inih's handler: returns 1 always, since every error is recorded here. */
static int
cfg_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct cfg_ctx *ctx = user;
	struct unit_conf *u;

	if (ctx->bad_line == ctx->line)
		return 1;		/* the reader reported this line */
	if (section[0] == '\0') {
		cfg_error(ctx->cfg, ctx->line, "key '%s' outside any section "
		    "(start with [broker] or [UNIT])", key);
		return 1;
	}
	if (strcmp(section, "broker") == 0) {
		cfg_broker_key(ctx, key, value);
		return 1;
	}
	u = cfg_find_unit(ctx->cfg, section);
	if (u == NULL)
		return 1;		/* the reader reported its header */
	if (value[0] == '\0' && strcmp(key, "args") != 0) {
		cfg_error(ctx->cfg, ctx->line, "[unit %s] %s: empty value",
		    u->name, key);
		return 1;
	}
	cfg_unit_key(ctx, u, key, value);
	return 1;
}

/*
 * The syntax inih rejects without telling the handler: a line that is not
 * blank, a comment, a [section] or a key = value. Also a line starting with
 * white space, which inih would take as a continuation of the previous key.
 */
static const char *
cfg_syntax_error(const char *buf, bool first_line)
{
	const char *p = buf, *comment;
	size_t len;

	if (first_line && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	if (*p == ' ' || *p == '\t') {
		p += strspn(p, " \t\r\n");
		if (*p == '\0' || *p == ';' || *p == '#')
			return NULL;
		return "line starts with white space (continuation lines are "
		    "not supported)";
	}
	if (*p == '\0' || *p == '\r' || *p == '\n' || *p == ';' || *p == '#')
		return NULL;
	/* inih ends the line at " ;" (an inline comment): so do we. */
	len = strlen(p);
	for (comment = p + 1; *comment != '\0'; comment++)
		if (*comment == ';' && (comment[-1] == ' ' ||
		    comment[-1] == '\t')) {
			len = (size_t)(comment - p);
			break;
		}
	if (*p == '[')
		return memchr(p, ']', len) != NULL ? NULL :
		    "section header without ']'";
	if (*p == '=' || *p == ':')
		return "key name missing before '='";
	if (memchr(p, '=', len) == NULL && memchr(p, ':', len) == NULL)
		return "expected 'key = value' or '[section]'";
	return NULL;
}

/*
 * A [section] header: units are created here, so that empty ones count. A
 * section given twice in one file is an error; its keys still go to the
 * first one, to be checked.
 */
static void
cfg_section(struct cfg_ctx *ctx, const char *buf)
{
	const char *open = strchr(buf, '[');
	size_t len = strcspn(open + 1, "]");
	char *name = xstrndup(open + 1, len);
	struct unit_conf *u;

	if (strcmp(name, "broker") == 0) {
		if (ctx->broker_line > 0)
			cfg_error(ctx->cfg, ctx->line, "[broker] repeated; its "
			    "first section is at line %d", ctx->broker_line);
		else
			ctx->broker_line = ctx->line;
	} else if (!cfg_unit_name_is_valid(name))
		cfg_error(ctx->cfg, ctx->line, "[%s] invalid unit name "
		    "(letters, digits, '_', '.', '@', '-'; at most %d)", name,
		    CFG_UNIT_NAME_MAX);
	else if ((u = cfg_find_unit(ctx->cfg, name)) != NULL &&
	    (size_t)(u - ctx->cfg->units) >= ctx->first_unit)
		cfg_error(ctx->cfg, ctx->line, "[%s] repeated; its first "
		    "section is at line %d", name, u->line);
	else if (cfg_unit(ctx, name) == NULL)
		cfg_error(ctx->cfg, ctx->line, "too many units (at most %d)",
		    CFG_MAX_UNITS);
	free(name);
}

/*
 * Like fgets(), but reads the line to its end however long: keeps up to
 * size - 1 bytes of it in buf, NUL-terminated, and drops the rest. Returns
 * the line's whole length, its newline included, and tells in ret_nul
 * whether it holds a NUL byte, which fgets() would take for its end; or
 * returns 0 at the end of the file.
 */
static size_t
cfg_getline(FILE *fp, char *buf, int size, bool *ret_nul)
{
	size_t n = 0, max = (size_t)size - 1;
	bool nul = false;
	int c;

	while ((c = getc(fp)) != EOF) {
		if (n < max)
			buf[n] = (char)c;
		n++;
		if (c == '\0')
			nul = true;
		else if (c == '\n')
			break;
	}
	buf[n < max ? n : max] = '\0';
	if (n > 0)
		*ret_nul = nul;
	return n;
}

/* An ini_reader: one line per call, counted, checked (see top). */
static char *
cfg_read_line(char *buf, int size, void *stream)
{
	struct cfg_ctx *ctx = stream;
	size_t n, max = (size_t)size - 1;
	const char *err;
	bool nul;

	n = cfg_getline(ctx->fp, buf, size, &nul);
	if (n == 0)
		return NULL;
	ctx->line++;
	if (nul) {
		/* inih would see the line end there, the rest lost. */
		cfg_error(ctx->cfg, ctx->line, "NUL byte in the line");
	} else if (n > max || (n == max && buf[n - 1] != '\n')) {
		/* Overlong: inih would hand over a truncated value. */
		cfg_error(ctx->cfg, ctx->line, "line too long (at most %d "
		    "bytes)", size - 2);
	} else if ((err = cfg_syntax_error(buf, ctx->line == 1)) != NULL) {
		cfg_error(ctx->cfg, ctx->line, "%s", err);
	} else {
		if (buf[ctx->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) ==
		    0 ? 3 : 0] == '[')
			cfg_section(ctx, buf);
		return buf;
	}
	ctx->bad_line = ctx->line;
	buf[0] = '\n';			/* hand inih an empty line */
	buf[1] = '\0';
	return buf;
}

/* Was an error recorded (since index from) for that line? */
static bool
cfg_has_error_at(const struct config *cfg, size_t from, int line)
{
	size_t flen = strlen(cfg->file);
	char prefix[32];

	snprintf(prefix, sizeof(prefix), ":%d: ", line);
	for (size_t i = from; i < cfg->errors.n; i++)
		if (strncmp(cfg->errors.v[i] + flen, prefix,
		    strlen(prefix)) == 0)
			return true;
	return false;
}

/* Returns the number of errors recorded so far in cfg->errors. */
int
cfg_parse(struct config *cfg, FILE *fp)
{
	struct cfg_ctx ctx = { .cfg = cfg, .fp = fp,
	    .first_unit = cfg->nunits };
	size_t before = cfg->errors.n;
	int r;

	r = ini_parse_stream(cfg_read_line, &ctx, cfg_handler, &ctx);
	if (r > 0 && !cfg_has_error_at(cfg, before, r))
		cfg_error(cfg, r, "syntax error");
	else if (r < 0)
		cfg_error(cfg, 0, "cannot parse (inih error %d)", r);
	if (ferror(fp))
		cfg_error(cfg, 0, "read error");
	return (int)cfg->errors.n;
}

int
cfg_parse_string(struct config *cfg, const char *text)
{
	FILE *fp;
	int r;

	if (text[0] == '\0')
		return (int)cfg->errors.n;
	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	if (fp == NULL)
		return -errno;
	r = cfg_parse(cfg, fp);
	fclose(fp);
	return r;
}
