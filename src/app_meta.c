/*
 * app_meta.c: the install's metadata, `.lockerd-app` (scripts.mit.edu's
 * .scripts-version): key=value lines, mode 0600.  The locker can write the
 * file, so it is untrusted bytes: parsed only here, by lockerd-app as the
 * locker, strictly (known keys, bounded values, printable, no duplicates),
 * and fuzzed (fuzz/fuzz_appmeta.c).  The master never reads it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

struct meta_key {
	const char	*name;
	size_t		 off, len;
};

#define MK(f)	{ #f, offsetof(struct app_meta, f), sizeof(((struct app_meta *)0)->f) }
static const struct meta_key meta_keys[] = {
	MK(app), MK(version), MK(installed), MK(url), MK(admin), MK(password),
	MK(db), MK(dbname), MK(state),
};
#define NKEYS	(sizeof(meta_keys) / sizeof(meta_keys[0]))

/* A value: printable ASCII, no quote or backslash (nothing to escape). */
static int
value_ok(const char *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return 0;
	return 1;
}

static int
meta_line(const char *s, size_t n, struct app_meta *m, unsigned *seen, size_t line, char *why,
    size_t wl)
{
	const char	*eq = memchr(s, '=', n);
	size_t		 k, i, vl;

	if (eq == NULL) {
		snprintf(why, wl, "line %zu: expected key=value", line);
		return -1;
	}
	k = (size_t)(eq - s);
	vl = n - k - 1;
	for (i = 0; i < NKEYS; i++)
		if (strlen(meta_keys[i].name) == k && memcmp(meta_keys[i].name, s, k) == 0)
			break;
	if (i == NKEYS) {
		snprintf(why, wl, "line %zu: unknown key", line);
		return -1;
	}
	if (*seen & (1u << i)) {
		snprintf(why, wl, "line %zu: %s given twice", line, meta_keys[i].name);
		return -1;
	}
	if (vl >= meta_keys[i].len || !value_ok(eq + 1, vl)) {
		snprintf(why, wl, "line %zu: %s: too long or not printable", line, meta_keys[i].name);
		return -1;
	}
	*seen |= 1u << i;
	memcpy((char *)m + meta_keys[i].off, eq + 1, vl);
	((char *)m + meta_keys[i].off)[vl] = '\0';
	return 0;
}

int
app_meta_parse(const char *text, size_t len, struct app_meta *m, char *why, size_t wl)
{
	size_t		 i = 0, line = 0;
	unsigned	 seen = 0;

	memset(m, 0, sizeof(*m));
	while (i < len) {
		const char	*s = text + i, *nl = memchr(s, '\n', len - i);
		size_t		 n = nl ? (size_t)(nl - s) : len - i;

		i += n + 1;
		line++;
		if (n == 0 || *s == '#')
			continue;
		if (meta_line(s, n, m, &seen, line, why, wl) == -1)
			return -1;
	}
	if (m->app[0] == '\0' || m->version[0] == '\0') {
		snprintf(why, wl, "no app= or version= line");
		return -1;
	}
	return 0;
}

int
app_meta_format(const struct app_meta *m, char *out, size_t len)
{
	size_t	 i, off = 0;
	int	 n;

	for (i = 0; i < NKEYS; i++) {
		const char *v = (const char *)m + meta_keys[i].off;

		if (!value_ok(v, strlen(v)))
			return -1;
		n = snprintf(out + off, len - off, "%s=%s\n", meta_keys[i].name, v);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
app_meta_load(int dirfd, struct app_meta *m, char *why, size_t wl)
{
	char	 text[4096];
	int	 n;

	if ((n = app_read_file(dirfd, APP_META_FILE, text, sizeof(text))) < 0) {
		snprintf(why, wl, "%s: %s", APP_META_FILE,
		    errno == ELOOP ? "a symlink" : errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	if (app_meta_parse(text, (size_t)n, m, why + 0, wl) == -1) {
		char	 tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, wl, "%s: %s", APP_META_FILE, tmp);
		return -1;
	}
	return 0;
}

int
app_meta_save(int dirfd, const struct app_meta *m)
{
	char	 text[4096];

	if (app_meta_format(m, text, sizeof(text)) == -1) {
		app_err("%s: a value cannot be written", APP_META_FILE);
		return -1;
	}
	return app_write_file(dirfd, APP_META_FILE, text, 0600);
}
