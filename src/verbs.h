/*
 * verbs.h: the control verbs, one table shared by `locker` and the master
 * (verbs.c).  A row says what a verb is called, the arguments and options
 * it takes, its usage line, and who may run it.  The CLI parses and prints
 * its usage from the rows; the master checks "who" from them, once, before
 * the verb's handler runs (control.c's verb_allowed()).  A new verb is one
 * row here and one handler in a ctl_*.c, named in control.c's handlers[].
 *
 * Nothing here touches the directory: the CLI links this file and not the
 * directory, so a rule that needs the directory (is the caller an admin of
 * NAME?) is named here and applied by the master.
 */
#ifndef LOCKERD_VERBS_H
#define LOCKERD_VERBS_H

#include <stdint.h>

#include "lockerd.h"

/* Who may run a verb.  root may run every one. */
enum verb_who {
	WHO_ANYONE,	/* any local user */
	WHO_LOGIN,	/* a login user: not a system account (a daemon, nobody) */
	WHO_ADMIN,	/* an admin of the locker it names (VERB_BY_HOST: of the host's) */
	WHO_ROOT,
};

/* What else the master needs to know of a verb. */
#define VERB_CHANGE	0x1	/* costs a token of change-rate (userlimit.c) */
#define VERB_STDIO	0x2	/* the CLI sends its stdin, stdout, stderr after it (a
				   command's, or lockerd-app's, which prints to the user) */
#define VERB_BY_HOST	0x4	/* WHO_ADMIN: the locker is the one req.host belongs to */
#define VERB_ANY_ALL	0x8	/* WHO_ADMIN: without a NAME, anyone (each sees their own) */

/* The CLI's options; a verb lists those it takes. */
#define VOPT_PURGE	0x01	/* --purge */
#define VOPT_FORCE	0x02	/* --force */
#define VOPT_PATH	0x04	/* --path SUBDIR */
#define VOPT_GROUP	0x08	/* --group NAME */
#define VOPT_ERROR	0x10	/* --error */
#define VOPT_FOLLOW	0x20	/* --follow, -f */
#define VOPT_HTTPS	0x40	/* --https-only, --no-https-only */
#define VOPT_APPINFO	0x80	/* --title T, --admin USER, --email E, --db D (cli_app.c) */
#define VOPT_TO		0x100	/* --to VERSION */
#define VOPT_DRY_RUN	0x200	/* --dry-run */
#define VOPT_RESOLVE	0x400	/* --resolve, --abort */
#define VOPT_OPT_OUT	0x800	/* --opt-out, --opt-in */
#define VOPT_ALL	0x1000	/* --all APP */
#define VOPT_SYNC	0x2000	/* --sync */

struct verb {
	const char	*name;		/* "vhost add" */
	enum ctl_verb	 id;
	enum verb_who	 who;
	unsigned	 flags;		/* VERB_* */
	unsigned	 opts;		/* VOPT_* */
	uint32_t	 root_flags;	/* CTL_F_* that only root may send */
	const char	*root_what;	/* "only root may ...": the verb, or its root_flags */
	const char	*args;		/* its usage line, and what verb_args() reads */
	const char	*help;
};

/*
 * A verb's positional arguments, read from its usage line so that the
 * line the CLI prints is the one it parses: the words before any "--"
 * (NAME, HOST and USER go into the request's fields of those names, any
 * other word, like SIZE, into its argv), the last nopt of them optional
 * ("[NAME]"); then whether a "--" and a command follow ("-- COMMAND", or
 * "[-- COMMAND ...]"), and how many words the command needs at least.
 * "[--path SUBDIR]" is an option, the CLI's business.
 */
enum verb_word { VW_NAME, VW_HOST, VW_USER, VW_ARGV };
#define VERB_WORDS_MAX	4
#define VERB_DASH_NO	0
#define VERB_DASH_MAY	1
#define VERB_DASH_MUST	2

struct verb_args {
	int		 n, nopt;
	enum verb_word	 word[VERB_WORDS_MAX];
	int		 dash;		/* VERB_DASH_* */
	int		 cmd_min;
};

extern const struct verb verbs[];	/* ends with a row whose name is NULL */

/* 0, or -1 if v's usage line cannot be read so (test_verbs.c reads every one). */
int	verb_args(const struct verb *v, struct verb_args *a);

/* The row of a request's verb, or NULL for one no table row has. */
const struct verb *verb_by_id(uint32_t id);

/* The option that sends a CTL_F_* flag ("--force"), or NULL for one no
 * option sends (CTL_F_TTY). */
const char *verb_flag_name(uint32_t flag);

/* "anyone", "login", "admin", "root": for `locker --verbs` and the logs. */
const char *verb_who_name(enum verb_who who);

#endif
