/* test_verbs.c: the control verbs' table says of each row what both ends
 * need, so that neither has to guess (a refusal without its words, a
 * usage line that cannot be parsed, two rows of one request). */
#include <string.h>

#include "verbs.h"
#include "unit.h"

static void
test_rows(void)
{
	const struct verb	*v, *w;
	struct verb_args	 a;
	uint32_t		 f;
	int			 n = 0;

	for (v = verbs; v->name != NULL; v++, n++) {
		CHECK(v->args != NULL && v->help != NULL && v->help[0] != '\0');
		CHECK(verb_by_id(v->id) == v);
		for (w = verbs; w != v; w++) {
			CHECK(w->id != v->id);
			CHECK(strcmp(w->name, v->name) != 0);
		}
		/* A refusal names what only root may do. */
		if (v->who == WHO_ROOT || v->root_flags != 0)
			CHECK(v->root_what != NULL && v->root_what[0] != '\0');
		/* ... and `locker --verbs` names the option that is root's. */
		for (f = 1; f != 0; f <<= 1)
			if (v->root_flags & f)
				CHECK(verb_flag_name(f) != NULL);
		/* How the master finds the locker is an admin verb's business. */
		if (v->flags & (VERB_BY_HOST | VERB_ANY_ALL))
			CHECK(v->who == WHO_ADMIN);
		/* Its usage line is what the CLI parses. */
		CHECK_INT(verb_args(v, &a), 0);
		/* Without a NAME, anyone: so NAME must be optional. */
		if (v->flags & VERB_ANY_ALL)
			CHECK(a.n == 1 && a.nopt == 1 && a.word[0] == VW_NAME);
		/* An admin verb names its locker: first argument, or a HOST's;
		 * what follows it may be optional (sql dump NAME [DB]). */
		if (v->who == WHO_ADMIN && !(v->flags & (VERB_BY_HOST | VERB_ANY_ALL)))
			CHECK(a.n >= 1 && a.n - a.nopt >= 1 && a.word[0] == VW_NAME);
		if (v->flags & VERB_BY_HOST)
			CHECK(a.n == 1 && a.word[0] == VW_HOST);
		/* A command comes after a "--" only, and only su and run have one;
		 * they, and the autoinstallers (lockerd-app prints to the user),
		 * take the CLI's stdio. */
		if (a.dash != VERB_DASH_NO)
			CHECK(v->flags & VERB_STDIO);
		if ((v->flags & VERB_STDIO) && a.dash == VERB_DASH_NO)
			CHECK(v->id >= CTL_APP_INSTALL && v->id <= CTL_APP_ROLLBACK);
		CHECK(strcmp(verb_who_name(v->who), "?") != 0);
	}
	CHECK(n >= 18);
	CHECK(verb_by_id(0) == NULL);
	CHECK(verb_by_id(CTL_RELOAD) == NULL);	/* in the enum, never a verb */
	CHECK(verb_by_id(0xffffffffu) == NULL);
}

/* The rights as they were when they were checked in five places: a change
 * here is a change of policy, and must show in this test's diff. */
static void
test_policy(void)
{
	static const struct {
		enum ctl_verb	id;
		enum verb_who	who;
	} want[] = {
		{ CTL_SIGNUP, WHO_LOGIN }, { CTL_LIST, WHO_ANYONE }, { CTL_INFO, WHO_ANYONE },
		{ CTL_REMOVE, WHO_ROOT }, { CTL_VHOST_ADD, WHO_ADMIN },
		{ CTL_VHOST_VERIFY, WHO_ADMIN }, { CTL_VHOST_REMOVE, WHO_ADMIN },
		{ CTL_VHOST_LIST, WHO_ANYONE }, { CTL_ADMIN_ADD, WHO_ADMIN },
		{ CTL_ADMIN_REMOVE, WHO_ADMIN }, { CTL_ADMIN_LIST, WHO_ADMIN },
		{ CTL_SU, WHO_ADMIN }, { CTL_LOGS, WHO_ADMIN }, { CTL_STATUS, WHO_ADMIN },
		{ CTL_AUDIT, WHO_ADMIN }, { CTL_RUN, WHO_ROOT }, { CTL_QUOTA, WHO_ROOT },
		{ CTL_LIMIT, WHO_ROOT }, { CTL_APP_INSTALL, WHO_ADMIN },
		{ CTL_APP_INSTALLS, WHO_ADMIN }, { CTL_APP_UPGRADE, WHO_ADMIN },
		{ CTL_APP_ROLLBACK, WHO_ADMIN },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(verb_by_id(want[i].id) != NULL);
		if (verb_by_id(want[i].id) != NULL)
			CHECK_INT(verb_by_id(want[i].id)->who, want[i].who);
	}
	CHECK_INT(verb_by_id(CTL_VHOST_ADD)->root_flags, CTL_F_FORCE);
	CHECK(verb_by_id(CTL_VHOST_REMOVE)->flags & VERB_BY_HOST);
	CHECK(verb_by_id(CTL_SU)->flags & VERB_STDIO);
	CHECK(verb_by_id(CTL_RUN)->flags & VERB_STDIO);
	CHECK_INT(verb_by_id(CTL_APP_UPGRADE)->root_flags, CTL_F_ALL);
}

/* The usage lines as the CLI reads them. */
static void
test_args(void)
{
	struct verb_args	a;
	struct verb		v = { .name = "x" };

	CHECK_INT(verb_args(verb_by_id(CTL_RUN), &a), 0);
	CHECK(a.n == 1 && a.nopt == 0 && a.word[0] == VW_NAME);
	CHECK(a.dash == VERB_DASH_MUST && a.cmd_min == 1);
	CHECK_INT(verb_args(verb_by_id(CTL_SU), &a), 0);
	CHECK(a.n == 1 && a.dash == VERB_DASH_MAY && a.cmd_min == 0);
	CHECK_INT(verb_args(verb_by_id(CTL_LIMIT), &a), 0);
	CHECK(a.n == 3 && a.word[0] == VW_NAME && a.word[1] == VW_ARGV &&
	    a.word[2] == VW_ARGV && a.dash == VERB_DASH_NO);
	CHECK_INT(verb_args(verb_by_id(CTL_SIGNUP), &a), 0);	/* [--group NAME]: an option */
	CHECK(a.n == 1 && a.nopt == 1 && a.word[0] == VW_NAME);
	CHECK_INT(verb_args(verb_by_id(CTL_VHOST_ADD), &a), 0);
	CHECK(a.n == 2 && a.nopt == 0 && a.word[1] == VW_HOST);
	CHECK_INT(verb_args(verb_by_id(CTL_ADMIN_ADD), &a), 0);
	CHECK(a.n == 2 && a.word[1] == VW_USER);
	CHECK_INT(verb_args(verb_by_id(CTL_LIST), &a), 0);
	CHECK(a.n == 0 && a.dash == VERB_DASH_NO);
	/* Lines no CLI could parse. */
	v.args = "[NAME] HOST";		/* a required word after an optional one */
	CHECK_INT(verb_args(&v, &a), -1);
	v.args = "NAME [HOST";
	CHECK_INT(verb_args(&v, &a), -1);
	v.args = "NAME] HOST";
	CHECK_INT(verb_args(&v, &a), -1);
	v.args = "A B C D E";
	CHECK_INT(verb_args(&v, &a), -1);
}

int
main(void)
{
	test_rows();
	test_args();
	test_policy();
	UNIT_DONE();
}
