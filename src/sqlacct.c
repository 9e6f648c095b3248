/*
 * sqlacct.c: which MariaDB accounts make up a locker's database account,
 * and how its per-account limits are shared between them (issue 14).
 *
 * A locker's scripts reach MariaDB two ways: the socket (MariaDB calls
 * that host "localhost") and TCP to 127.0.0.1.  MariaDB counts its
 * resource limits (MAX_USER_CONNECTIONS, the hourly ones) per account,
 * user@host, so two accounts would give a locker twice sql-max-connections.
 * How many accounts are needed depends on MariaDB's skip_name_resolve,
 * measured on MariaDB 10.11 (test_sql.py, test_hostile.py):
 *
 *   off (MariaDB's and Debian's default): a TCP client from a loopback
 *   address is "localhost" to MariaDB (hostname.cc takes 127.0.0.1 and
 *   ::1 for localhost without asking DNS; a remote address whose reverse
 *   name says "localhost" fails the forward check), so NAME@localhost
 *   matches both ways, and one account holds the whole limit.
 *
 *   on: TCP clients are matched by address only, so TCP needs
 *   NAME@127.0.0.1 beside NAME@localhost, and the limits are split between
 *   the two (the socket gets the odd one), so that together they never pass
 *   the configured value.  An hourly limit of 1 cannot be split (0 means no
 *   limit to MariaDB): each gets 1.  A connection limit of 1 leaves TCP -1,
 *   which MariaDB takes for "may not connect": the socket only.
 *
 * Nothing here talks to MariaDB: sqld.c runs the statements.
 */
#include <stdio.h>

#include "sql.h"

static const char *const hosts[SQL_HOSTS_MAX] = { "localhost", "127.0.0.1" };

int
sql_account_hosts(int skip_name_resolve, const char **out)
{
	int i, n = skip_name_resolve ? 2 : 1;

	for (i = 0; i < n; i++)
		out[i] = hosts[i];
	return n;
}

const char *
sql_account_twin(void)
{
	return hosts[1];
}

/* Account i's share of v when n accounts share it; 0 stays 0 (no limit). */
static long
share(uint32_t v, int i, int n, int may_refuse)
{
	long s;

	if (v == 0 || n == 1)
		return v;
	s = i == 0 ? (long)v - (long)(v / 2) : (long)(v / 2);
	if (s == 0)
		s = may_refuse ? -1 : 1;
	return s;
}

void
sql_limits_clause(const struct sql_limits *l, int i, int n, char *out, size_t outsz)
{
	snprintf(out, outsz, " WITH MAX_USER_CONNECTIONS %ld MAX_CONNECTIONS_PER_HOUR %ld "
	    "MAX_QUERIES_PER_HOUR %ld MAX_UPDATES_PER_HOUR %ld MAX_STATEMENT_TIME %u",
	    share(l->max_user_connections, i, n, 1), share(l->max_connections_per_hour, i, n, 0),
	    share(l->max_queries_per_hour, i, n, 0), share(l->max_updates_per_hour, i, n, 0),
	    l->max_statement_time);
}

long
sql_connections_share(const struct sql_limits *l, int i, int n)
{
	return share(l->max_user_connections, i, n, 1);
}
