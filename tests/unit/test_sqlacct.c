/*
 * test_sqlacct.c: sqlacct.c, a locker's MariaDB accounts and how their
 * per-account limits are shared so that together they never pass the
 * configured value.
 */
#include <string.h>

#include "unit.h"
#include "sql.h"

static void
test_hosts(void)
{
	const char	*h[SQL_HOSTS_MAX];

	CHECK_INT(sql_account_hosts(0, h), 1);
	CHECK_STR(h[0], "localhost");
	CHECK_INT(sql_account_hosts(1, h), 2);
	CHECK_STR(h[0], "localhost");
	CHECK_STR(h[1], "127.0.0.1");
	CHECK_STR(sql_account_twin(), "127.0.0.1");
}

static void
test_shares(void)
{
	struct sql_limits	l = { 30, 0, 1, 7, 60 };
	char			c[256];
	uint32_t		v;

	/* one account: the whole of each */
	sql_limits_clause(&l, 0, 1, c, sizeof(c));
	CHECK_STR(c, " WITH MAX_USER_CONNECTIONS 30 MAX_CONNECTIONS_PER_HOUR 0 "
	    "MAX_QUERIES_PER_HOUR 1 MAX_UPDATES_PER_HOUR 7 MAX_STATEMENT_TIME 60");
	/* two: split, the odd one to the socket; 0 stays no limit; an hourly 1
	 * cannot be split (0 would be none) */
	sql_limits_clause(&l, 0, 2, c, sizeof(c));
	CHECK_STR(c, " WITH MAX_USER_CONNECTIONS 15 MAX_CONNECTIONS_PER_HOUR 0 "
	    "MAX_QUERIES_PER_HOUR 1 MAX_UPDATES_PER_HOUR 4 MAX_STATEMENT_TIME 60");
	sql_limits_clause(&l, 1, 2, c, sizeof(c));
	CHECK_STR(c, " WITH MAX_USER_CONNECTIONS 15 MAX_CONNECTIONS_PER_HOUR 0 "
	    "MAX_QUERIES_PER_HOUR 1 MAX_UPDATES_PER_HOUR 3 MAX_STATEMENT_TIME 60");
	/* the connections of both never pass the limit, and neither is 0 */
	for (v = 1; v < 200; v++) {
		l.max_user_connections = v;
		long a = sql_connections_share(&l, 0, 2), b = sql_connections_share(&l, 1, 2);

		CHECK(a >= 1 && b != 0);
		CHECK_INT(a + (b > 0 ? b : 0), v);
		CHECK_INT(sql_connections_share(&l, 0, 1), v);
	}
	/* 1: TCP may not connect (MariaDB's -1) */
	l.max_user_connections = 1;
	CHECK_INT(sql_connections_share(&l, 1, 2), -1);
	l.max_user_connections = 0;
	CHECK_INT(sql_connections_share(&l, 1, 2), 0);
}

int
main(void)
{
	test_hosts();
	test_shares();
	UNIT_DONE();
}
