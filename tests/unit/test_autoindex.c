/* test_autoindex: listings escaped, filtered and sorted as the query asks. */
#include <sys/stat.h>
#include <sys/time.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoindex.h"
#include "unit.h"

static char	dir[] = "/tmp/test_autoindex.XXXXXX";

static void
make(const char *name, size_t size, time_t mtime)
{
	char		path[512];
	struct timeval	tv[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	while (size-- > 0)
		fputc('x', f);
	fclose(f);
	utimes(path, tv);
}

static char *
render_opts(const char *url, const char *query, const struct autoindex_opts *o)
{
	size_t	len = 0;
	char	*s;
	int	fd = open(dir, O_RDONLY | O_DIRECTORY);

	s = autoindex_render(fd, url, query, o, &len);
	close(fd);
	CHECK(s != NULL && strlen(s) == len);
	return s;
}

static char *
render(const char *url, const char *query, const char *const *ignore)
{
	struct autoindex_opts	o = { AI_DEBIAN, 'N', 0, ignore };
	size_t			len = 0;
	char			*s;
	int			fd = open(dir, O_RDONLY | O_DIRECTORY);

	s = autoindex_render(fd, url, query, ignore != NULL ? &o : NULL, &len);
	close(fd);
	CHECK(s != NULL && strlen(s) == len);
	return s;
}

/* Is a before b in s (both present)? */
static int
before(const char *s, const char *a, const char *b)
{
	const char	*x = strstr(s, a), *y = strstr(s, b);

	return x != NULL && y != NULL && x < y;
}

/* IndexOptions and IndexOrderDefault: what changes the entries or their order. */
static void
test_options(void)
{
	static const char *const all[] = { "*", NULL };
	struct autoindex_opts	o = { AI_FANCY | AI_TABLE | AI_FOLDERS_FIRST, 'N', 0, NULL };
	char			*s;

	make("B.txt", 1, 1);
	make("a.txt", 1, 1);
	/* FoldersFirst, even descending; no VersionSort: b10 before b9 (strcmp) */
	s = render_opts("/x/", "C=N;O=D", &o);
	CHECK(before(s, "sub dir", "b9.txt") && before(s, "b9.txt", "b10.txt"));
	CHECK(strstr(s, "href=\"/\">Parent Directory") != NULL);
	free(s);
	/* IgnoreCase: a, B, b10 (case ignored first) */
	o.flags = AI_FANCY | AI_TABLE | AI_IGNORE_CASE | AI_VERSION_SORT;
	s = render_opts("/x/y/", NULL, &o);
	CHECK(before(s, "a.txt", "B.txt") && before(s, "B.txt", "b9.txt"));
	CHECK(strstr(s, "href=\"/x/\">Parent Directory") != NULL);
	free(s);
	/* without IgnoreCase: B before a */
	o.flags = AI_FANCY | AI_TABLE | AI_VERSION_SORT;
	s = render_opts("/", NULL, &o);
	CHECK(before(s, "B.txt", "a.txt"));
	free(s);
	/* IndexOrderDefault Descending Size, and IgnoreClient keeps it */
	o.order_key = 'S';
	o.order_desc = 1;
	o.flags |= AI_IGNORE_CLIENT;
	s = render_opts("/", "C=N;O=A", &o);
	CHECK(before(s, "&lt;script", "b10.txt") && before(s, "b10.txt", "b9.txt"));
	free(s);
	/* not IgnoreClient: the query wins over the default */
	o.flags &= ~AI_IGNORE_CLIENT;
	s = render_opts("/", "C=N;O=A", &o);
	CHECK(before(s, "b9.txt", "b10.txt") && before(s, "b10.txt", "&lt;script") == 0);
	free(s);
	/* no FancyIndexing: a plain list, no sort links */
	o.flags = AI_VERSION_SORT;
	s = render_opts("/x/", NULL, &o);
	CHECK(strstr(s, "<ul>") != NULL && strstr(s, "?C=") == NULL);
	CHECK(strstr(s, "<li><a href=\"sub%20dir/\"> sub dir/</a></li>") != NULL);
	free(s);
	/* SuppressColumnSorting */
	o.flags = AI_FANCY | AI_TABLE | AI_NO_SORT_LINKS;
	s = render_opts("/", NULL, &o);
	CHECK(strstr(s, "?C=") == NULL && strstr(s, "b9.txt") != NULL);
	free(s);
	/* IndexIgnore *: Joomla's, nothing listed */
	o.flags = AI_DEBIAN;
	o.ignore = all;
	s = render_opts("/", NULL, &o);
	CHECK(strstr(s, "b9.txt") == NULL && strstr(s, "sub dir") == NULL);
	free(s);
}

int
main(void)
{
	static const char *const ign[] = { "*.bak", NULL };
	char	path[512], *s;

	if (mkdtemp(dir) == NULL)
		abort();
	make("b10.txt", 5000, 1000000000);
	make("b9.txt", 10, 1100000000);
	make("<script>&\"x'.html", 2 << 20, 1200000000);
	make(".htaccess", 1, 1);
	make(".htpasswd", 1, 1);
	make("notes~", 1, 1);
	make("old.bak", 1, 1);
	snprintf(path, sizeof(path), "%s/sub dir", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dangling", dir);
	symlink("/nonexistent", path);

	s = render("/~alice/a<b>/", NULL, ign);
	CHECK(strstr(s, "<title>Index of /~alice/a&lt;b&gt;/</title>") != NULL);
	CHECK(strstr(s, "<script>") == NULL);
	CHECK(strstr(s, "href=\"%3Cscript%3E%26%22x%27.html\">&lt;script&gt;&amp;&quot;x&#39;.html<") != NULL);
	CHECK(strstr(s, "href=\"sub%20dir/\">sub dir/</a>") != NULL);
	CHECK(strstr(s, "htaccess") == NULL && strstr(s, "htpasswd") == NULL);
	CHECK(strstr(s, "notes~") == NULL && strstr(s, "old.bak") == NULL);
	CHECK(strstr(s, "dangling") == NULL);
	CHECK(strstr(s, "Parent Directory") != NULL);
	CHECK(strstr(s, "4.9K") != NULL && strstr(s, "2.0M") != NULL && strstr(s, " 10 ") != NULL);
	CHECK(strstr(s, "2001-09-09 01:46") != NULL);
	/* VersionSort: b9 before b10; the Name column links to its reverse. */
	CHECK(before(s, "b9.txt", "b10.txt"));
	CHECK(strstr(s, "href=\"?C=N;O=D\"") != NULL);
	free(s);

	s = render("/", "C=N;O=D", NULL);
	CHECK(before(s, "b10.txt", "b9.txt"));
	CHECK(strstr(s, "Parent Directory") == NULL);
	CHECK(strstr(s, "old.bak") != NULL);
	CHECK(strstr(s, "href=\"?C=N;O=A\"") != NULL);
	free(s);
	s = render("/", "C=S&O=D", NULL);
	CHECK(before(s, "&lt;script", "b10.txt") && before(s, "b10.txt", "b9.txt") &&
	    before(s, "b9.txt", "sub dir"));
	free(s);
	s = render("/", "C=M;O=A", NULL);
	CHECK(before(s, "b10.txt", "b9.txt") && before(s, "b9.txt", "&lt;script"));
	free(s);
	/* Nonsense sorts by name. */
	s = render("/", "C=Z;O=Q;;&&=", NULL);
	CHECK(before(s, "b9.txt", "b10.txt"));
	free(s);

	test_options();
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
	UNIT_DONE();
}
