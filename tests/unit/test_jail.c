/*
 * test_jail.c: jail_view[], and what is made from it.  The Landlock rules
 * and the configuration's clash check are derived from the one table; this
 * pins each to what the jail's mounts show (the mounts themselves are
 * tested by tests/integration/test_isolation.py and test_hostile.py).
 */
#include <stdio.h>
#include <string.h>

#include "lockerd.h"
#include "unit.h"

/* Landlock's access bits (the kernel's ABI, include/uapi/linux/landlock.h). */
#define EXECUTE		(1ULL << 0)
#define WRITE_FILE	(1ULL << 1)
#define READ_FILE	(1ULL << 2)
#define READ_DIR	(1ULL << 3)
#define MAKE_CHAR	(1ULL << 6)
#define MAKE_BLOCK	(1ULL << 11)
#define TRUNCATE	(1ULL << 14)
#define IOCTL_DEV	(1ULL << 15)
#define ALL		0xffffULL	/* every file-system right of ABI 1..6 */

static const struct jail_dir *
row(const char *path)
{
	size_t i;

	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].path != NULL && strcmp(jail_view[i].path, path) == 0)
			return &jail_view[i];
	return NULL;
}

static const struct jail_dir *
home_row(void)
{
	size_t i;

	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind == JAIL_HOME)
			return &jail_view[i];
	return NULL;
}

/* The rules landlock.c once wrote out by hand, now made from the table. */
static void
test_landlock_rules_are_the_views(void)
{
	static const struct {
		const char	*path;
		uint64_t	 access;
	} want[] = {
		{ "/", READ_DIR },
		{ "/usr", EXECUTE | READ_FILE | READ_DIR },
		{ "/bin", EXECUTE | READ_FILE | READ_DIR },
		{ "/sbin", EXECUTE | READ_FILE | READ_DIR },
		{ "/lib", EXECUTE | READ_FILE | READ_DIR },
		{ "/lib32", EXECUTE | READ_FILE | READ_DIR },
		{ "/lib64", EXECUTE | READ_FILE | READ_DIR },
		{ "/libx32", EXECUTE | READ_FILE | READ_DIR },
		{ "/etc", READ_FILE | READ_DIR },
		/* Debian's DokuWiki templates and plugins, for lockerd-app */
		{ "/var/lib/dokuwiki/lib", READ_FILE | READ_DIR },
		{ "/proc", READ_FILE | READ_DIR | WRITE_FILE },
		{ "/dev", READ_FILE | WRITE_FILE | READ_DIR | TRUNCATE | IOCTL_DEV },
		{ "/dev/shm", ALL & ~(EXECUTE | MAKE_CHAR | MAKE_BLOCK) },
		{ "/tmp", ALL & ~(MAKE_CHAR | MAKE_BLOCK) },
		/* the SQL socket's directory: read (connecting needs no more) */
		{ "/run/mysqld", READ_FILE | READ_DIR },
		{ "/var/run/mysqld", READ_FILE | READ_DIR },
		/* mail-relay's socket's directory: the same */
		{ "/run/lockerd", READ_FILE | READ_DIR },
	};
	const struct jail_dir	*j;
	size_t			 i, rules = 0;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		j = row(want[i].path);
		CHECK(j != NULL);
		if (j == NULL)
			continue;
		if (landlock_access(j->access) != want[i].access)
			fprintf(stderr, "landlock rule for %s: %#llx\n", want[i].path,
			    (unsigned long long)landlock_access(j->access));
		CHECK(landlock_access(j->access) == want[i].access);
	}
	CHECK((j = home_row()) != NULL && j->path == NULL);
	CHECK(j != NULL && landlock_access(j->access) == (ALL & ~(MAKE_CHAR | MAKE_BLOCK)));
	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].access != 0)
			rules++;
	/* No rule that the list above does not know of. */
	CHECK_INT(rules, sizeof(want) / sizeof(want[0]) + 1);
}

/* What is in the jail is reachable by a rule; what is not, by none. */
static void
test_every_row_agrees_with_itself(void)
{
	size_t i, k;

	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir *j = &jail_view[i];

		CHECK((landlock_access(j->access) & (MAKE_CHAR | MAKE_BLOCK)) == 0);
		if (j->kind == JAIL_ABSENT || j->kind == JAIL_TMP_LINK)
			CHECK_INT(j->access, 0);	/* a link: its target's rule */
		else if (j->kind == JAIL_SENDMAIL || j->kind == JAIL_APP) /* in /usr: its rule */
			CHECK(j->access == 0 && path_is_under(j->path, "/usr"));
		else if (j->kind == JAIL_RELEASES)	/* the configuration's path and rule */
			CHECK(j->access == 0 && j->path == NULL);
		else
			CHECK(j->access != 0);
		if (j->kind == JAIL_HOME || j->kind == JAIL_RELEASES)
			continue;
		CHECK(j->path != NULL && j->path[0] == '/');
		for (k = 0; k < i; k++)
			CHECK(jail_view[k].path == NULL || strcmp(jail_view[k].path, j->path) != 0);
		/* Only what a /dev row mounts inside its tmpfs lies below it. */
		for (k = 0; k < jail_view_n; k++)
			if (jail_view[k].kind == JAIL_DEV && j != &jail_view[k] &&
			    path_is_under(j->path, jail_view[k].path))
				CHECK_INT(j->kind, JAIL_SHM);
		/* Executable only where the locker's own files or the system's are. */
		if (j->access & JA_EXEC)
			CHECK(j->kind == JAIL_SYSTEM || j->kind == JAIL_TMP);
	}
}

static int
validate(const char *text)
{
	struct config	c;
	char		err[512];

	if (config_parse(&c, "t.conf", text, strlen(text), err, sizeof(err)) == -1)
		return -2;
	return config_validate(&c, err, sizeof(err));
}

/* The configuration refuses a lockerd directory where the jail's own are. */
static void
test_config_clash_is_the_views(void)
{
	char	text[256];
	size_t	i;

	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir	*j = &jail_view[i];
		int			 system = j->kind == JAIL_SYSTEM || j->kind == JAIL_ETC ||
				    j->kind == JAIL_PROC || j->kind == JAIL_DEV ||
				    j->kind == JAIL_ABSENT;

		if (j->path == NULL || strcmp(j->path, "/") == 0)
			continue;
		/* Holding it, for any of the three; below it, for the lockers root. */
		snprintf(text, sizeof(text), "state %s\n", j->path);
		CHECK_INT(validate(text), system ? -1 : j->kind == JAIL_TMP ? -1 : 0);
		/* /dev/shm: below /dev, which the jail builds itself. */
		snprintf(text, sizeof(text), "lockers %s/l\n", j->path);
		CHECK_INT(validate(text), system || j->kind == JAIL_TMP || j->kind == JAIL_SHM ||
		    j->kind == JAIL_SENDMAIL || j->kind == JAIL_APP ? -1 : 0);	/* below /usr */
		snprintf(text, sizeof(text), "logs %s/l\n", j->path);
		CHECK_INT(validate(text), j->kind == JAIL_TMP ? -1 : 0);
		CHECK_INT(jail_system_clash(j->path, 0), system);
		CHECK_INT(jail_tmp_clash(j->path), j->kind == JAIL_TMP);
	}
	CHECK_INT(validate("state /\n"), -1);
	CHECK_INT(validate("lockers /srv/l\n"), 0);
}

int
main(void)
{
	test_landlock_rules_are_the_views();
	test_every_row_agrees_with_itself();
	test_config_clash_is_the_views();
	UNIT_DONE();
}
