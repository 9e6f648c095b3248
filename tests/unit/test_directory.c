/* test_directory.c: lockers, uids and vhosts in a scratch database. */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "directory.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_directory.XXXXXX";
/* What schemas 13 (leases, nodes), 12 (app_installs), 11 (vhosts.mail) and 9 (cron) added,
 * undone first when a test goes back further (10's column goes with mail_totals). */
#define DROP_V9	"DROP TABLE leases; DROP TABLE nodes; DROP TABLE node_drain; DROP TABLE fleet_state; DROP TRIGGER app_locker_gone; DROP TABLE app_installs; ALTER TABLE vhosts DROP COLUMN mail; DROP TRIGGER cron_locker_gone; DROP TABLE cron; "
static char	dbpath[256];

static struct directory *
reopen(struct directory *d)
{
	char err[256];

	dir_close(d);
	d = dir_open(dbpath, err, sizeof(err));
	if (d == NULL)
		fprintf(stderr, "dir_open: %s\n", err);
	CHECK(d != NULL);
	return d;
}

static void
cleanup(void)
{
	DIR		*dp;
	struct dirent	*de;
	char		 path[512];

	if ((dp = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(tmpdir);
}

static void
test_names(void)
{
	char		 why[128], name[80];
	const char	*good[] = {
		"alice", "sipb-club", "a", "a1", "1a", "x-y-z", "b2b", "0-9",
		"wwwx", "mailroom2", "a-b--c", "ns1x", "rooted",
	};
	const char	*bad[] = {
		"", "Alice", "ALICE", "-alice", "alice-", "-", "123", "0",
		"al_ice", "al.ice", "al ice", "al/ice", "caf\xc3\xa9", "xn--nxasmq6b",
		"ab--cd", "www", "root", "admin", "localhost", "lockerd", "postmaster",
		"www-data", "nobody", "scripts", "mail2", "isatap", "wpad", "login",
		"sso", "accounts", "auth", "autoconfig", "autodiscover", "ns1",
		"ns12", "www2", "mx10", "webmail", "cdn", "api", "static", "_dmarc",
	};
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why[0] = '\0';
		CHECK_INT(locker_name_check(good[i], why, sizeof(why)), 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(locker_name_check(bad[i], why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
	}
	CHECK_INT(locker_name_check("", why, sizeof(why)), -1);
	CHECK(strstr(why, "empty") != NULL);
	CHECK_INT(locker_name_check("Alice", why, sizeof(why)), -1);
	CHECK(strstr(why, "lower case") != NULL);
	CHECK_INT(locker_name_check("-a", why, sizeof(why)), -1);
	CHECK(strstr(why, "start or end") != NULL);
	CHECK_INT(locker_name_check("42", why, sizeof(why)), -1);
	CHECK(strstr(why, "digits") != NULL);
	CHECK_INT(locker_name_check("www", why, sizeof(why)), -1);
	CHECK(strstr(why, "reserved") != NULL);

	memset(name, 'a', 63);
	name[63] = '\0';
	CHECK_INT(locker_name_check(name, why, sizeof(why)), 0);
	name[63] = 'a';
	name[64] = '\0';
	CHECK_INT(locker_name_check(name, why, sizeof(why)), -1);
	CHECK(strstr(why, "63") != NULL);
	/* why may be absent or tiny. */
	CHECK_INT(locker_name_check("Bad", NULL, 0), -1);
	CHECK_INT(locker_name_check("Bad", why, 1), -1);
	CHECK_STR(why, "");
}

static void
test_subdirs(void)
{
	char		 why[128], longsub[SUBDIR_MAX + 2];
	const char	*good[] = {
		"", "blog", "a/b", "a/b/c.d", "A_B~c-d.e", "x..y", "a/b.",
	};
	const char	*bad[] = {
		"/", "/blog", "blog/", "a//b", ".", "..", "../x", "a/..", "a/./b",
		".hidden", "a/.git", "a b", "a\\b", "a%2f", "caf\xc3\xa9", "a?b",
	};
	size_t		 i;
	struct route_builder *b;

	/* front (route.c) must accept exactly what the directory accepts. */
	b = route_builder_new("example.org");
	CHECK_INT(route_builder_add_locker(b, "alice"), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(subdir_check(good[i], why, sizeof(why)), 0);
		CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", good[i]), 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(subdir_check(bad[i], why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
		CHECK_INT(route_builder_add_vhost(b, "a.net", "alice", bad[i]), -1);
	}
	route_builder_free(b);

	memset(longsub, 'a', sizeof(longsub) - 1);
	longsub[sizeof(longsub) - 1] = '\0';
	CHECK_INT(subdir_check(longsub, why, sizeof(why)), -1);
	longsub[SUBDIR_MAX] = '\0';
	CHECK_INT(subdir_check(longsub, why, sizeof(why)), 0);
}

/* Every name the directory accepts is one the routing table takes too. */
static void
test_names_route(void)
{
	struct route_builder	*b = route_builder_new("example.org");
	const char		*names[] = { "alice", "a", "1a", "a-b--c", "sipb-club" };
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK_INT(locker_name_check(names[i], NULL, 0), 0);
		CHECK_INT(route_builder_add_locker(b, names[i]), 0);
	}
	route_builder_free(b);
}

static int
collect_lockers(const struct locker_rec *l, void *arg)
{
	char *buf = arg;

	strcat(buf, l->name);
	strcat(buf, " ");
	return 0;
}

static int
stop_at_second(const struct locker_rec *l, void *arg)
{
	int *n = arg;

	(void)l;
	return ++*n == 2 ? 42 : 0;
}

static void
test_lockers(struct directory *d)
{
	struct locker_rec	l;
	char			err[256], list[256] = "";
	int			n = 0;

	CHECK_INT(dir_locker_count(d), 0);
	CHECK_INT(dir_locker_add(d, "bob", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_STR(l.name, "bob");
	CHECK_INT(l.uid, 10000);
	CHECK_INT(l.gid, 10000);
	CHECK(l.created > 0);
	CHECK_INT(dir_locker_add(d, "alice", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10001);
	CHECK_INT(dir_locker_add(d, "carol", 10000, 10100, NULL, err, sizeof(err)), 0);
	CHECK_INT(dir_locker_count(d), 3);

	CHECK_INT(dir_locker_add(d, "alice", 10000, 10100, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "already exists") != NULL);
	CHECK_INT(dir_locker_add(d, "Alice", 10000, 10100, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "lower case") != NULL);
	CHECK_INT(dir_locker_add(d, "www", 10000, 10100, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "reserved") != NULL);
	CHECK_INT(dir_locker_add(d, "dave", 0, 10, &l, err, sizeof(err)), -1);
	CHECK_INT(dir_locker_add(d, "dave", 20, 10, &l, err, sizeof(err)), -1);
	CHECK_INT(dir_locker_add(d, "dave", 10, UINT32_MAX, &l, err, sizeof(err)), -1);
	CHECK_INT(dir_locker_count(d), 3);

	CHECK_INT(dir_locker_get(d, "alice", &l), 1);
	CHECK_STR(l.name, "alice");
	CHECK_INT(l.uid, 10001);
	CHECK_INT(l.gid, 10001);
	CHECK_INT(dir_locker_get(d, "nobody-here", &l), 0);
	CHECK_INT(dir_locker_get_by_uid(d, 10002, &l), 1);
	CHECK_STR(l.name, "carol");
	CHECK_INT(dir_locker_get_by_uid(d, 10003, &l), 0);

	CHECK_INT(dir_locker_foreach(d, collect_lockers, list), 0);
	CHECK_STR(list, "alice bob carol ");
	CHECK_INT(dir_locker_foreach(d, stop_at_second, &n), 42);
	CHECK_INT(n, 2);
	/* The listing is reset after an early stop. */
	list[0] = '\0';
	CHECK_INT(dir_locker_foreach(d, collect_lockers, list), 0);
	CHECK_STR(list, "alice bob carol ");
}

static void
test_uids(struct directory *d)
{
	struct locker_rec	l;
	char			err[256];

	/* Remove the newest and the middle one: neither uid comes back. */
	CHECK_INT(dir_locker_remove(d, "carol", "/archive/carol", err, sizeof(err)), 0);
	CHECK_INT(dir_locker_remove(d, "alice", "", err, sizeof(err)), 0);
	CHECK_INT(dir_locker_remove(d, "alice", "", err, sizeof(err)), -1);
	CHECK(strstr(err, "no locker") != NULL);
	CHECK_INT(dir_locker_get(d, "alice", &l), 0);
	CHECK_INT(dir_locker_get_by_uid(d, 10001, &l), 0);
	CHECK_INT(dir_locker_count(d), 1);

	CHECK_INT(dir_locker_add(d, "dave", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10003);
	/* The same name signed up again gets a new uid. */
	CHECK_INT(dir_locker_add(d, "alice", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10004);
	CHECK_INT(dir_locker_remove(d, "alice", NULL, err, sizeof(err)), 0);
	CHECK_INT(dir_locker_add(d, "alice", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10005);

	/* A range lowered below what was used: its holes are used first. */
	CHECK_INT(dir_locker_add(d, "erin", 9998, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 9998);
	CHECK_INT(dir_locker_add(d, "frank", 9998, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 9999);
	CHECK_INT(dir_locker_add(d, "gina", 9998, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10006);

	/* A range with a hole in the middle that nothing ever used. */
	CHECK_INT(dir_locker_add(d, "hal", 10010, 10010, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10010);
	CHECK_INT(dir_locker_add(d, "ivy", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10007);
	CHECK_INT(dir_locker_add(d, "jo", 10008, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10008);
	CHECK_INT(dir_locker_add(d, "kim", 10008, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10009);
	CHECK_INT(dir_locker_add(d, "lee", 10008, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 10011);
}

static void
test_exhaustion(struct directory *d)
{
	struct locker_rec	l;
	char			err[256];

	CHECK_INT(dir_locker_add(d, "r1", 20000, 20001, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 20000);
	CHECK_INT(dir_locker_add(d, "r2", 20000, 20001, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 20001);
	err[0] = '\0';
	CHECK_INT(dir_locker_add(d, "r3", 20000, 20001, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "no uid left") != NULL);
	CHECK(strstr(err, "20000..20001") != NULL);
	/* Removing a locker does not free its uid. */
	CHECK_INT(dir_locker_remove(d, "r1", "", err, sizeof(err)), 0);
	CHECK_INT(dir_locker_add(d, "r3", 20000, 20001, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "no uid left") != NULL);
	CHECK_INT(dir_locker_get(d, "r3", &l), 0);
	CHECK_INT(dir_locker_add(d, "r3", 20000, 20002, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 20002);
	/* A single-uid range at the very top of what we allow. */
	CHECK_INT(dir_locker_add(d, "top", UINT32_MAX - 1, UINT32_MAX - 1, &l,
	    err, sizeof(err)), 0);
	CHECK_INT(l.uid, UINT32_MAX - 1);
	CHECK_INT(dir_locker_add(d, "top2", UINT32_MAX - 1, UINT32_MAX - 1, &l,
	    err, sizeof(err)), -1);
	/* And the very bottom. */
	CHECK_INT(dir_locker_add(d, "bottom", 1, 1, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 1);
}

static int
collect_vhosts(const struct vhost_rec *v, void *arg)
{
	char *buf = arg;

	strcat(buf, v->host);
	strcat(buf, "=");
	strcat(buf, v->locker);
	if (v->subdir[0] != '\0') {
		strcat(buf, "/");
		strcat(buf, v->subdir);
	}
	strcat(buf, " ");
	return 0;
}

static void
test_vhosts(struct directory *d)
{
	struct vhost_rec	v;
	char			err[256], list[512];

	CHECK_INT(dir_vhost_add(d, "www.bob.net", "bob", "", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_add(d, "blog.bob.net", "bob", "blog", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_add(d, "dave.com", "dave", "a/b", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_add(d, "x.dave.com", "dave", NULL, 0, err, sizeof(err)), 0);

	CHECK_INT(dir_vhost_add(d, "www.bob.net", "dave", "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "already a vhost of locker bob") != NULL);
	CHECK_INT(dir_vhost_add(d, "new.net", "nobody-here", "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "no locker") != NULL);
	CHECK_INT(dir_vhost_add(d, "WWW.bob.org", "bob", "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "canonical") != NULL);
	CHECK_INT(dir_vhost_add(d, "bob.org.", "bob", "", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "bob.org:80", "bob", "", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "bob_.org", "bob", "", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "[::1]", "bob", "", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "", "bob", "", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "bob.org", "bob", "../etc", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_add(d, "bob.org", "bob", "/abs", 0, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_get(d, "bob.org", &v), 0);

	CHECK_INT(dir_vhost_get(d, "blog.bob.net", &v), 1);
	CHECK_STR(v.host, "blog.bob.net");
	CHECK_STR(v.locker, "bob");
	CHECK_STR(v.subdir, "blog");
	CHECK_INT(dir_vhost_get(d, "x.dave.com", &v), 1);
	CHECK_STR(v.subdir, "");

	list[0] = '\0';
	CHECK_INT(dir_vhost_foreach(d, NULL, collect_vhosts, list), 0);
	CHECK_STR(list, "blog.bob.net=bob/blog dave.com=dave/a/b www.bob.net=bob "
	    "x.dave.com=dave ");
	list[0] = '\0';
	CHECK_INT(dir_vhost_foreach(d, "bob", collect_vhosts, list), 0);
	CHECK_STR(list, "blog.bob.net=bob/blog www.bob.net=bob ");
	list[0] = '\0';
	CHECK_INT(dir_vhost_foreach(d, "nobody-here", collect_vhosts, list), 0);
	CHECK_STR(list, "");

	CHECK_INT(dir_vhost_remove(d, "www.bob.net", err, sizeof(err)), 1);
	CHECK_INT(dir_vhost_remove(d, "www.bob.net", err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_get(d, "www.bob.net", &v), 0);
	/* Its host is free for someone else now. */
	CHECK_INT(dir_vhost_add(d, "www.bob.net", "dave", "", 0, err, sizeof(err)), 0);
	list[0] = '\0';
	CHECK_INT(dir_vhost_foreach(d, "dave", collect_vhosts, list), 0);
	CHECK_STR(list, "dave.com=dave/a/b www.bob.net=dave x.dave.com=dave ");
}

/* A locker's vhosts go with it, and only its own. */
static void
test_vhosts_removed(struct directory *d)
{
	struct vhost_rec	v;
	char			err[256], list[512] = "";

	CHECK_INT(dir_locker_remove(d, "dave", "/archive/dave", err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_get(d, "dave.com", &v), 0);
	CHECK_INT(dir_vhost_get(d, "www.bob.net", &v), 0);
	CHECK_INT(dir_vhost_foreach(d, NULL, collect_vhosts, list), 0);
	CHECK_STR(list, "blog.bob.net=bob/blog ");
	/* A locker signed up again under the old name gets none of them back. */
	CHECK_INT(dir_locker_add(d, "dave", 10000, 10100, NULL, err, sizeof(err)), 0);
	list[0] = '\0';
	CHECK_INT(dir_vhost_foreach(d, "dave", collect_vhosts, list), 0);
	CHECK_STR(list, "");
}

static void
test_persisted(struct directory *d)
{
	struct locker_rec	l, before;
	struct vhost_rec	v;
	char			err[256];
	size_t			n = dir_locker_count(d);

	CHECK_INT(dir_locker_get(d, "dave", &before), 1);
	d = reopen(d);
	CHECK_INT(dir_locker_count(d), n);
	CHECK_INT(dir_locker_get(d, "dave", &l), 1);
	CHECK_INT(l.uid, before.uid);
	CHECK_INT(l.created, before.created);
	CHECK_INT(dir_vhost_get(d, "blog.bob.net", &v), 1);
	CHECK_STR(v.subdir, "blog");
	/* Retired uids stay retired across a restart. */
	CHECK_INT(dir_locker_add(d, "zed", 20000, 20002, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "no uid left") != NULL);
	CHECK_INT(dir_locker_add(d, "zed", 10000, 10100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, before.uid + 1);
	dir_close(d);
}

static void
test_file(void)
{
	struct directory	*d;
	struct stat		 st;
	char			 err[256], path[300];

	CHECK_INT(stat(dbpath, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/new.db", tmpdir);
	umask(0);
	d = dir_open(path, err, sizeof(err));
	umask(022);
	CHECK(d != NULL);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/new.db-wal", tmpdir);
	CHECK_INT(stat(path, &st), 0);		/* WAL mode is on */
	CHECK_INT(st.st_mode & 0777, 0600);
	dir_close(d);

	/* Not a database at all. */
	snprintf(path, sizeof(path), "%s/junk.db", tmpdir);
	{
		FILE *f = fopen(path, "w");

		fputs("this is not an SQLite database, not even close to one.\n", f);
		fclose(f);
	}
	err[0] = '\0';
	CHECK(dir_open(path, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	snprintf(path, sizeof(path), "%s/no/such/dir.db", tmpdir);
	CHECK(dir_open(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file") != NULL);
}

static int
collect_admins(const struct admin_rec *a, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s:%u ", a->locker, a->uid);
	return 0;
}

static int
collect_audit(const struct audit_rec *a, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 2048 - strlen(out), "%u %s %s %s|", a->who, a->action,
	    a->locker, a->detail);
	CHECK(a->at > 0 && a->id > 0);
	return 0;
}

/* A listing asked for from inside a listing's callback of the same kind:
 * refused, and the outer one goes on from where it was. */
struct nested {
	struct directory	*d;
	char			 list[256];
	int			 inner;
};

static int
nested_admins(const struct admin_rec *a, void *arg)
{
	struct nested *n = arg;

	snprintf(n->list + strlen(n->list), sizeof(n->list) - strlen(n->list), "%s:%u ",
	    a->locker, a->uid);
	n->inner = dir_admin_foreach(n->d, a->locker, collect_admins, n->list);
	return 0;
}

/* Admins: added with the locker or later, never fewer than one, gone with it. */
static void
test_admins(void)
{
	struct directory	*d;
	struct locker_rec	 l;
	char			 err[256], path[300], list[256], audit[2048];

	snprintf(path, sizeof(path), "%s/admins.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	dir_set_actor(d, 1001);
	CHECK_INT(dir_locker_add_with_admin(d, "club", 7000, 7100, 1001, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 7000);
	CHECK_INT(dir_admin_is(d, "club", 1001), 1);
	CHECK_INT(dir_admin_is(d, "club", 1002), 0);
	CHECK_INT(dir_admin_is(d, "nothing", 1001), 0);
	/* root signs up lockers without an admin */
	dir_set_actor(d, 0);
	CHECK_INT(dir_locker_add(d, "plain", 7000, 7100, &l, err, sizeof(err)), 0);
	list[0] = '\0';
	CHECK_INT(dir_admin_foreach(d, "plain", collect_admins, list), 0);
	CHECK_STR(list, "");

	dir_set_actor(d, 1001);
	CHECK_INT(dir_admin_add(d, "club", 1002, err, sizeof(err)), 1);
	CHECK_INT(dir_admin_add(d, "club", 1002, err, sizeof(err)), 0);
	CHECK_INT(dir_admin_add(d, "nothing", 1002, err, sizeof(err)), -1);
	CHECK(strstr(err, "no locker") != NULL);
	CHECK_INT(dir_admin_add(d, "plain", 1002, err, sizeof(err)), 1);
	list[0] = '\0';
	CHECK_INT(dir_admin_foreach(d, "club", collect_admins, list), 0);
	CHECK_STR(list, "club:1001 club:1002 ");
	list[0] = '\0';
	CHECK_INT(dir_admin_foreach_uid(d, 1002, collect_admins, list), 0);
	CHECK_STR(list, "club:1002 plain:1002 ");
	{
		struct nested n = { .d = d };

		CHECK_INT(dir_admin_foreach(d, "club", nested_admins, &n), 0);
		CHECK_INT(n.inner, -1);
		CHECK_STR(n.list, "club:1001 club:1002 ");
	}

	/* the last admin stays */
	CHECK_INT(dir_admin_remove(d, "club", 1003, err, sizeof(err)), 0);
	CHECK_INT(dir_admin_remove(d, "club", 1001, err, sizeof(err)), 1);
	CHECK_INT(dir_admin_remove(d, "club", 1002, err, sizeof(err)), -1);
	CHECK(strstr(err, "at least one admin") != NULL);
	CHECK_INT(dir_admin_is(d, "club", 1002), 1);
	CHECK_INT(dir_admin_remove(d, "plain", 1002, err, sizeof(err)), -1);

	/* a locker's admins go with it, and a new locker of that name has none */
	dir_set_actor(d, 0);
	CHECK_INT(dir_locker_remove(d, "club", "/archive/club", err, sizeof(err)), 0);
	CHECK_INT(dir_admin_is(d, "club", 1002), 0);
	CHECK_INT(dir_locker_add(d, "club", 7000, 7100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 7002);
	CHECK_INT(dir_admin_is(d, "club", 1002), 0);

	/* ... and every change is in the audit trail, under its actor */
	dir_set_actor(d, 1002);
	CHECK_INT(dir_audit(d, "su", "plain", "id -un", err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_add(d, "plain.example.org", "plain", "", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_remove(d, "plain.example.org", err, sizeof(err)), 1);
	CHECK_INT(dir_vhost_remove(d, "plain.example.org", err, sizeof(err)), 0);
	audit[0] = '\0';
	CHECK_INT(dir_audit_foreach(d, NULL, collect_audit, audit), 0);
	CHECK_STR(audit, "1001 signup club uid 7000, admin 1001|"
	    "0 signup plain uid 7001|"
	    "1001 admin-add club uid 1002|"
	    "1001 admin-add plain uid 1002|"
	    "1001 admin-remove club uid 1001|"
	    "0 remove club /archive/club|"
	    "0 signup club uid 7002|"
	    "1002 su plain id -un|"
	    "1002 vhost-add plain plain.example.org|"
	    "1002 vhost-remove plain plain.example.org|");
	audit[0] = '\0';
	CHECK_INT(dir_audit_foreach(d, "plain", collect_audit, audit), 0);
	CHECK(strncmp(audit, "0 signup plain", 14) == 0);
	CHECK(strstr(audit, "club") == NULL);
	dir_close(d);

	/* persisted */
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_INT(dir_admin_is(d, "plain", 1002), 1);
	dir_close(d);
}

/* A database of schema 1 (before admins) opens, keeps its lockers, and gains the rest. */
static void
test_migration(void)
{
	static const char *v1 =
	    "CREATE TABLE uids (uid INTEGER PRIMARY KEY CHECK (uid > 0 AND uid < 4294967295),"
	    " name TEXT NOT NULL, allocated INTEGER NOT NULL, released INTEGER, archive TEXT);"
	    "CREATE TRIGGER uids_keep BEFORE DELETE ON uids BEGIN"
	    " SELECT RAISE(ABORT, 'uids are never deleted'); END;"
	    "CREATE TABLE lockers (name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),"
	    " uid INTEGER NOT NULL UNIQUE REFERENCES uids(uid),"
	    " gid INTEGER NOT NULL CHECK (gid = uid), created INTEGER NOT NULL);"
	    "CREATE TABLE vhosts (host TEXT PRIMARY KEY CHECK (length(host) BETWEEN 1 AND 253),"
	    " locker TEXT NOT NULL REFERENCES lockers(name),"
	    " subdir TEXT NOT NULL DEFAULT '' CHECK (length(subdir) <= 255));"
	    "CREATE INDEX vhosts_by_locker ON vhosts(locker, host);"
	    "INSERT INTO uids VALUES (8000, 'old', 1, NULL, NULL);"
	    "INSERT INTO uids VALUES (8001, 'gone', 1, 2, '');"
	    "INSERT INTO lockers VALUES ('old', 8000, 8000, 1);"
	    "INSERT INTO vhosts VALUES ('old.example.org', 'old', 'blog');"
	    "PRAGMA user_version = 1;";
	struct directory	*d;
	struct locker_rec	 l;
	struct vhost_rec	 v;
	sqlite3			*db;
	sqlite3_stmt		*st;
	char			 err[256], path[300], audit[2048] = "", plan[1024];

	snprintf(path, sizeof(path), "%s/v1.db", tmpdir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v1, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	d = dir_open(path, err, sizeof(err));
	if (d == NULL)
		fprintf(stderr, "dir_open v1: %s\n", err);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_locker_get(d, "old", &l), 1);
	CHECK_INT(l.uid, 8000);
	CHECK_INT(dir_vhost_get(d, "old.example.org", &v), 1);
	CHECK_STR(v.subdir, "blog");
	CHECK_INT(dir_admin_is(d, "old", 1001), 0);
	CHECK_INT(dir_admin_add(d, "old", 1001, err, sizeof(err)), 1);
	CHECK_INT(dir_locker_add(d, "new", 8000, 8100, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 8002);		/* 8001 was used before the migration */
	CHECK_INT(dir_audit_foreach(d, NULL, collect_audit, audit), 0);
	CHECK_STR(audit, "0 admin-add old uid 1001|0 signup new uid 8002|");
	dir_close(d);

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 13);
	sqlite3_finalize(st);
	/* 7: a user's signups are counted through the index, not by a walk
	 * over every locker (the query is dir_signups_by()'s). */
	CHECK(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT count(*) FROM lockers l"
	    " WHERE l.name != ?2 AND l.uid IN (SELECT a.uid FROM audit a WHERE a.who = ?1"
	    " AND a.action = 'signup')", -1, &st, NULL) == SQLITE_OK);
	plan[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW)
		snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan), "%s|",
		    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	CHECK(strstr(plan, "audit_by_who") != NULL);
	CHECK(strstr(plan, "SCAN l") == NULL);
	/* Migrated to 3: the limits table is there, with its checks. */
	CHECK(sqlite3_exec(db, "INSERT INTO locker_limits VALUES ('old', 'x', -1)", NULL,
	    NULL, NULL) != SQLITE_OK);
	/* The trail cannot be rewritten, even with SQL. */
	CHECK(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE audit SET who = 5", NULL, NULL, NULL) != SQLITE_OK);
	/* A version from the future is refused, not misread. */
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	d = dir_open(path, err, sizeof(err));
	CHECK(d == NULL);
	CHECK(strstr(err, "99") != NULL);
}

/* 13: cron's lease moves into leases, whoever held it still holding it. */
static void
test_migration_v13(void)
{
	char		 path[300], err[256], holder[64] = "";
	struct directory *d;
	sqlite3		*db;
	sqlite3_stmt	*st;

	snprintf(path, sizeof(path), "%s/v13.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	dir_close(d);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DROP TABLE leases; DROP TABLE nodes; DROP TABLE node_drain;"
	    " DROP TABLE fleet_state; CREATE TABLE cron_lease (id INTEGER PRIMARY KEY CHECK (id = 1),"
	    " holder TEXT NOT NULL, expires INTEGER NOT NULL);"
	    " INSERT INTO cron_lease VALUES (1, 'www2', 4242); PRAGMA user_version = 12",
	    NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	dir_close(d);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT holder, expires FROM leases WHERE what = 'cron'", -1,
	    &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	snprintf(holder, sizeof(holder), "%s", (const char *)sqlite3_column_text(st, 0));
	CHECK_STR(holder, "www2");
	CHECK_INT(sqlite3_column_int64(st, 1), 4242);
	sqlite3_finalize(st);
	CHECK(sqlite3_exec(db, "SELECT 1 FROM cron_lease", NULL, NULL, NULL) != SQLITE_OK);
	sqlite3_close(db);
	unlink(path);
}

static int
collect_limit(const char *key, uint64_t value, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s=%llu|", key,
	    (unsigned long long)value);
	return 0;
}

/* A database of schema 2 gains the limits table and keeps the rest. */
static void
test_migration_v2(void)
{
	struct directory	*d;
	struct locker_rec	 l;
	sqlite3			*db;
	char			 err[256], path[300], lim[256] = "";

	snprintf(path, sizeof(path), "%s/v2.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_locker_add(d, "two", 9000, 9100, &l, err, sizeof(err)), 0);
	dir_close(d);
	/* Back to what schema 2 was. */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, DROP_V9 "DROP TABLE mail_log; DROP TABLE mail_totals;"
	    " DROP INDEX audit_by_who; DROP TABLE locker_limits; DROP INDEX audit_by_uid;"
	    " DROP TABLE vhost_claims; ALTER TABLE vhosts DROP COLUMN https;"
	    " DROP TABLE acme_names;"
	    " ALTER TABLE audit DROP COLUMN uid; PRAGMA user_version = 2", NULL,
	    NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_locker_get(d, "two", &l), 1);
	CHECK_INT(dir_limit_set(d, "two", "memory-limit", 1 << 20, err, sizeof(err)), 0);
	CHECK_INT(dir_limit_foreach(d, "two", collect_limit, lim), 0);
	CHECK_STR(lim, "memory-limit=1048576|");
	dir_close(d);
}

/* A vhost's own choice of HTTPS, kept in the directory and on a claim;
 * a database of schema 4 gains it as the configuration's default. */
/* acme-names-per-week: a name counts once for its locker, then is free. */
static void
test_acme_names(void)
{
	struct directory	*d;
	char			 err[256], path[300];

	snprintf(path, sizeof(path), "%s/acme.db", tmpdir);
	if ((d = dir_open(path, err, sizeof(err))) == NULL) {
		CHECK(d != NULL);
		return;
	}
	CHECK_INT(dir_acme_names_since(d, "web", 0), 0);
	CHECK_INT(dir_acme_name_counted(d, "a.web.net", "web"), 0);
	CHECK_INT(dir_acme_name_count(d, "a.web.net", "web", 1000), 0);
	CHECK_INT(dir_acme_name_count(d, "b.web.net", "web", 2000), 0);
	CHECK_INT(dir_acme_name_counted(d, "a.web.net", "web"), 1);
	CHECK_INT(dir_acme_name_counted(d, "a.web.net", "other"), 0);
	CHECK_INT(dir_acme_names_since(d, "web", 0), 2);
	CHECK_INT(dir_acme_names_since(d, "web", 1500), 1);
	/* The name goes to another locker: it counts for that one afresh. */
	CHECK_INT(dir_acme_name_count(d, "a.web.net", "other", 3000), 0);
	CHECK_INT(dir_acme_names_since(d, "web", 0), 1);
	CHECK_INT(dir_acme_names_since(d, "other", 0), 1);
	dir_close(d);
}

static void
test_vhost_https(void)
{
	struct directory	*d;
	struct locker_rec	 l;
	struct vhost_rec	 v;
	struct vhost_claim	 cl;
	sqlite3			*db;
	char			 err[256], path[300];
	const char		*tok = "0123456789abcdef0123456789abcdef";

	snprintf(path, sizeof(path), "%s/https.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_locker_add(d, "web", 9200, 9300, &l, err, sizeof(err)), 0);
	CHECK_INT(dir_vhost_add(d, "a.web.net", "web", "", ROUTE_HTTPS_ONLY, err, sizeof(err)),
	    0);
	CHECK_INT(dir_vhost_add(d, "b.web.net", "web", "", 3, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_get(d, "a.web.net", &v), 1);
	CHECK_INT(v.https, ROUTE_HTTPS_ONLY);
	CHECK_INT(dir_vhost_set_https(d, "a.web.net", ROUTE_HTTPS_PLAIN_OK, err, sizeof(err)),
	    0);
	CHECK_INT(dir_vhost_get(d, "a.web.net", &v), 1);
	CHECK_INT(v.https, ROUTE_HTTPS_PLAIN_OK);
	CHECK_INT(dir_vhost_set_https(d, "nope.web.net", 1, err, sizeof(err)), -1);
	CHECK_INT(dir_vhost_claim(d, "c.web.org", "web", "", ROUTE_HTTPS_ONLY, tok, &cl, err,
	    sizeof(err)), 0);
	CHECK_INT(cl.https, ROUTE_HTTPS_ONLY);
	dir_close(d);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, DROP_V9 "DROP TABLE mail_log; DROP TABLE mail_totals;"
	    "DROP INDEX audit_by_who; ALTER TABLE vhosts DROP COLUMN https;"
	    "ALTER TABLE vhost_claims DROP COLUMN https; DROP TABLE acme_names;"
	    "PRAGMA user_version = 4", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(db);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_vhost_get(d, "a.web.net", &v), 1);
	CHECK_INT(v.https, ROUTE_HTTPS_DEFAULT);
	CHECK_INT(dir_vhost_claim_get(d, "c.web.org", "web", &cl), 1);
	CHECK_INT(cl.https, ROUTE_HTTPS_DEFAULT);
	dir_close(d);
}

/*
 * Schema 3 kept the audit trail by name: a name signed up again showed the
 * new owner the old one's rows.  Migrated, each row belongs to the uid that
 * held the name when it was written, and nothing is lost.
 */
static void
test_migration_v3_audit(void)
{
	const char *v3_rows =
	    DROP_V9 "DROP TABLE mail_log; DROP TABLE mail_totals;"
	    "DROP INDEX audit_by_who; DROP INDEX audit_by_uid; ALTER TABLE audit DROP COLUMN uid;"
	    "DROP TABLE vhost_claims; ALTER TABLE vhosts DROP COLUMN https;"
	    "DROP TABLE acme_names;"
	    "PRAGMA user_version = 3;"
	    "INSERT INTO uids VALUES (9700, 'club', 100, 200, '/a/club.1.9700');"
	    "INSERT INTO uids VALUES (9701, 'club', 300, NULL, NULL);"
	    "INSERT INTO lockers VALUES ('club', 9701, 9701, 300);"
	    "INSERT INTO audit (at, who, action, locker, detail) VALUES"
	    " (100, 0, 'signup', 'club', 'uid 9700'),"
	    " (150, 1001, 'su', 'club', 'mysql -psecret'),"
	    " (200, 0, 'remove', 'club', '/a/club.1.9700'),"
	    " (300, 1666, 'signup', 'club', 'uid 9701'),"
	    " (310, 1666, 'su', 'club', 'id');";
	struct directory	*d;
	sqlite3			*db;
	char			 err[256], path[300], audit[2048] = "";

	snprintf(path, sizeof(path), "%s/v3.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	dir_close(d);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v3_rows, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	/* The new club sees its own rows only... */
	CHECK_INT(dir_audit_foreach(d, "club", collect_audit, audit), 0);
	CHECK_STR(audit, "1666 signup club uid 9701|1666 su club id|");
	/* ...and root every row, none lost. */
	audit[0] = '\0';
	CHECK_INT(dir_audit_foreach(d, NULL, collect_audit, audit), 0);
	CHECK_STR(audit, "0 signup club uid 9700|1001 su club mysql -psecret|"
	    "0 remove club /a/club.1.9700|1666 signup club uid 9701|1666 su club id|");
	/* A removal and a new signup of the name, after the migration. */
	dir_set_actor(d, 0);
	CHECK_INT(dir_locker_remove(d, "club", "", err, sizeof(err)), 0);
	CHECK_INT(dir_locker_add(d, "club", 9700, 9800, NULL, err, sizeof(err)), 0);
	audit[0] = '\0';
	CHECK_INT(dir_audit_foreach(d, "club", collect_audit, audit), 0);
	CHECK_STR(audit, "0 signup club uid 9702|");
	dir_close(d);
}

/* Overrides: set, replaced, back to default, audited, gone with the locker. */
static void
test_limits(void)
{
	struct directory	*d;
	struct locker_rec	 l;
	char			 err[256], path[300], lim[256] = "", audit[2048] = "";

	snprintf(path, sizeof(path), "%s/limits.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(dir_locker_add(d, "lim", 9500, 9600, &l, err, sizeof(err)), 0);
	CHECK_INT(dir_limit_set(d, "nosuch", "process-limit", 5, err, sizeof(err)), -1);
	CHECK(strstr(err, "nosuch") != NULL);
	CHECK_INT(dir_limit_set(d, "lim", "process-limit", 5, err, sizeof(err)), 0);
	CHECK_INT(dir_limit_set(d, "lim", "process-limit", 7, err, sizeof(err)), 0);
	CHECK_INT(dir_limit_set(d, "lim", "disk-limit", 0, err, sizeof(err)), 0);
	CHECK_INT(dir_limit_foreach(d, "lim", collect_limit, lim), 0);
	CHECK_STR(lim, "disk-limit=0|process-limit=7|");
	CHECK_INT(dir_limit_set(d, "lim", "disk-limit", -1, err, sizeof(err)), 0);
	lim[0] = '\0';
	CHECK_INT(dir_limit_foreach(d, "lim", collect_limit, lim), 0);
	CHECK_STR(lim, "process-limit=7|");
	CHECK_INT(dir_audit_foreach(d, "lim", collect_audit, audit), 0);
	CHECK_STR(audit, "0 signup lim uid 9500|0 limit lim process-limit 5|"
	    "0 limit lim process-limit 7|0 limit lim disk-limit 0|"
	    "0 limit lim disk-limit default|");
	CHECK_INT(dir_locker_remove(d, "lim", "", err, sizeof(err)), 0);
	CHECK_INT(dir_locker_add(d, "lim", 9500, 9600, &l, err, sizeof(err)), 0);
	lim[0] = '\0';
	CHECK_INT(dir_limit_foreach(d, "lim", collect_limit, lim), 0);
	CHECK_STR(lim, "");
	dir_close(d);
}

/* Enough lockers that the allocation and listing are visibly not quadratic. */
static void
test_many(void)
{
	struct directory	*d;
	struct locker_rec	 l;
	char			 err[256], path[300], name[32];
	int			 i, ok = 1;

	snprintf(path, sizeof(path), "%s/many.db", tmpdir);
	d = dir_open(path, err, sizeof(err));
	CHECK(d != NULL);
	/* One transaction each, fsync each: keep the count modest. */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ok &= dir_locker_add(d, name, 50000, 60000, &l, err, sizeof(err)) == 0 &&
		    l.uid == (uint32_t)(50000 + i);
	}
	CHECK(ok);
	for (i = 0; i < 300; i += 3) {
		snprintf(name, sizeof(name), "m%d", i);
		ok &= dir_locker_remove(d, name, "", err, sizeof(err)) == 0;
	}
	CHECK(ok);
	CHECK_INT(dir_locker_count(d), 200);
	CHECK_INT(dir_locker_add(d, "m0", 50000, 60000, &l, err, sizeof(err)), 0);
	CHECK_INT(l.uid, 50300);
	dir_close(d);
}

int
main(void)
{
	struct directory	*d;
	char			 err[256];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tmpdir);

	test_names();
	test_subdirs();
	test_names_route();

	d = dir_open(dbpath, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "dir_open: %s\n", err);
		return 1;
	}
	test_lockers(d);
	d = reopen(d);
	test_uids(d);
	test_exhaustion(d);
	test_vhosts(d);
	test_vhosts_removed(d);
	test_persisted(d);
	test_file();
	test_many();
	test_admins();
	test_migration();
	test_migration_v2();
	test_migration_v3_audit();
	test_migration_v13();
	test_vhost_https();
	test_acme_names();
	test_limits();
	UNIT_DONE();
}
