/*
 * autoindex.c: the listing of a directory with Options Indexes and no
 * index file, shaped like mod_autoindex's under Debian's autoindex.conf
 * (an HTML table: name, last modified, size; sort links in the header).
 *
 * Everything that came from the file system is escaped twice over: for
 * the href (percent-encoding of all but unreserved bytes and '/') and for
 * the text (HTML entities), so a file named "<script>" or "a\"b" lists as
 * what it is.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "autoindex.h"

struct entry {
	char	*name;
	int	 is_dir;
	off_t	 size;
	time_t	 mtime;
	long long mtime_us;	/* what the order compares, as Apache's (microseconds) */
};

/* A growing output buffer; a failed append marks it failed. */
struct out {
	char	*buf;
	size_t	 len, cap;
	int	 failed;
};

static void
put(struct out *o, const char *s, size_t n)
{
	char	*nb;
	size_t	 nc;

	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		nc = o->cap ? o->cap : 4096;
		while (nc < o->len + n + 1)
			nc *= 2;
		if ((nb = realloc(o->buf, nc)) == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = nb;
		o->cap = nc;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct out *o, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
put_html(struct out *o, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<':
			puts_(o, "&lt;");
			break;
		case '>':
			puts_(o, "&gt;");
			break;
		case '&':
			puts_(o, "&amp;");
			break;
		case '"':
			puts_(o, "&quot;");
			break;
		case '\'':
			puts_(o, "&#39;");
			break;
		default:
			put(o, s, 1);
		}
}

/* For an href: unreserved bytes and '/' as they are, the rest %XX. */
static void
put_uri(struct out *o, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			e[3];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			put(o, s, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		put(o, e, 3);
	}
}

/* ------------------------------------------------------------ entries */

static int
ignored(const char *name, const char *const *ignore)
{
	static const char *const debian[] = { ".??*", "*~", "*#", "RCS", "CVS", "*,v", "*,t",
	    NULL };
	int	i;

	if (name[0] == '.')
		return 1;	/* lockerd serves no dotfile: it lists none either */
	for (i = 0; debian[i] != NULL; i++)
		if (fnmatch(debian[i], name, 0) == 0)
			return 1;
	for (i = 0; ignore != NULL && ignore[i] != NULL; i++)
		if (fnmatch(ignore[i], name, 0) == 0)
			return 1;
	return 0;
}

static void
entries_free(struct entry *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/* The directory's entries, at most AUTOINDEX_MAX_ENTRIES; *cut if more. */
static struct entry *
read_entries(int dirfd, const char *const *ignore, size_t *n, int *cut)
{
	struct entry	*e = NULL, *ne;
	struct dirent	*de;
	struct stat	 st;
	size_t		 cap = 0;
	DIR		*dir;
	int		 fd;

	*n = 0;
	*cut = 0;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	while ((de = readdir(dir)) != NULL) {
		if (ignored(de->d_name, ignore) ||
		    fstatat(dirfd, de->d_name, &st, 0) == -1)
			continue;	/* a dangling symlink, or one we may not follow */
		if (*n == AUTOINDEX_MAX_ENTRIES) {
			*cut = 1;
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((ne = reallocarray(e, cap, sizeof(*e))) == NULL)
				goto fail;
			e = ne;
		}
		if ((e[*n].name = strdup(de->d_name)) == NULL)
			goto fail;
		e[*n].is_dir = S_ISDIR(st.st_mode);
		e[*n].size = st.st_size;
		e[*n].mtime = st.st_mtime;
		e[*n].mtime_us = (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
		(*n)++;
	}
	closedir(dir);
	if (e == NULL && (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	return e;
fail:
	closedir(dir);
	entries_free(e, *n);
	errno = ENOMEM;
	return NULL;
}

/* ------------------------------------------------------------ sorting */

static char	sort_key = 'N';
static int	sort_desc;
static unsigned	sort_flags = AI_DEBIAN;

/* strverscmp() with case ignored: on lower-cased copies (names are short). */
static int
strverscmp_case(const char *a, const char *b)
{
	char	x[256], y[256];
	size_t	i;

	for (i = 0; i + 1 < sizeof(x) && a[i] != '\0'; i++)
		x[i] = (char)tolower((unsigned char)a[i]);
	x[i] = '\0';
	for (i = 0; i + 1 < sizeof(y) && b[i] != '\0'; i++)
		y[i] = (char)tolower((unsigned char)b[i]);
	y[i] = '\0';
	return strverscmp(x, y);
}

static int
cmp_names(const struct entry *x, const struct entry *y)
{
	int r = 0;

	if (sort_flags & AI_IGNORE_CASE)
		r = (sort_flags & AI_VERSION_SORT) ? strverscmp_case(x->name, y->name) :
		    strcasecmp(x->name, y->name);
	if (r == 0)
		r = (sort_flags & AI_VERSION_SORT) ? strverscmp(x->name, y->name) :
		    strcmp(x->name, y->name);
	return r;
}

/*
 * By the key, then by name (VersionSort: as versions; IgnoreCase: case
 * first ignored); FoldersFirst puts directories first whatever the
 * direction, as mod_autoindex does.
 */
static int
cmp(const void *a, const void *b)
{
	const struct entry	*x = a, *y = b;
	int			 r = 0;

	if ((sort_flags & AI_FOLDERS_FIRST) && x->is_dir != y->is_dir)
		return x->is_dir ? -1 : 1;
	if (sort_key == 'M')
		r = (x->mtime_us > y->mtime_us) - (x->mtime_us < y->mtime_us);
	else if (sort_key == 'S') {
		/* Directories have no size: they sort as -1, as Apache's do. */
		off_t sx = x->is_dir ? -1 : x->size, sy = y->is_dir ? -1 : y->size;

		r = (sx > sy) - (sx < sy);
	}
	if (r == 0)
		r = cmp_names(x, y);
	return sort_desc ? -r : r;
}

/* "C=M;O=D" (or with '&'): what to sort by; an unknown value leaves the default. */
static void
parse_query(const char *q, char *key, int *desc)
{
	const char	*s;

	for (s = q; s != NULL && *s != '\0'; s += strcspn(s, ";&"), s += *s != '\0') {
		if (s[0] == 'C' && s[1] == '=' && strchr("NMSD", s[2]) != NULL && s[2] != '\0')
			*key = s[2] == 'D' ? 'N' : s[2];	/* no descriptions: D is N */
		else if (s[0] == 'O' && s[1] == '=' && (s[2] == 'A' || s[2] == 'D'))
			*desc = s[2] == 'D';
	}
}

/* ------------------------------------------------------------ output */

/* Sizes as apr_strfsize() writes them: "123", "4.0K", "12M". */
static void
put_size(struct out *o, const struct entry *e)
{
	static const char	units[] = "KMGTPE";
	double			v;
	int			u;

	if (e->is_dir) {
		puts_(o, "  - ");
		return;
	}
	if (e->size < 973) {
		putf(o, "%3d ", (int)e->size);
		return;
	}
	v = (double)e->size;
	for (u = 0; v >= 973 && units[u] != '\0'; u++)
		v /= 1024;
	u--;
	if (v < 9.95)
		putf(o, "%.1f%c", v, units[u]);
	else
		putf(o, "%3d%c", (int)(v + 0.5), units[u]);
}

static void
put_header_link(struct out *o, const char *label, char key, char cur, int desc)
{
	/* The column sorted now links to its reverse, as Apache's does. */
	putf(o, "<th><a href=\"?C=%c;O=%c\">%s</a></th>", key,
	    key == cur && !desc ? 'D' : 'A', label);
}

static void
put_entry(struct out *o, const struct entry *e)
{
	char		date[32];
	struct tm	tm;

	gmtime_r(&e->mtime, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
	puts_(o, "<tr><td><a href=\"");
	put_uri(o, e->name);
	if (e->is_dir)
		puts_(o, "/");
	puts_(o, "\">");
	put_html(o, e->name);
	if (e->is_dir)
		puts_(o, "/");
	putf(o, "</a></td><td align=\"right\">%s  </td><td align=\"right\">", date);
	put_size(o, e);
	puts_(o, "</td></tr>\n");
}

/* The parent's URL path: the url without its last segment ("/a/b/" -> "/a/"). */
static void
put_parent(struct out *o, const char *url)
{
	size_t	n = strlen(url);
	char	*p;

	while (n > 1 && url[n - 1] == '/')
		n--;
	while (n > 0 && url[n - 1] != '/')
		n--;
	if ((p = strndup(url, n)) == NULL) {
		o->failed = 1;
		return;
	}
	put_uri(o, p);
	free(p);
}

static void
put_table(struct out *o, const char *url, const struct entry *e, size_t n, char key, int desc,
    unsigned flags)
{
	size_t i;

	puts_(o, "<table>\n<tr>");
	if (flags & AI_NO_SORT_LINKS)
		puts_(o, "<th>Name</th><th>Last modified</th><th>Size</th>");
	else {
		put_header_link(o, "Name", 'N', key, desc);
		put_header_link(o, "Last modified", 'M', key, desc);
		put_header_link(o, "Size", 'S', key, desc);
	}
	puts_(o, "</tr>\n");
	if (strcmp(url, "/") != 0) {
		puts_(o, "<tr><td><a href=\"");
		put_parent(o, url);
		puts_(o, "\">Parent Directory</a></td><td>&nbsp;</td><td align=\"right\">  - </td></tr>\n");
	}
	for (i = 0; i < n; i++)
		put_entry(o, &e[i]);
	puts_(o, "</table>\n");
}

/* Without FancyIndexing: a plain list of names, as mod_autoindex's. */
static void
put_list(struct out *o, const char *url, const struct entry *e, size_t n)
{
	size_t i;

	puts_(o, "<ul>");
	if (strcmp(url, "/") != 0) {
		puts_(o, "<li><a href=\"");
		put_parent(o, url);
		puts_(o, "\"> Parent Directory</a></li>\n");
	}
	for (i = 0; i < n; i++) {
		puts_(o, "<li><a href=\"");
		put_uri(o, e[i].name);
		puts_(o, e[i].is_dir ? "/\"> " : "\"> ");
		put_html(o, e[i].name);
		puts_(o, e[i].is_dir ? "/</a></li>\n" : "</a></li>\n");
	}
	puts_(o, "</ul>\n");
}

char *
autoindex_render(int dirfd, const char *url, const char *query,
    const struct autoindex_opts *opts, size_t *len)
{
	static const struct autoindex_opts debian = { AI_DEBIAN, 'N', 0, NULL };
	struct out	 o = { 0 };
	struct entry	*e;
	size_t		 n;
	int		 cut, desc;
	char		 key;

	if (opts == NULL)
		opts = &debian;
	if ((e = read_entries(dirfd, opts->ignore, &n, &cut)) == NULL)
		return NULL;
	key = strchr("NMS", opts->order_key) != NULL && opts->order_key ? opts->order_key : 'N';
	desc = opts->order_desc;
	if (!(opts->flags & AI_IGNORE_CLIENT))
		parse_query(query, &key, &desc);
	sort_key = key;
	sort_desc = desc;
	sort_flags = opts->flags;
	qsort(e, n, sizeof(*e), cmp);

	puts_(&o, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n<head>\n"
	    "<title>Index of ");
	put_html(&o, url);
	puts_(&o, "</title>\n</head>\n<body>\n<h1>Index of ");
	put_html(&o, url);
	puts_(&o, "</h1>\n");
	if (opts->flags & AI_FANCY)
		put_table(&o, url, e, n, key, desc, opts->flags);
	else
		put_list(&o, url, e, n);
	if (cut)
		putf(&o, "<p>(only the first %d entries)</p>\n", AUTOINDEX_MAX_ENTRIES);
	puts_(&o, "</body></html>\n");
	entries_free(e, n);
	if (o.failed) {
		free(o.buf);
		errno = ENOMEM;
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
