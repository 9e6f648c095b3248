/*
 * fuzz_appmeta.c: libFuzzer target for app_meta.c, lockerd-app's parser of
 * an install's `.lockerd-app` (key=value lines the locker can write), and
 * its check of a release version.
 *
 * Checked: input the parser accepts has app= and version= set, every value
 * printable ASCII with no quote or backslash and within its field; what it
 * gives back formats and parses again to the same record (the file
 * lockerd-app writes is one it reads).  Refused input says why.  A version
 * app_version_ok() accepts holds only [A-Za-z0-9._+~-], no "..", no
 * leading '.' or '-', at most 48 bytes: a directory name and a git tag.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "app.h"

static void
printable(const char *s, size_t cap)
{
	size_t	 n = strnlen(s, cap);

	REQUIRE(n < cap);
	for (; *s != '\0'; s++)
		REQUIRE(*s >= 0x20 && *s <= 0x7e && *s != '"' && *s != '\\');
}

static void
record_ok(const struct app_meta *m)
{
	REQUIRE(m->app[0] != '\0' && m->version[0] != '\0');
	printable(m->app, sizeof(m->app));
	printable(m->version, sizeof(m->version));
	printable(m->installed, sizeof(m->installed));
	printable(m->url, sizeof(m->url));
	printable(m->admin, sizeof(m->admin));
	printable(m->password, sizeof(m->password));
	printable(m->db, sizeof(m->db));
	printable(m->dbname, sizeof(m->dbname));
	printable(m->state, sizeof(m->state));
}

static void
version_check(const uint8_t *data, size_t size)
{
	char	 v[80];
	size_t	 n = size < sizeof(v) - 1 ? size : sizeof(v) - 1, i;

	memcpy(v, data, n);
	v[n] = '\0';
	if (!app_version_ok(v))
		return;
	REQUIRE(strlen(v) > 0 && strlen(v) <= 48 && strstr(v, "..") == NULL);
	REQUIRE(v[0] != '.' && v[0] != '-');
	for (i = 0; v[i] != '\0'; i++)
		REQUIRE((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("._+~-", v[i]) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app_meta	 m, again;
	char		 why[256], text[4096];

	version_check(data, size);
	why[0] = '\0';
	if (app_meta_parse((const char *)data, size, &m, why, sizeof(why)) == -1) {
		REQUIRE(why[0] != '\0');
		return 0;
	}
	record_ok(&m);
	REQUIRE(app_meta_format(&m, text, sizeof(text)) == 0);
	REQUIRE(app_meta_parse(text, strlen(text), &again, why, sizeof(why)) == 0);
	REQUIRE(memcmp(&m, &again, sizeof(m)) == 0);
	return 0;
}
