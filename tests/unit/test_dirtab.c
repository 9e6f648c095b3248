/*
 * test_dirtab.c: the catalogue of replicated tables says exactly what the
 * SQLite schema has: the same columns in the same order, the same primary
 * key; and every table of the schema is either replicated or named here as
 * a node's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "dirtab.h"
#include "unit.h"

/* The tables each node keeps for itself. */
static const char *const local_tables[] = { "mail_log", "mail_totals", "fleet_state", NULL };

static void
columns_of(sqlite3 *db, const char *table, char *cols, size_t colsz, char *pk, size_t pksz)
{
	char		 sql[128];
	sqlite3_stmt	*st;
	char		 pks[16][64];
	int		 npk = 0, i, k;

	cols[0] = pk[0] = '\0';
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int pos = sqlite3_column_int(st, 5);

		snprintf(cols + strlen(cols), colsz - strlen(cols), "%s%s", cols[0] ? "," : "", name);
		if (pos > 0 && pos <= 16 && npk < 16) {
			snprintf(pks[pos - 1], sizeof(pks[0]), "%s", name);
			npk = pos > npk ? pos : npk;
		}
	}
	sqlite3_finalize(st);
	for (i = 0; i < npk; i++) {
		k = (int)strlen(pk);
		snprintf(pk + k, pksz - (size_t)k, "%s%s", i ? "," : "", pks[i]);
	}
}

static int
is_local(const char *name)
{
	int i;

	for (i = 0; local_tables[i] != NULL; i++)
		if (strcmp(local_tables[i], name) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	char		 dir[] = "/tmp/test_dirtab.XXXXXX", path[256], err[256];
	char		 cols[1024], pk[256];
	struct directory *d;
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 i, seen = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/directory.db", dir);
	d = dir_open(path, err, sizeof(err));
	if (d == NULL)
		fprintf(stderr, "dir_open: %s\n", err);
	CHECK(d != NULL);
	if (d == NULL)
		UNIT_DONE();
	db = (sqlite3 *)dir_sqlite(d);

	CHECK(dirtab_count() <= DIRTAB_MAX);
	for (i = 0; dirtab[i].name != NULL; i++) {
		columns_of(db, dirtab[i].name, cols, sizeof(cols), pk, sizeof(pk));
		if (strcmp(cols, dirtab[i].cols) != 0)
			fprintf(stderr, "%s: the schema has %s\n", dirtab[i].name, cols);
		CHECK_STR(cols, dirtab[i].cols);
		/* a rowid table's INTEGER PRIMARY KEY shows as pk too */
		CHECK_STR(pk, dirtab[i].pk);
		CHECK_INT(dirtab_index(dirtab[i].name), i);
		CHECK(dirtab_find(dirtab[i].name) == &dirtab[i]);
	}
	CHECK(dirtab_has(dirtab[dirtab_index("cron")].blobs, "sched"));
	CHECK(!dirtab_has("sched", "sche"));
	CHECK(!dirtab_has("ab,cd", "b"));
	CHECK(dirtab_has("ab,cd", "cd"));
	CHECK(dirtab_index("mail_log") == -1);
	CHECK(dirtab_find("sqlite_sequence") == NULL);

	/* Every table of the schema is in one list or the other. */
	CHECK(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
	    " AND name NOT LIKE 'sqlite_%'", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (dirtab_index(name) < 0 && !is_local(name))
			fprintf(stderr, "table %s is in neither dirtab[] nor the local list\n", name);
		CHECK(dirtab_index(name) >= 0 || is_local(name));
		seen++;
	}
	sqlite3_finalize(st);
	CHECK_INT(seen, dirtab_count() + 3);

	dir_close(d);
	unlink(path);
	rmdir(dir);
	UNIT_DONE();
}
