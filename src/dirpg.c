/*
 * dirpg.c: the fleet directory's schema in PostgreSQL, and the SQL that
 * lockerd-dirsync sends (dirsync_int.h).
 *
 * PostgreSQL holds the same replicated tables as each node's SQLite copy
 * (dirtab[]: the same names and columns, in the same order), plus what
 * the feed needs: a column _rev on every table, set from one sequence
 * dir_rev by a trigger at every insert and update; a tombstone in
 * dir_gone for every delete (and for the old key of an update that
 * changed its key); a NOTIFY lockerd_dir by a statement trigger.  Every
 * writer takes the advisory lock 1811 first, so revisions commit in the
 * order they were taken and a reader that has seen revision n will never
 * see a later commit with a revision below n.
 *
 * Types: INTEGER is bigint, TEXT is text, a BLOB is text too, holding the
 * hex the master sends (json_object() cannot carry bytes).  No foreign key
 * and no CHECK: each node's SQLite checks its own writes before they get
 * here; PostgreSQL's part is to order them and to keep keys (and a
 * locker's uid) unique across the fleet.
 *
 * The schema is made once, in one transaction under the advisory lock
 * 1812 (two nodes that start together: one makes it, the other finds it),
 * and its version (= SQLite's SCHEMA_VERSION) is kept in lockerd_schema.
 * A PostgreSQL whose schema is newer than this lockerd is refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirtab.h"
#include "dirsync_int.h"

/* directory.c's SCHEMA_VERSION: test_dirsync.py checks they agree. */
#define PG_SCHEMA_VERSION	13

/* Each replicated table's PostgreSQL types, column by column, and its
 * constraints besides the primary key. */
static const struct pgtab {
	const char	*name;
	const char	*types;
	const char	*extra;
} pgtabs[] = {
	{ "uids", "bigint,text,bigint,bigint,text", "" },
	{ "lockers", "text,bigint,bigint,bigint", ", UNIQUE (uid)" },
	{ "vhosts", "text,text,text,bigint,bigint", "" },
	{ "locker_admins", "text,bigint,bigint", "" },
	{ "audit", "bigint,bigint,bigint,text,text,text,bigint", "" },
	{ "locker_limits", "text,text,bigint", "" },
	{ "vhost_claims", "text,text,text,text,bigint,bigint", "" },
	{ "acme_names", "text,text,bigint", "" },
	{ "cron", "text,text,text,text,bigint", "" },
	{ "app_installs", "text,text,text,text,text,text,text,text,bigint,bigint", "" },
	{ "leases", "text,text,bigint", "" },
	{ "nodes", "text,text,text,bigint,bigint,bigint", "" },
	{ "node_drain", "text,bigint,bigint", "" },
	{ NULL, NULL, NULL }
};

void
sqlbuf_add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*s;

	if (b->err != NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = "cannot format SQL";
			return;
		}
		if (b->s != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		if ((s = realloc(b->s, b->cap + (size_t)n + 4096)) == NULL) {
			b->err = "out of memory";
			return;
		}
		b->s = s;
		b->cap += (size_t)n + 4096;
	}
}

