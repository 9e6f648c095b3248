/*
 * dirtab.c: the catalogue of replicated tables (dirtab.h).  Its columns
 * must be the SQLite schema's (directory.c) exactly: test_dirtab compares
 * them with a database dir_open() made, so a migration that adds a column
 * and forgets this list fails there, not in a fleet.
 */
#include <string.h>

#include "dirtab.h"

const struct dirtab dirtab[] = {
	{ "uids", "uid,name,allocated,released,archive", "uid", "" },
	{ "lockers", "name,uid,gid,created", "name", "" },
	{ "vhosts", "host,locker,subdir,https,mail", "host", "" },
	{ "locker_admins", "locker,uid,added", "locker,uid", "" },
	{ "audit", "id,at,who,action,locker,detail,uid", "id", "" },
	{ "locker_limits", "locker,key,value", "locker,key", "" },
	{ "vhost_claims", "host,locker,subdir,token,created,https", "host,locker", "" },
	{ "acme_names", "host,locker,first", "host", "" },
	{ "cron", "locker,sched,stamp,error,compiled", "locker", "sched" },
	{ "app_installs", "locker,path,app,version,state,dbname,target,previous,opted_out,updated",
	  "locker,path", "" },
	{ "leases", "what,holder,expires", "what", "" },
	{ "nodes", "name,addr,state,load,seen,started", "name", "" },
	{ "node_drain", "name,at,who", "name", "" },
	{ NULL, NULL, NULL, NULL }
};

int
dirtab_count(void)
{
	int n = 0;

	while (dirtab[n].name != NULL)
		n++;
	return n;
}

int
dirtab_index(const char *name)
{
	int i;

	for (i = 0; dirtab[i].name != NULL; i++)
		if (strcmp(dirtab[i].name, name) == 0)
			return i;
	return -1;
}

const struct dirtab *
dirtab_find(const char *name)
{
	int i = dirtab_index(name);

	return i < 0 ? NULL : &dirtab[i];
}

int
dirtab_has(const char *list, const char *col)
{
	size_t	n = strlen(col);
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, col, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}
