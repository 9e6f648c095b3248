/*
 * sqlname.c: the one check of the names and passwords the SQL service
 * handles (issue 14), shared by the CLI, the master and sqld, so that a
 * name one of them lets through is a name each of the others would too.
 *
 * Identifiers cannot be bound parameters in MariaDB's prepared statements,
 * so sqld puts account and database names into fixed statements itself;
 * what makes that safe is this check: only letters, digits, '_' and '-',
 * so no quote, backtick, backslash, '%', space or NUL ever reaches a
 * statement, and the one '+' of a database name is put there by
 * sql_db_name(), never taken from a caller.
 */
#include <sys/random.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sql.h"

static int
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

int
sql_word_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i <= max && s[i] != '\0'; i++)
		if (!word_char(s[i]))
			return 0;
	return i > 0 && i <= max;
}

int
sql_db_name(const char *locker, const char *db, char *out, size_t outsz, char *err,
    size_t errlen)
{
	size_t ll = strnlen(locker, LOCKER_NAME_MAX + 1);

	if (!sql_word_ok(locker, LOCKER_NAME_MAX)) {
		snprintf(err, errlen, "account name \"%.64s\": only letters, digits, _ and -",
		    locker);
		return -1;
	}
	if (ll + 2 > SQL_DB_MAX) {
		snprintf(err, errlen, "locker name %s is too long for database names", locker);
		return -1;
	}
	if (!sql_word_ok(db, SQL_DB_MAX - ll - 1)) {
		snprintf(err, errlen, "database name \"%.64s\": 1 to %zu letters, digits, _ and -",
		    db, SQL_DB_MAX - ll - 1);
		return -1;
	}
	if ((size_t)snprintf(out, outsz, "%s%c%s", locker, SQL_SEP, db) >= outsz) {
		snprintf(err, errlen, "database name too long");
		return -1;
	}
	return 0;
}

int
sql_db_split(const char *full, char *locker, size_t lsz, char *db, size_t dsz)
{
	const char	*sep = strchr(full, SQL_SEP);
	size_t		 ll;

	if (sep == NULL || strnlen(full, SQL_DB_MAX + 1) > SQL_DB_MAX)
		return -1;
	ll = (size_t)(sep - full);
	if (ll == 0 || ll >= lsz || strlen(sep + 1) >= dsz)
		return -1;
	memcpy(locker, full, ll);
	locker[ll] = '\0';
	snprintf(db, dsz, "%s", sep + 1);
	return sql_word_ok(locker, LOCKER_NAME_MAX) && sql_word_ok(db, SQL_DB_MAX) ? 0 : -1;
}

int
sql_like_escape(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == '_' || *s == '%' || *s == '\\') {
			if (n + 1 >= outsz)
				return -1;
			out[n++] = '\\';
		}
		if (n + 1 >= outsz)
			return -1;
		out[n++] = *s;
	}
	if (n >= outsz)
		return -1;
	out[n] = '\0';
	return 0;
}

int
sql_password_new(char *out, size_t outsz)
{
	static const char	 set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789";
	unsigned char		 r[SQL_PASSWORD_LEN * 2];
	size_t			 i, n = 0;

	if (outsz < SQL_PASSWORD_LEN + 1)
		return -1;
	/* 248 is the largest multiple of 62 below 256: no bias. */
	while (n < SQL_PASSWORD_LEN) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < sizeof(r) && n < SQL_PASSWORD_LEN; i++)
			if (r[i] < 248)
				out[n++] = set[r[i] % 62];
	}
	out[n] = '\0';
	return 0;
}

/* One "key = value" line: its value into out, trimmed; -1 if too long. */
static int
creds_value(const char *v, size_t vlen, char *out, size_t outsz)
{
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
		vlen--;
	/* my.cnf allows the value quoted */
	if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
		v++;
		vlen -= 2;
	}
	if (vlen == 0 || vlen >= outsz || memchr(v, '\0', vlen) != NULL)
		return -1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

int
sql_creds_parse(const char *text, size_t len, char *user, size_t usz, char *password,
    size_t psz, char *err, size_t errlen)
{
	size_t	 i = 0, line = 0;

	user[0] = password[0] = '\0';
	while (i < len) {
		const char	*s = text + i, *nl = memchr(s, '\n', len - i), *eq;
		size_t		 n = nl ? (size_t)(nl - s) : len - i, k;

		i += n + 1;
		line++;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (n == 0 || *s == '#' || *s == ';' || *s == '[')
			continue;
		if ((eq = memchr(s, '=', n)) == NULL) {
			snprintf(err, errlen, "line %zu: expected key=value", line);
			return -1;
		}
		for (k = (size_t)(eq - s); k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'); k--)
			;
		if (k == 4 && memcmp(s, "user", 4) == 0) {
			if (creds_value(eq + 1, n - (size_t)(eq + 1 - s), user, usz) == -1) {
				snprintf(err, errlen, "line %zu: bad user", line);
				return -1;
			}
		} else if (k == 8 && memcmp(s, "password", 8) == 0) {
			if (creds_value(eq + 1, n - (size_t)(eq + 1 - s), password, psz) == -1) {
				snprintf(err, errlen, "line %zu: bad password", line);
				return -1;
			}
		}
	}
	if (user[0] == '\0' || password[0] == '\0') {
		snprintf(err, errlen, "needs user= and password=");
		return -1;
	}
	return 0;
}

/*
 * The two names sqld's measures read back from MariaDB (sqlsize.c):
 * text a locker chose (its schemas' and tables' names), so each is taken
 * apart here, bounded, and only a valid locker name comes out.
 */
int
sql_schema_locker(const char *schema, char *out, size_t outsz)
{
	const char *sep = strchr(schema, SQL_SEP);

	if (sep == NULL || (size_t)(sep - schema) >= outsz)
		return -1;
	memcpy(out, schema, (size_t)(sep - schema));
	out[sep - schema] = '\0';
	return sql_word_ok(out, outsz - 1) ? 0 : -1;
}

int
sql_grant_locker(const char *user_db, char *out, size_t outsz)
{
	char		 esc[2 * SQL_DB_MAX + 4], want[2 * SQL_DB_MAX + 8];
	const char	*sp = strchr(user_db, ' ');

	if (sp == NULL || (size_t)(sp - user_db) >= outsz)
		return -1;
	memcpy(out, user_db, (size_t)(sp - user_db));
	out[sp - user_db] = '\0';
	if (!sql_word_ok(out, outsz - 1) || sql_like_escape(out, esc, sizeof(esc)) == -1)
		return -1;
	snprintf(want, sizeof(want), "%s%c%%", esc, SQL_SEP);
	return strcmp(sp + 1, want) == 0 ? 0 : -1;
}
