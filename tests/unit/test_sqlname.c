/*
 * test_sqlname.c: sqlname.c, the one validator of the SQL service's names
 * and passwords, its LIKE/GRANT escape, and the credentials file's reader.
 */
#include <string.h>

#include "unit.h"
#include "sql.h"

static void
test_words(void)
{
	static const char *const good[] = { "alice", "sipb-club", "a_b", "A9", "x", NULL };
	static const char *const bad[] = {
		"", "a'b", "a`b", "a\"b", "a%b", "a b", "a+b", "a\\b", "a;b", "a.b",
		"a/b", "a\nb", "caf\xc3\xa9", "x'; DROP USER root; --", NULL
	};
	char	long_name[80];
	int	i;

	for (i = 0; good[i] != NULL; i++)
		CHECK(sql_word_ok(good[i], 63));
	for (i = 0; bad[i] != NULL; i++)
		CHECK(!sql_word_ok(bad[i], 63));
	memset(long_name, 'a', sizeof(long_name));
	long_name[64] = '\0';
	CHECK(!sql_word_ok(long_name, 63));
	long_name[63] = '\0';
	CHECK(sql_word_ok(long_name, 63));
}

static void
test_db_names(void)
{
	char	full[SQL_DB_MAX + 1], err[256], l[64], d[65], db[80];

	CHECK_INT(sql_db_name("alice", "wiki", full, sizeof(full), err, sizeof(err)), 0);
	CHECK_STR(full, "alice+wiki");
	CHECK_INT(sql_db_name("alice", "wi`ki", full, sizeof(full), err, sizeof(err)), -1);
	CHECK(strstr(err, "letters, digits") != NULL);
	CHECK_INT(sql_db_name("alice", "a+b", full, sizeof(full), err, sizeof(err)), -1);
	CHECK_INT(sql_db_name("alice", "", full, sizeof(full), err, sizeof(err)), -1);
	CHECK_INT(sql_db_name("al'ce", "x", full, sizeof(full), err, sizeof(err)), -1);
	CHECK_INT(sql_db_name("alice", "%", full, sizeof(full), err, sizeof(err)), -1);
	/* 64 bytes in all: alice+ leaves 58 */
	memset(db, 'x', sizeof(db));
	db[58] = '\0';
	CHECK_INT(sql_db_name("alice", db, full, sizeof(full), err, sizeof(err)), 0);
	CHECK_INT((long long)strlen(full), 64);
	db[58] = 'x';
	db[59] = '\0';
	CHECK_INT(sql_db_name("alice", db, full, sizeof(full), err, sizeof(err)), -1);
	CHECK_INT(sql_db_split("alice+wiki", l, sizeof(l), d, sizeof(d)), 0);
	CHECK_STR(l, "alice");
	CHECK_STR(d, "wiki");
	CHECK_INT(sql_db_split("nosep", l, sizeof(l), d, sizeof(d)), -1);
	CHECK_INT(sql_db_split("+x", l, sizeof(l), d, sizeof(d)), -1);
	CHECK_INT(sql_db_split("a+b+c", l, sizeof(l), d, sizeof(d)), -1);
}

/* `a_b+%` unescaped would match locker axb's databases too. */
static void
test_escape(void)
{
	char out[32];

	CHECK_INT(sql_like_escape("a_b", out, sizeof(out)), 0);
	CHECK_STR(out, "a\\_b");
	CHECK_INT(sql_like_escape("50%\\", out, sizeof(out)), 0);
	CHECK_STR(out, "50\\%\\\\");
	CHECK_INT(sql_like_escape("a_b", out, 4), -1);
	CHECK_INT(sql_like_escape("a_b", out, 5), 0);
}

static void
test_password(void)
{
	char	a[SQL_PASSWORD_MAX + 1], b[SQL_PASSWORD_MAX + 1];

	CHECK_INT(sql_password_new(a, sizeof(a)), 0);
	CHECK_INT(sql_password_new(b, sizeof(b)), 0);
	CHECK_INT((long long)strlen(a), SQL_PASSWORD_LEN);
	CHECK(sql_word_ok(a, SQL_PASSWORD_MAX));
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(sql_password_new(a, SQL_PASSWORD_LEN), -1);
}

static void
test_creds(void)
{
	char		u[64], p[64], err[128];
	const char	*t = "# admin\n[client]\nuser = lockerd_admin\npassword=\"s3 cr=t\"\n";

	CHECK_INT(sql_creds_parse(t, strlen(t), u, sizeof(u), p, sizeof(p), err, sizeof(err)), 0);
	CHECK_STR(u, "lockerd_admin");
	CHECK_STR(p, "s3 cr=t");
	t = "[client]\nuser=x\n";
	CHECK_INT(sql_creds_parse(t, strlen(t), u, sizeof(u), p, sizeof(p), err, sizeof(err)), -1);
	CHECK(strstr(err, "password") != NULL);
	t = "[client]\nuser\n";
	CHECK_INT(sql_creds_parse(t, strlen(t), u, sizeof(u), p, sizeof(p), err, sizeof(err)), -1);
	CHECK(strstr(err, "line 2") != NULL);
}

/* Whose is a name sqld's measures read back from MariaDB (sqlsize.c)? */
static void
test_owners(void)
{
	char	l[LOCKER_NAME_MAX + 1], tiny[4];

	/* schemas (an InnoDB tablespace's as MariaDB decodes it) */
	CHECK_INT(sql_schema_locker("bob+blog", l, sizeof(l)), 0);
	CHECK_STR(l, "bob");
	CHECK_INT(sql_schema_locker("bob+a+b", l, sizeof(l)), 0);
	CHECK_STR(l, "bob");
	CHECK_INT(sql_schema_locker("b o+x", l, sizeof(l)), -1);
	CHECK_INT(sql_schema_locker("+x", l, sizeof(l)), -1);
	CHECK_INT(sql_schema_locker("mysql", l, sizeof(l)), -1);
	CHECK_INT(sql_schema_locker("abcd+x", tiny, sizeof(tiny)), -1);
	CHECK_INT(sql_schema_locker("abc+x", tiny, sizeof(tiny)), 0);
	/* grant rows: only USER's own pattern, '_' escaped */
	CHECK_INT(sql_grant_locker("alice alice+%", l, sizeof(l)), 0);
	CHECK_STR(l, "alice");
	CHECK_INT(sql_grant_locker("a_b a\\_b+%", l, sizeof(l)), 0);
	CHECK_STR(l, "a_b");
	CHECK_INT(sql_grant_locker("a_b a_b+%", l, sizeof(l)), -1);	/* unescaped */
	CHECK_INT(sql_grant_locker("alice bob+%", l, sizeof(l)), -1);
	CHECK_INT(sql_grant_locker("alice alice+x", l, sizeof(l)), -1);
	CHECK_INT(sql_grant_locker("alice", l, sizeof(l)), -1);
	CHECK_INT(sql_grant_locker("al'ce al'ce+%", l, sizeof(l)), -1);
}

int
main(void)
{
	test_owners();
	test_words();
	test_db_names();
	test_escape();
	test_password();
	test_creds();
	UNIT_DONE();
}
