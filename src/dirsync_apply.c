/*
 * dirsync_apply.c: one MSG_DIR_CHANGE into PostgreSQL (dirsync_int.h).
 *
 * The master's change records become the one argument of lockerd_apply()
 * (dirpg.c), which applies them in one transaction after the write lock:
 * an insert is refused if its key is taken, an update or a delete applies
 * only to the row exactly as the master last saw it (compare-and-swap).
 * Each record's JSON is parsed here (jansson) and must be an object: the
 * argument is built from parsed values, never by pasting text, so a row
 * cannot smuggle in a record of its own.  Table and column names come
 * from dirtab[] by the record's index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dirtab.h"
#include "dirsync_int.h"

static json_t *
names(const char *list)
{
	json_t	*a = json_array();
	char	 col[64];
	size_t	 n;

	while (a != NULL && *list != '\0') {
		n = strcspn(list, ",");
		if (n >= sizeof(col)) {
			json_decref(a);
			return NULL;
		}
		memcpy(col, list, n);
		col[n] = '\0';
		json_array_append_new(a, json_string(col));
		list += n + (list[n] == ',');
	}
	return a;
}

static json_t *
row(const char *j, uint32_t len, char *why, size_t whylen)
{
	json_error_t	 e;
	json_t		*o = json_loadb(j, len, JSON_REJECT_DUPLICATES, &e);

	if (o == NULL || !json_is_object(o)) {
		snprintf(why, whylen, "a change's row is not a JSON object: %s",
		    o == NULL ? e.text : "another value");
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
one(const struct dir_change *c, char *why, size_t whylen)
{
	const struct dirtab *t = &dirtab[c->tbl];
	json_t	*o = json_object(), *v;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "t", json_string(t->name));
	json_object_set_new(o, "c", names(t->cols));
	json_object_set_new(o, "k", names(t->pk));
	json_object_set_new(o, "op", json_integer(c->op));
	if (c->oldlen != 0) {
		if ((v = row(c->old, c->oldlen, why, whylen)) == NULL)
			goto fail;
		json_object_set_new(o, "old", v);
	}
	if (c->newlen != 0) {
		if ((v = row(c->new, c->newlen, why, whylen)) == NULL)
			goto fail;
		json_object_set_new(o, "new", v);
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

char *
dirsync_changes_json(const unsigned char *p, size_t len, char *why, size_t whylen)
{
	struct dir_change c;
	json_t		 *a = json_array(), *o;
	const char	 *bad;
	size_t		  off = 0;
	char		 *s;
	int		  rc;

	if (a == NULL)
		return NULL;
	while ((rc = dirrec_next_change(p, len, &off, (unsigned)dirtab_count(), &c, &bad)) == 1) {
		if ((o = one(&c, why, whylen)) == NULL) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, o);
	}
	if (rc == -1) {
		snprintf(why, whylen, "%s", bad);
		json_decref(a);
		return NULL;
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (s == NULL)
		snprintf(why, whylen, "out of memory");
	return s;
}

int
dirsync_status_of(const char *st)
{
	if (st == NULL)
		return DIR_DOWN;		/* no answer at all: the connection went */
	if (strcmp(st, "LD001") == 0 ||	/* lockerd_apply(): the row changed meanwhile */
	    strcmp(st, "23505") == 0 ||	/* a key (or a locker's uid) already taken */
	    strcmp(st, "40001") == 0 ||	/* serialization failure */
	    strcmp(st, "40P01") == 0)	/* deadlock detected */
		return DIR_CONFLICT;
	if (strncmp(st, "08", 2) == 0 ||	/* connection exception */
	    strncmp(st, "57P", 3) == 0 ||	/* admin shutdown, crash shutdown, cannot connect now */
	    strcmp(st, "25006") == 0 ||		/* read-only transaction: a standby */
	    strncmp(st, "53", 2) == 0)		/* insufficient resources */
		return DIR_DOWN;
	return DIR_ERROR;
}
