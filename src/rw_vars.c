/*
 * rw_vars.c: the server variables of %{NAME} in rewrite rules, as Apache's
 * mod_rewrite names them.  Unknown names are NULL (empty in a rule).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rewrite_int.h"

/* "HTTP_USER_AGENT" -> "User-Agent" (header lookups ignore case anyway). */
static const char *
http_var(struct rw_req *r, const char *name, char *buf, size_t sz)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < sz; i++)
		buf[i] = name[i] == '_' ? '-' : name[i];
	buf[i] = '\0';
	return r->header != NULL ? r->header(r->ctx, buf) : NULL;
}

/*
 * The server's time as mod_rewrite and ap_expr name it (local time, as
 * Apache's); NULL if name is none of them.  cmp: mod_rewrite's names are
 * exact, ap_expr's any case.
 */
const char *
rw_time_var(const char *name, char *buf, size_t sz, int (*cmp)(const char *, const char *))
{
	static const struct {
		const char *n, *f;
	} tv[] = {
		{ "TIME_YEAR", "%Y" }, { "TIME_MON", "%m" }, { "TIME_DAY", "%d" },
		{ "TIME_HOUR", "%H" }, { "TIME_MIN", "%M" }, { "TIME_SEC", "%S" },
		{ "TIME_WDAY", "%w" }, { "TIME", "%Y%m%d%H%M%S" },
	};
	struct tm	tm;
	time_t		now = time(NULL);
	size_t		i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++)
		if (cmp(name, tv[i].n) == 0) {
			localtime_r(&now, &tm);
			strftime(buf, sz, tv[i].f, &tm);
			return buf;
		}
	return NULL;
}

/* REQUEST_FILENAME before the walk cuts it: the whole path as a file. */
static void
full_filename(const struct rw_req *r, char *buf, size_t sz)
{
	const char *under;

	if (r->filename != NULL) {
		snprintf(buf, sz, "%s", r->filename);
		return;
	}
	under = r->uri + (strncmp(r->uri, r->root_url, strlen(r->root_url)) == 0 ?
	    strlen(r->root_url) : 0);
	snprintf(buf, sz, "%s%s", r->document_root, under);
}

const char *
rw_path_info(struct rw_req *r, char *buf, size_t sz)
{
	char	cut[PATH_MAX];
	size_t	n;

	full_filename(r, buf, sz);
	snprintf(cut, sizeof(cut), "%s", buf);
	rw_split_path_info(r, cut);
	n = strlen(cut);
	memmove(buf, buf + n, strlen(buf + n) + 1);
	return buf;
}

/* The variables that follow from the request's path alone. */
const char *
rw_path_var(struct rw_req *r, const char *name, char *buf, size_t sz)
{
	if (strcmp(name, "REQUEST_URI") == 0)
		return r->uri;
	if (strcmp(name, "DOCUMENT_ROOT") == 0 || strcmp(name, "CONTEXT_DOCUMENT_ROOT") == 0)
		return r->document_root;
	if (strcmp(name, "CONTEXT_PREFIX") == 0)
		return r->root_url;
	if (strcmp(name, "REQUEST_FILENAME") == 0 || strcmp(name, "SCRIPT_FILENAME") == 0) {
		full_filename(r, buf, sz);
		rw_split_path_info(r, buf);
		return buf;
	}
	if (strcmp(name, "PATH_INFO") == 0)
		return rw_path_info(r, buf, sz);
	return NULL;
}

const char *
rw_other_var(struct rw_req *r, const char *name, char *buf, size_t sz)
{
	/* A header can be compared by front again; anything else cannot. */
	if (strncmp(name, "HTTP:", 5) != 0 && strncmp(name, "HTTP_", 5) != 0)
		r->unvaried = 1;
	if (strcmp(name, "QUERY_STRING") == 0)
		return r->query;
	if (strcmp(name, "REQUEST_METHOD") == 0)
		return r->method;
	if (strcmp(name, "REMOTE_ADDR") == 0 || strcmp(name, "REMOTE_HOST") == 0)
		return r->remote_addr;
	if (strcmp(name, "HTTPS") == 0)
		return r->https ? "on" : "off";
	if (strcmp(name, "REQUEST_SCHEME") == 0)
		return r->https ? "https" : "http";
	if (strcmp(name, "SERVER_PORT") == 0) {
		snprintf(buf, sz, "%u", r->port);
		return buf;
	}
	if (strcmp(name, "SERVER_NAME") == 0)
		return r->server_name;
	if (strcmp(name, "THE_REQUEST") == 0)
		return r->the_request;
	if (strcmp(name, "SERVER_PROTOCOL") == 0)
		return r->protocol;
	if (strcmp(name, "SERVER_SOFTWARE") == 0)
		return "lockerd";
	if (strcmp(name, "API_VERSION") == 0)
		return "20120211:0";
	if (strcmp(name, "IS_SUBREQ") == 0)
		return "false";
	if (strncmp(name, "ENV:", 4) == 0)
		return rw_env_get(r, name + 4);
	if (strncmp(name, "HTTP:", 5) == 0)
		return r->header != NULL ? r->header(r->ctx, name + 5) : NULL;
	if (strncmp(name, "HTTP_", 5) == 0)
		return http_var(r, name + 5, buf, sz);
	if (strncmp(name, "SSL:", 4) == 0 || strncmp(name, "SSL_", 4) == 0)
		return r->ssl != NULL ? r->ssl(r->ctx, name + (name[3] == ':' ? 4 : 0)) : NULL;
	return rw_time_var(name, buf, sz, strcmp);
}
