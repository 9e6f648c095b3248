/*
 * htindex.c: mod_autoindex's directives in a .htaccess.  What changes
 * which entries a listing shows or their order is applied (IndexIgnore,
 * IndexIgnoreReset, IndexOrderDefault, IndexOptions' FancyIndexing,
 * HTMLTable, FoldersFirst, IgnoreCase, VersionSort, IgnoreClient,
 * SuppressColumnSorting); the rest of IndexOptions and the directives
 * that only dress a listing (HeaderName, ReadmeName, AddDescription,
 * AddIcon ...) are accepted and ignored, as the README says.
 *
 * The listing itself is autoindex.c's; this hands it r->listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "autoindex.h"
#include "htaccess.h"
#include "htindex.h"

#define IGNORE_MAX	256	/* IndexIgnore globs of one file */

/* A parsed part has own == NULL; a merged one names the parent's and the child's. */
struct ht_index {
	const struct ht_index	*up, *own;
	int			 opt_set, opt_abs;
	unsigned		 opt_on, opt_off;
	char			*charset;	/* Charset=, NULL: the parent's */
	char			**ignore;
	int			 nignore;
	int			 ignore_reset;	/* IndexIgnoreReset on: the parent's dropped */
	char			 order_key;	/* IndexOrderDefault: 'N', 'M', 'S'; 0: unset */
	int			 order_desc;
};

/* ------------------------------------------------------------ hooks */

void *
htindex_merge(const void *parent, const void *child)
{
	struct ht_index *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->up = parent;
	m->own = child;
	return m;
}

void
htindex_merged_free(void *part)
{
	free(part);
}

void
htindex_free(void *part)
{
	struct ht_index	*x = part;
	int		 i;

	for (i = 0; i < x->nignore; i++)
		free(x->ignore[i]);
	free(x->ignore);
	free(x->charset);
	free(x);
}

/* ------------------------------------------------------------ parsing */

static struct ht_index *
part(struct ht_parse *p, struct ht_dir *d)
{
	if (d->index == NULL && (d->index = calloc(1, sizeof(*d->index))) == NULL)
		ht_error(p, "out of memory");
	return d->index;
}

static const struct {
	const char	*name;
	unsigned	 bit;		/* 0: accepted, changes nothing lockerd shows */
	int		 value;		/* takes "=value" */
} index_opts[] = {
	{ "FancyIndexing", AI_FANCY, 0 }, { "HTMLTable", AI_TABLE, 0 },
	{ "FoldersFirst", AI_FOLDERS_FIRST, 0 }, { "IgnoreCase", AI_IGNORE_CASE, 0 },
	{ "VersionSort", AI_VERSION_SORT, 0 }, { "IgnoreClient", AI_IGNORE_CLIENT, 0 },
	{ "SuppressColumnSorting", AI_NO_SORT_LINKS, 0 },
	{ "Charset", 0, 1 }, { "DescriptionWidth", 0, 1 }, { "IconHeight", 0, 2 },
	{ "IconWidth", 0, 2 }, { "NameWidth", 0, 1 }, { "Type", 0, 1 },
	{ "AddAltClass", 0, 0 }, { "IconsAreLinks", 0, 0 }, { "ScanHTMLTitles", 0, 0 },
	{ "ShowForbidden", 0, 0 }, { "SuppressDescription", 0, 0 },
	{ "SuppressHTMLPreamble", 0, 0 }, { "SuppressIcon", 0, 0 },
	{ "SuppressLastModified", 0, 0 }, { "SuppressRules", 0, 0 }, { "SuppressSize", 0, 0 },
	{ "TrackModified", 0, 0 }, { "UseOldDateFormat", 0, 0 }, { "XHTML", 0, 0 },
};
#define NOPTS	(sizeof(index_opts) / sizeof(index_opts[0]))

/* One keyword of IndexOptions: its row, or -1 after ht_error(). */
static int
index_opt(struct ht_parse *p, const char *a, const char **value)
{
	size_t	k, n = strcspn(a, "=");

	*value = a[n] == '=' ? a + n + 1 : NULL;
	for (k = 0; k < NOPTS; k++)
		if (strlen(index_opts[k].name) == n && strncasecmp(a, index_opts[k].name, n) == 0)
			break;
	if (k == NOPTS)
		return ht_error(p, "IndexOptions: unknown option %s", a);
	/* IconHeight and IconWidth may stand alone; the others with '=' need it. */
	if (index_opts[k].value == 1 && (*value == NULL || **value == '\0'))
		return ht_error(p, "IndexOptions: %s needs a value", index_opts[k].name);
	if (index_opts[k].value == 0 && *value != NULL)
		return ht_error(p, "IndexOptions: %s takes no value", index_opts[k].name);
	return (int)k;
}

static int
set_charset(struct ht_parse *p, struct ht_index *x, const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("-_.:", v[i]) != NULL))
			return ht_error(p, "IndexOptions: Charset=%s is not a charset's name", v);
	if (i == 0 || i >= 64)
		return ht_error(p, "IndexOptions: Charset=%s is not a charset's name", v);
	free(x->charset);
	if ((x->charset = strdup(v)) == NULL)
		return ht_error(p, "out of memory");
	return 0;
}

