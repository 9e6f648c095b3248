/*
 * jail.c: what a locker's jail shows of the file system, listed once.
 *
 * Three things follow from this list and must agree: the mounts that
 * build the jail (sandbox.c), the Landlock rules that repeat it as a
 * second wall (landlock.c), and the configuration's check that none of
 * lockerd's own directories holds, or (the lockers root) lies below, a
 * directory the jail shows or builds itself (config.c).  When each kept
 * its own list they drifted apart; a row added here is in all three.
 *
 * Its own file, not sandbox.c: config.c's check runs in the CLI and the
 * unit tests too, which link no sandbox.
 */
#include <string.h>

#include "lockerd.h"

/*
 * The order is the mount order of what is mounted after the skeleton turns
 * read-only: the home, its tmp/, /dev and /dev/shm inside it, /proc.
 */
const struct jail_dir jail_view[] = {
	{ "/",		JAIL_LISTED,	JA_LIST },
	{ "/usr",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/bin",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/sbin",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/lib",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/lib32",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/lib64",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	{ "/libx32",	JAIL_SYSTEM,	JA_READ | JA_EXEC },
	/* Read, not execute: a locker runs nothing from the system's /etc. */
	{ "/etc",	JAIL_ETC,	JA_READ },
	/* Debian's DokuWiki keeps its templates and plugins here (its tree's
	 * lib/tpl and lib/plugins are symlinks to them): lockerd-app copies
	 * them into an install (issue 16).  Not its data/ or acl/. */
	{ "/var/lib/dokuwiki/lib", JAIL_SYSTEM, JA_READ },
	{ NULL,		JAIL_HOME,	JA_READ | JA_EXEC | JA_WRITE | JA_CHANGE |
					JA_TRUNCATE | JA_IOCTL },
	{ "/tmp",	JAIL_TMP,	JA_READ | JA_EXEC | JA_WRITE | JA_CHANGE |
					JA_TRUNCATE | JA_IOCTL },
	/* The usual place of a second /tmp: the same directory. */
	{ "/var/tmp",	JAIL_TMP_LINK,	0 },
	{ "/dev",	JAIL_DEV,	JA_READ | JA_WRITE | JA_TRUNCATE | JA_IOCTL },
	/* Shared memory may be made and removed, never executed. */
	{ "/dev/shm",	JAIL_SHM,	JA_READ | JA_WRITE | JA_CHANGE | JA_TRUNCATE |
					JA_IOCTL },
	/* Writing a file of one's own processes' (oom_score_adj, comm). */
	{ "/proc",	JAIL_PROC,	JA_READ | JA_WRITE },
	/* sql mariadb SOCKET: the socket's directory, where clients look for it. */
	{ "/run/mysqld", JAIL_SQL,	JA_READ },
	{ "/var/run/mysqld", JAIL_SQL,	JA_READ },	/* PHP's default_socket */
	/* mail-relay set: the jails' sendmail socket's directory (mail.h), and
	 * lockerd's own client over the system's sendmail (sandbox.c). */
	{ "/run/lockerd", JAIL_MAIL,	JA_READ },
	{ "/usr/sbin/sendmail", JAIL_SENDMAIL, 0 },
	/* Autoinstallers: the program a locker's installs are made and
	 * upgraded with (a file of /usr: executed through /usr's rule), and
	 * the administrator's releases, read-only (its Landlock rule is made
	 * from the configuration: sandbox.c). */
	{ APP_JAIL_PROG, JAIL_APP,	0 },
	{ NULL,		JAIL_RELEASES,	0 },
	/* Not in the jail at all, and no place for lockerd's directories. */
	{ "/sys",	JAIL_ABSENT,	0 },
};
const size_t jail_view_n = sizeof(jail_view) / sizeof(jail_view[0]);

/* A row's path; the home row's is the locker's home. */
const char *
jail_dir_path(const struct jail_dir *j, const char *home)
{
	return j->kind == JAIL_HOME ? home : j->path;
}

/* Kinds the jail builds itself, or binds from the host: nothing of
 * lockerd's may be put where it would hide them or be hidden by them. */
static int
kind_is_system(enum jail_kind k)
{
	return k == JAIL_SYSTEM || k == JAIL_ETC || k == JAIL_PROC || k == JAIL_DEV ||
	    k == JAIL_ABSENT;
}

/*
 * A directory that holds a system directory, or (below_too: the lockers
 * root) lies below one: a home there would be hidden by /dev's tmpfs, or
 * be made through /lib's symlink into the system's /usr.
 */
int
jail_system_clash(const char *dir, int below_too)
{
	size_t i;

	if (strcmp(dir, "/") == 0)
		return 1;
	for (i = 0; i < jail_view_n; i++) {
		const struct jail_dir *j = &jail_view[i];

		if (!kind_is_system(j->kind))
			continue;
		if (path_is_under(j->path, dir) || (below_too && path_is_under(dir, j->path)))
			return 1;
	}
	return 0;
}

/*
 * app-releases is shown to every locker: it must hold none of lockerd's
 * directories, lie in no locker's home, and not be where the jail shows
 * or builds the host's own (below /usr it is already visible: allowed).
 */
const char *
jail_releases_clash(const struct config *c)
{
	const char	*r = c->app_releases;
	const char	*ours[4] = { c->lockers, c->state, c->logs, c->tls_dir };
	size_t		 i;

	if (r[0] != '/')
		return "must be an absolute path";
	for (i = 0; i < 4; i++)
		if (ours[i][0] != '\0' && path_is_under(ours[i], r))
			return "must not hold lockers, state, logs or tls-dir";
	if (path_is_under(r, c->lockers))
		return "must not be inside lockers";
	if (path_is_under(r, c->logs) || (c->tls_dir[0] != '\0' && path_is_under(r, c->tls_dir)))
		return "must not be inside logs or tls-dir";
	if (jail_tmp_clash(r))
		return "must not be under /tmp";
	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind != JAIL_SYSTEM && jail_view[i].path != NULL &&
		    jail_view[i].kind != JAIL_LISTED && path_is_under(r, jail_view[i].path))
			return "must not be where each locker's jail builds its own directories";
	return NULL;
}

/* Below the jail's own /tmp: every locker gets a different one there. */
int
jail_tmp_clash(const char *dir)
{
	size_t i;

	for (i = 0; i < jail_view_n; i++)
		if (jail_view[i].kind == JAIL_TMP && path_is_under(dir, jail_view[i].path))
			return 1;
	return 0;
}
