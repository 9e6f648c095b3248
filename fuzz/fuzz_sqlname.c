/*
 * fuzz_sqlname.c: libFuzzer target for sqlname.c, the one check of the
 * names and passwords the SQL service puts into MariaDB's statements, and
 * the admin credentials file sqld reads.
 *
 * The input is split at its first NUL into a locker name and a database
 * name.  Checked: a name sql_word_ok() accepts holds only letters,
 * digits, '_' and '-' (no quote, backtick, backslash, '%', space, NUL or
 * '+'); a full name sql_db_name() makes is at most 64 bytes, has exactly
 * one '+', and sql_db_split() gives back its two parts; a LIKE escape of it
 * has no '_' or '%' that is not escaped.  The whole input is also read as
 * a credentials file, within its own bounds; and the first part as a
 * tablespace, a schema and a grant row whose locker sqld's measures look
 * for (sqlsize.c): what comes out is a valid locker name, or nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

static void
only_word_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			abort();
}

static void
escaped_ok(const char *e)
{
	for (; *e != '\0'; e++) {
		if (*e == '\\') {
			if (e[1] == '\0')
				abort();
			e++;
			continue;
		}
		if (*e == '_' || *e == '%')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*copy, *db, full[SQL_DB_MAX + 1], err[256], l[LOCKER_NAME_MAX + 1];
	char	 d[SQL_DB_MAX + 1], esc[2 * SQL_DB_MAX + 4], user[128], pw[256];
	size_t	 n;

	if (size > 4096)
		return 0;
	/* The credentials parser, on an exact-size copy. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (sql_creds_parse(copy, size, user, sizeof(user), pw, sizeof(pw), err,
	    sizeof(err)) == 0 && (user[0] == '\0' || pw[0] == '\0'))
		abort();
	free(copy);

	if ((copy = malloc(size + 2)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = '\0';
	n = strlen(copy);
	db = copy + n + (n < size ? 1 : 0);
	if (sql_word_ok(copy, LOCKER_NAME_MAX))
		only_word_chars(copy);
	if (sql_word_ok(db, SQL_PASSWORD_MAX))
		only_word_chars(db);
	if (sql_db_name(copy, db, full, sizeof(full), err, sizeof(err)) == 0) {
		only_word_chars(copy);
		only_word_chars(db);
		if (strlen(full) > SQL_DB_MAX || strchr(full, '+') != strrchr(full, '+') ||
		    strchr(full, '+') == NULL)
			abort();
		if (sql_db_split(full, l, sizeof(l), d, sizeof(d)) != 0 || strcmp(l, copy) != 0 ||
		    strcmp(d, db) != 0)
			abort();
		if (sql_like_escape(full, esc, sizeof(esc)) != 0)
			abort();
		escaped_ok(esc);
	}
	if (sql_like_escape(copy, esc, sizeof(esc)) == 0)
		escaped_ok(esc);
	/* The names sqld's measures read back: only a locker's name comes out. */
	if (sql_schema_locker(copy, l, sizeof(l)) == 0 ||
	    sql_grant_locker(copy, l, sizeof(l)) == 0) {
		only_word_chars(l);
		if (!sql_word_ok(l, LOCKER_NAME_MAX))
			abort();
	}
	free(copy);
	return 0;
}