/* As mod_autoindex: keywords without +/- replace what is inherited, the others adjust it. */
int
dir_indexoptions(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_index	*x = part(p, d);
	const char	*v;
	int		 i, k;

	if (x == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "IndexOptions needs an option");
	for (i = 0; i < argc; i++) {
		const char	*a = argv[i];
		int		 sign = *a == '+' ? 1 : *a == '-' ? -1 : 0;

		if ((k = index_opt(p, a + (sign != 0), &v)) == -1)
			return -1;
		if (strcasecmp(index_opts[k].name, "Charset") == 0 && set_charset(p, x, v) == -1)
			return -1;
		if (sign == 0 && !x->opt_abs) {
			x->opt_abs = 1;		/* the first bare keyword drops what came before */
			x->opt_on = x->opt_off = 0;
		}
		if (sign >= 0) {
			x->opt_on |= index_opts[k].bit;
			x->opt_off &= ~index_opts[k].bit;
		} else {
			x->opt_off |= index_opts[k].bit;
			x->opt_on &= ~index_opts[k].bit;
		}
	}
	x->opt_set = 1;
	return 0;
}

int
dir_indexignore(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_index	*x = part(p, d);
	char		**l;
	int		 i;

	if (x == NULL)
		return -1;
	if (argc < 1)
		return ht_error(p, "IndexIgnore needs a file name or a glob");
	if (x->nignore + argc > IGNORE_MAX)
		return ht_error(p, "IndexIgnore: more than %d names", IGNORE_MAX);
	if ((l = reallocarray(x->ignore, (size_t)(x->nignore + argc), sizeof(*l))) == NULL)
		return ht_error(p, "out of memory");
	x->ignore = l;
	for (i = 0; i < argc; i++)
		if ((x->ignore[x->nignore++] = strdup(argv[i])) == NULL)
			return ht_error(p, "out of memory");
	return 0;
}

int
dir_indexignorereset(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_index *x = part(p, d);

	if (x == NULL)
		return -1;
	if (argc != 1 || (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0))
		return ht_error(p, "IndexIgnoreReset takes on or off");
	x->ignore_reset = strcasecmp(argv[0], "on") == 0;
	return 0;
}

int
dir_indexorderdefault(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	static const char *const keys[] = { "Name", "Date", "Size", "Description" };
	static const char	 letter[] = "NMSN";	/* no descriptions: by name */
	struct ht_index		*x = part(p, d);
	int			 k;

	if (x == NULL)
		return -1;
	if (argc != 2 || (strcasecmp(argv[0], "Ascending") != 0 &&
	    strcasecmp(argv[0], "Descending") != 0))
		return ht_error(p, "IndexOrderDefault takes Ascending or Descending, then a key");
	for (k = 0; k < 4; k++)
		if (strcasecmp(argv[1], keys[k]) == 0)
			break;
	if (k == 4)
		return ht_error(p, "IndexOrderDefault: %s is not Name, Date, Size or Description",
		    argv[1]);
	x->order_key = letter[k];
	x->order_desc = strcasecmp(argv[0], "Descending") == 0;
	return 0;
}

int
dir_index_cosmetic(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	(void)d;
	(void)argv;
	return argc < 1 ? ht_error(p, "an argument is missing") : 0;
}

/* ------------------------------------------------------------ requests */

/* The parsed parts that apply, parent first, into out[] (at most max). */
static int
parts_of(const struct ht_index *x, const struct ht_index **out, int max)
{
	int n;

	if (x->own == NULL || max <= 1) {
		out[0] = x->own != NULL ? x->own : x;
		return 1;
	}
	n = parts_of(x->up, out, max - 1);
	out[n] = x->own;
	return n + 1;
}

static int
add_ignores(struct ht_listing *l, const struct ht_index **pp, int n)
{
	int i, j, k = 0, from = 0;

	for (i = 0; i < n; i++)
		if (pp[i]->ignore_reset)
			from = i;
	for (i = from; i < n; i++)
		k += pp[i]->nignore;
	if ((l->ignore = calloc((size_t)k + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = from; i < n; i++)
		for (j = 0; j < pp[i]->nignore; j++)
			if ((l->ignore[l->nignore++] = strdup(pp[i]->ignore[j])) == NULL)
				return -1;
	return 0;
}

#define CHAIN_MAX	256

int
htindex_run(const struct ht_conf *c, struct ht_req *r)
{
	const struct ht_index	*pp[CHAIN_MAX];
	struct ht_listing	*l;
	int			 n, i;

	if (c->d.index == NULL)
		return 0;
	n = parts_of(c->d.index, pp, CHAIN_MAX);
	ht_listing_free(r->listing);
	if ((r->listing = l = calloc(1, sizeof(*l))) == NULL)
		return 500;
	l->flags = AI_DEBIAN;
	snprintf(l->charset, sizeof(l->charset), "UTF-8");	/* Debian's Charset=UTF-8 */
	for (i = 0; i < n; i++) {
		const struct ht_index *x = pp[i];

		if (x->opt_set)
			l->flags = x->opt_abs ? x->opt_on : (l->flags | x->opt_on) & ~x->opt_off;
		if (x->charset != NULL)
			snprintf(l->charset, sizeof(l->charset), "%s", x->charset);
		if (x->order_key != 0) {
			l->order_key = x->order_key;
			l->order_desc = x->order_desc;
		}
	}
	return add_ignores(l, pp, n) == -1 ? 500 : 0;
}