void
sqlbuf_free(struct sqlbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int
dirpg_schema_version(void)
{
	return PG_SCHEMA_VERSION;
}

static const struct pgtab *
pgtab_find(const char *name)
{
	const struct pgtab *p;

	for (p = pgtabs; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* How many names a "a,b,c" list has. */
static int
list_count(const char *l)
{
	int n = *l != '\0';

	for (; *l != '\0'; l++)
		n += *l == ',';
	return n;
}

/* The n-th name of a "a,b,c" list into out. */
static void
list_item(const char *l, int n, char *out, size_t outsz)
{
	size_t len;

	while (n-- > 0 && (l = strchr(l, ',')) != NULL)
		l++;
	len = l != NULL ? strcspn(l, ",") : 0;
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, l != NULL ? l : "", len);
	out[len] = '\0';
}

/* "'a','b'": a list as the trigger arguments that name the key's columns. */
static void
add_quoted_list(struct sqlbuf *b, const char *l)
{
	char	 col[64];
	int	 i, n = list_count(l);

	for (i = 0; i < n; i++) {
		list_item(l, i, col, sizeof(col));
		sqlbuf_add(b, "%s'%s'", i ? "," : "", col);
	}
}

/* One replicated table: its columns, _rev, its key, its three triggers. */
static void
add_table(struct sqlbuf *b, const struct dirtab *t)
{
	const struct pgtab *p = pgtab_find(t->name);
	char	 col[64], type[16];
	int	 i, n = list_count(t->cols);

	if (p == NULL || list_count(p->types) != n) {
		b->err = "a replicated table (dirtab.c) has no PostgreSQL types in dirpg.c";
		return;
	}
	sqlbuf_add(b, "CREATE TABLE %s (", t->name);
	for (i = 0; i < n; i++) {
		list_item(t->cols, i, col, sizeof(col));
		list_item(p->types, i, type, sizeof(type));
		sqlbuf_add(b, "%s %s, ", col, type);
	}
	sqlbuf_add(b, "_rev bigint NOT NULL, PRIMARY KEY (%s)%s);\n", t->pk, p->extra);
	sqlbuf_add(b, "CREATE INDEX %s_by_rev ON %s (_rev);\n", t->name, t->name);
	sqlbuf_add(b, "CREATE TRIGGER %s_rev BEFORE INSERT OR UPDATE ON %s FOR EACH ROW "
	    "EXECUTE FUNCTION lockerd_rev(", t->name, t->name);
	add_quoted_list(b, t->pk);
	sqlbuf_add(b, ");\nCREATE TRIGGER %s_gone AFTER DELETE ON %s FOR EACH ROW "
	    "EXECUTE FUNCTION lockerd_gone(", t->name, t->name);
	add_quoted_list(b, t->pk);
	sqlbuf_add(b, ");\nCREATE TRIGGER %s_notify AFTER INSERT OR UPDATE OR DELETE ON %s "
	    "FOR EACH STATEMENT EXECUTE FUNCTION lockerd_notify();\n", t->name, t->name);
}

/*
 * The functions.  lockerd_rev/gone/notify: the triggers above.
 * lockerd_apply: one MSG_DIR_CHANGE as one statement (so one round trip
 * and one transaction): [{"t": table, "c": [columns], "k": [key columns],
 * "op": 1|2|3, "old": row, "new": row}, ...]; an update or a delete finds
 * its row by key and changes it only if it is still exactly the old row
 * (compare-and-swap), else SQLSTATE LD001; names are quoted (%I,
 * quote_ident) whatever they are.  lockerd_beat: a node's own row, and now
 * and then the tombstones older than a week dropped (a node further
 * behind gets a full copy).
 */
static const char functions[] =
"CREATE OR REPLACE FUNCTION lockerd_key(r jsonb, k text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS\n"
"$f$ SELECT coalesce(jsonb_object_agg(c, r->c), '{}') FROM unnest(k) c $f$;\n"
"CREATE OR REPLACE FUNCTION lockerd_rev() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
"BEGIN\n"
"  IF TG_OP = 'UPDATE' AND lockerd_key(to_jsonb(OLD), TG_ARGV) <> lockerd_key(to_jsonb(NEW), TG_ARGV) THEN\n"
"    INSERT INTO dir_gone (_rev, tbl, pk) VALUES (nextval('dir_rev'), TG_TABLE_NAME,\n"
"      lockerd_key(to_jsonb(OLD), TG_ARGV));\n"
"  END IF;\n"
"  NEW._rev := nextval('dir_rev');\n"
"  RETURN NEW;\n"
"END $f$;\n"
"CREATE OR REPLACE FUNCTION lockerd_gone() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
"BEGIN\n"
"  INSERT INTO dir_gone (_rev, tbl, pk) VALUES (nextval('dir_rev'), TG_TABLE_NAME,\n"
"    lockerd_key(to_jsonb(OLD), TG_ARGV));\n"
"  RETURN OLD;\n"
"END $f$;\n"
"CREATE OR REPLACE FUNCTION lockerd_notify() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
"BEGIN PERFORM pg_notify('" DIRPG_CHANNEL "', ''); RETURN NULL; END $f$;\n"
"CREATE OR REPLACE FUNCTION lockerd_apply(ch jsonb) RETURNS bigint LANGUAGE plpgsql AS $f$\n"
"DECLARE c jsonb; tn text; cols text; ocols text; ncols text; xcols text; kx text; ko text;\n"
"  n bigint;\n"
"BEGIN\n"
"  PERFORM pg_advisory_xact_lock(1811);\n"
"  FOR c IN SELECT value FROM jsonb_array_elements(ch) LOOP\n"
"    tn := c->>'t';\n"
"    SELECT string_agg(quote_ident(v), ','), string_agg('o.' || quote_ident(v), ','),\n"
"        string_agg('n.' || quote_ident(v), ','), string_agg('x.' || quote_ident(v), ',')\n"
"      INTO cols, ocols, ncols, xcols FROM jsonb_array_elements_text(c->'c') v;\n"
"    SELECT string_agg('x.' || quote_ident(v), ','), string_agg('o.' || quote_ident(v), ',')\n"
"      INTO kx, ko FROM jsonb_array_elements_text(c->'k') v;\n"
"    IF (c->>'op')::int = 1 THEN\n"
"      EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM jsonb_populate_record(NULL::%I, $1) o',\n"
"        tn, cols, ocols, tn) USING c->'new';\n"
"      n := 1;\n"
"    ELSIF (c->>'op')::int = 2 THEN\n"
"      EXECUTE format('UPDATE %I x SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%I, $2) n) '\n"
"        'FROM jsonb_populate_record(NULL::%I, $1) o WHERE (%s) = (%s) '\n"
"        'AND ROW(%s) IS NOT DISTINCT FROM ROW(%s)', tn, cols, ncols, tn, tn, kx, ko, xcols, ocols)\n"
"        USING c->'old', c->'new';\n"
"      GET DIAGNOSTICS n = ROW_COUNT;\n"
"    ELSE\n"
"      EXECUTE format('DELETE FROM %I x USING jsonb_populate_record(NULL::%I, $1) o '\n"
"        'WHERE (%s) = (%s) AND ROW(%s) IS NOT DISTINCT FROM ROW(%s)', tn, tn, kx, ko, xcols, ocols)\n"
"        USING c->'old';\n"
"      GET DIAGNOSTICS n = ROW_COUNT;\n"
"    END IF;\n"
"    IF n <> 1 THEN\n"
"      RAISE EXCEPTION 'a row of % was changed by another node', tn USING ERRCODE = 'LD001';\n"
"    END IF;\n"
"  END LOOP;\n"
"  RETURN (SELECT last_value FROM dir_rev);\n"
"END $f$;\n"
"CREATE OR REPLACE FUNCTION lockerd_beat(nm text, ad text, st text, ld bigint, st0 bigint)\n"
"RETURNS void LANGUAGE plpgsql AS $f$\n"
"DECLARE pr bigint;\n"
"BEGIN\n"
"  PERFORM pg_advisory_xact_lock(1811);\n"
"  INSERT INTO nodes (name, addr, state, load, seen, started)\n"
"    VALUES (nm, ad, st, ld, extract(epoch FROM now())::bigint, st0)\n"
"    ON CONFLICT (name) DO UPDATE SET addr = EXCLUDED.addr, state = EXCLUDED.state,\n"
"      load = EXCLUDED.load, seen = EXCLUDED.seen, started = EXCLUDED.started;\n"
"  IF random() < 0.01 THEN\n"
"    SELECT max(_rev) INTO pr FROM dir_gone WHERE at < now() - interval '7 days';\n"
"    IF pr IS NOT NULL THEN\n"
"      DELETE FROM dir_gone WHERE _rev <= pr;\n"
"      UPDATE dir_meta SET pruned_rev = greatest(pruned_rev, pr);\n"
"    END IF;\n"
"  END IF;\n"
"END $f$;\n";

char *
dirpg_migration(const char **err)
{
	struct sqlbuf	b = { 0 };
	int		i;

	/* The session's: no JIT (compiling the feed's union of every table took
	 * seconds, each time, against milliseconds to run it). */
	sqlbuf_add(&b, "SET jit = off;\n");
	sqlbuf_add(&b, "BEGIN;\nSELECT pg_advisory_xact_lock(%d);\n"
	    "CREATE TABLE IF NOT EXISTS lockerd_schema (version integer NOT NULL);\n",
	    DIRPG_MIGRATE_LOCK);
	/* A schema newer than ours: nothing is touched (not even the functions). */
	sqlbuf_add(&b, "DO $m$ BEGIN IF (SELECT max(version) FROM lockerd_schema) > %d THEN "
	    "RAISE EXCEPTION 'the fleet directory''s schema in PostgreSQL is version %%, newer "
	    "than this lockerd knows (%d): upgrade lockerd', (SELECT max(version) FROM "
	    "lockerd_schema) USING ERRCODE = 'LD002'; END IF; END $m$;\n",
	    PG_SCHEMA_VERSION, PG_SCHEMA_VERSION);
	sqlbuf_add(&b, "%s", functions);
	sqlbuf_add(&b, "DO $m$ BEGIN IF (SELECT count(*) FROM lockerd_schema) = 0 THEN\n"
	    "CREATE SEQUENCE dir_rev;\n"
	    "CREATE TABLE dir_gone (_rev bigint PRIMARY KEY, tbl text NOT NULL, pk jsonb NOT NULL, "
	    "at timestamptz NOT NULL DEFAULT now());\n"
	    "CREATE TABLE dir_meta (id integer PRIMARY KEY CHECK (id = 1), "
	    "pruned_rev bigint NOT NULL);\n"
	    "INSERT INTO dir_meta VALUES (1, 0);\n");
	for (i = 0; dirtab[i].name != NULL; i++)
		add_table(&b, &dirtab[i]);
	sqlbuf_add(&b, "INSERT INTO lockerd_schema VALUES (%d);\nEND IF; END $m$;\n",
	    PG_SCHEMA_VERSION);
	sqlbuf_add(&b, "COMMIT;\nSELECT max(version) FROM lockerd_schema;\n");
	if (b.err != NULL) {
		*err = b.err;
		sqlbuf_free(&b);
		return NULL;
	}
	return b.s;
}

const char *
dirpg_columns_query(void)
{
	return "SELECT table_name, string_agg(column_name::text, ',' ORDER BY ordinal_position) "
	    "FROM information_schema.columns WHERE table_schema = current_schema() "
	    "GROUP BY table_name";
}

/* Each replicated table in PostgreSQL has exactly dirtab[]'s columns, then _rev. */
int
dirpg_columns_ok(PGresult *r, char *why, size_t whylen)
{
	char	 want[1024];
	int	 i, row, n = PQntuples(r);

	for (i = 0; dirtab[i].name != NULL; i++) {
		snprintf(want, sizeof(want), "%s,_rev", dirtab[i].cols);
		for (row = 0; row < n; row++)
			if (strcmp(PQgetvalue(r, row, 0), dirtab[i].name) == 0)
				break;
		if (row == n) {
			snprintf(why, whylen, "PostgreSQL has no table %s", dirtab[i].name);
			return -1;
		}
		if (strcmp(PQgetvalue(r, row, 1), want) != 0) {
			snprintf(why, whylen, "PostgreSQL's table %s has the columns %.200s, not %.200s",
			    dirtab[i].name, PQgetvalue(r, row, 1), want);
			return -1;
		}
	}
	return 0;
}

/*
 * One statement (one snapshot): dir_meta's pruned_rev joined to the rows
 * and tombstones after $1 in _rev order, a batch at most; a full copy is
 * every row, and the highest tombstone only for its revision (op 0).
 */
char *
dirpg_feed_query(int full)
{
	struct sqlbuf	b = { 0 };
	int		i;

	sqlbuf_add(&b, "SELECT m.pruned_rev, f._rev, f.t, f.op, f.j FROM dir_meta m LEFT JOIN (");
	for (i = 0; dirtab[i].name != NULL; i++)
		sqlbuf_add(&b, "SELECT _rev, '%s'::text AS t, 1 AS op, (to_jsonb(x) - '_rev')::text AS j "
		    "FROM %s x%s UNION ALL ", dirtab[i].name, dirtab[i].name,
		    full ? "" : " WHERE _rev > $1");
	if (full)
		sqlbuf_add(&b, "SELECT max(_rev), '', 0, NULL FROM dir_gone HAVING max(_rev) > $1) f "
		    "ON true");
	else
		sqlbuf_add(&b, "SELECT _rev, tbl, 3, pk::text FROM dir_gone WHERE _rev > $1 "
		    "ORDER BY 1 LIMIT %d) f ON true ORDER BY f._rev", DIRPG_FEED_BATCH);
	if (b.err != NULL) {
		sqlbuf_free(&b);
		return NULL;
	}
	return b.s;
}
