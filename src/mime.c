/*
 * mime.c: content types from the system's mime.types (Debian's
 * media-types package), for the extensions the configuration serves.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

/* Types a site expects even where mime.types is missing or terse. */
static const char *fallback[][2] = {
	{ "html", "text/html" }, { "htm", "text/html" }, { "css", "text/css" },
	{ "js", "text/javascript" }, { "mjs", "text/javascript" },
	{ "json", "application/json" }, { "txt", "text/plain" },
	{ "md", "text/markdown" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "svg", "image/svg+xml" },
	{ "ico", "image/vnd.microsoft.icon" }, { "webp", "image/webp" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "pdf", "application/pdf" },
	{ "wasm", "application/wasm" }, { "map", "application/json" },
	{ NULL, NULL }
};

static int
find(const struct mime_map *m, const char *ext)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->ext[i], ext) == 0)
			return i;
	return -1;
}

static void
set(struct mime_map *m, const char *ext, const char *type, int overwrite)
{
	int i = find(m, ext);

	if (i == -1) {
		if (m->n == CONF_MAX_EXT)
			return;
		i = m->n++;
		snprintf(m->ext[i], sizeof(m->ext[i]), "%s", ext);
	} else if (!overwrite)
		return;
	snprintf(m->type[i], sizeof(m->type[i]), "%s", type);
}

struct mime_map *
mime_load(const char *path, const struct config *c)
{
	struct mime_map	*m;
	FILE		*fp;
	char		 line[1024];
	int		 i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((fp = fopen(path, "re")) == NULL)
		goto fallbacks;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *type, *ext, *save;

		if (line[0] == '#')
			continue;
		if ((type = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (strlen(type) >= 100 || strchr(type, '/') == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			if (config_static_ext(c, ext))
				set(m, ext, type, 0);	/* the first mention wins */
	}
	fclose(fp);
fallbacks:
	for (i = 0; fallback[i][0] != NULL; i++)
		if (config_static_ext(c, fallback[i][0]))
			set(m, fallback[i][0], fallback[i][1], 0);
	return m;
}

const char *
mime_lookup(const struct mime_map *m, const char *ext)
{
	/* A name without an extension (a rewrite's target, "NOEXTENSION") has none. */
	int i = ext != NULL ? find(m, ext) : -1;

	return i == -1 ? "application/octet-stream" : m->type[i];
}

void
mime_free(struct mime_map *m)
{
	free(m);
}
