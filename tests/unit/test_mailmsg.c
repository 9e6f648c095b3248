/*
 * test_mailmsg.c: mailmsg.c, a locker's outgoing message made ready for
 * the relay, and smtp.c's reply lines.
 */
#include <string.h>

#include "unit.h"
#include "mailmsg.h"
#include "smtp.h"

static struct mail_out o;
static char err[256];

static int
build(const char *msg, unsigned flags, const char *from, const char *r0)
{
	const char *rcpts[1] = { r0 };
	struct mail_in in = {
		.msg = msg, .len = strlen(msg), .flags = flags, .from = from,
		.rcpts = rcpts, .nrcpts = r0 != NULL, .locker = "alice", .domain = "ex.org",
	};

	mailmsg_free(&o);
	return mailmsg_build(&in, &o, err, sizeof(err));
}

static int
has(const char *s)
{
	return o.data != NULL && memmem(o.data, o.len, s, strlen(s)) != NULL;
}

static void
test_plain(void)
{
	CHECK_INT(build("Subject: hi\nTo: x@y.org\n\nbody\n", 0, NULL, "bob@else.org"), 0);
	CHECK_STR(o.envfrom, "alice@ex.org");
	CHECK_INT(o.nrcpt, 1);
	CHECK_STR(o.rcpt[0], "bob@else.org");
	CHECK(strncmp(o.data, "X-Lockerd-Locker: alice\r\n", 25) == 0);
	CHECK(has("From: alice@ex.org\r\n"));
	CHECK(has("Subject: hi\r\nTo: x@y.org\r\n"));
	CHECK(has("\r\n\r\nbody\r\n"));
}

static void
test_t_and_bcc(void)
{
	CHECK_INT(build("To: A <a@x.org>, \"b, c\" <b@x.org>\nCc: c@x.org (C)\n"
	    "Bcc: hidden@x.org\n  , h2@x.org\n\nhi\n", MAIL_F_T, NULL, NULL), 0);
	CHECK_INT(o.nrcpt, 5);
	CHECK_STR(o.rcpt[0], "a@x.org");
	CHECK_STR(o.rcpt[1], "b@x.org");
	CHECK_STR(o.rcpt[2], "c@x.org");
	CHECK_STR(o.rcpt[3], "hidden@x.org");
	CHECK_STR(o.rcpt[4], "h2@x.org");
	CHECK(!has("Bcc"));
	CHECK(!has("hidden"));
	CHECK(!has("h2@"));
	/* A group, and a duplicate taken once. */
	CHECK_INT(build("To: friends: a@x.org, A@X.org;\n\n", MAIL_F_T, NULL, "a@x.org"), 0);
	CHECK_INT(o.nrcpt, 1);
}

static void
test_naming(void)
{
	/* Our header is ours: the locker's own is dropped, whatever its case. */
	CHECK_INT(build("x-lockerd-locker: bob\nX-Lockerd-Locker:\n bob\nReturn-Path: <bob@ex.org>"
	    "\n\nhi\n", 0, NULL, "z@q.org"), 0);
	CHECK(!has("bob"));
	/* From or Sender of another locker's: refused. */
	CHECK_INT(build("From: Bob <bob@ex.org>\n\n", 0, NULL, "z@q.org"), MAIL_EX_DATAERR);
	CHECK(strstr(err, "bob@ex.org") != NULL);
	CHECK_INT(build("Sender: bob+x@EX.ORG\n\n", 0, NULL, "z@q.org"), MAIL_EX_DATAERR);
	CHECK_INT(build("From: alice+news@ex.org\n\n", 0, NULL, "z@q.org"), 0);
	CHECK(!has("From: alice@ex.org"));
	CHECK_INT(build("From: someone@elsewhere.org\n\n", 0, NULL, "z@q.org"), 0);
	/* -f: the locker's own, or replaced. */
	CHECK_INT(build("\n", 0, "alice+bounce@ex.org", "z@q.org"), 0);
	CHECK_STR(o.envfrom, "alice+bounce@ex.org");
	CHECK_INT(build("\n", 0, "bob@ex.org", "z@q.org"), 0);
	CHECK_STR(o.envfrom, "alice@ex.org");
	CHECK_INT(build("\n", 0, "alicex@ex.org", "z@q.org"), 0);
	CHECK_STR(o.envfrom, "alice@ex.org");
}

static void
test_refused(void)
{
	char big[2000];

	CHECK_INT(build("Subject: x\n\nhi\n", 0, NULL, NULL), MAIL_EX_USAGE);
	CHECK(strstr(err, "no recipient") != NULL);
	CHECK_INT(build("To: nobody\n\n", MAIL_F_T, NULL, NULL), MAIL_EX_USAGE);
	CHECK_INT(build("\n", 0, NULL, "a b@x.org"), MAIL_EX_USAGE);
	CHECK_INT(build("\n", 0, NULL, "a@x.org\r\nRCPT TO:<c@d.org>"), MAIL_EX_USAGE);
	CHECK_INT(build("\n", 0, NULL, "<a@x.org>"), MAIL_EX_USAGE);
	memset(big, 'a', sizeof(big));
	memcpy(big, "Subject: ", 9);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(build(big, 0, NULL, "a@x.org"), MAIL_EX_DATAERR);
	/* A CR alone would end the line on the way out: a header of its own
	 * (the fuzzer's find). */
	CHECK_INT(build("Subject: x\rX-Lockerd-Locker: bob\n\n", 0, NULL, "a@x.org"),
	    MAIL_EX_DATAERR);
	CHECK_INT(build("Subject: x\n y\rFrom: bob@ex.org\n\n", 0, NULL, "a@x.org"),
	    MAIL_EX_DATAERR);
	{
		const char *r[1] = { "a@x.org" };
		struct mail_in in = { .msg = "a\0b", .len = 3, .rcpts = r, .nrcpts = 1,
		    .locker = "alice", .domain = "ex.org" };

		mailmsg_free(&o);
		CHECK_INT(mailmsg_build(&in, &o, err, sizeof(err)), MAIL_EX_DATAERR);
	}
}

static void
test_body(void)
{
	/* No header at all: the first line is body, after ours. */
	CHECK_INT(build("just text\n.\nmore", 0, NULL, "a@x.org"), 0);
	CHECK(has("From: alice@ex.org\r\n\r\njust text\r\n.\r\nmore\r\n"));
	CHECK_INT(build("S: x\r\n\r\nline\rcr\n", 0, NULL, "a@x.org"), 0);
	CHECK(has("\r\n\r\nline\r\ncr\r\n"));
}

static void
test_reply_lines(void)
{
	int code, more;

	CHECK_INT(smtp_reply_line("250-PIPELINING", 14, &code, &more), 0);
	CHECK_INT(code, 250);
	CHECK_INT(more, 1);
	CHECK_INT(smtp_reply_line("550 5.1.1 no", 12, &code, &more), 0);
	CHECK_INT(code, 550);
	CHECK_INT(more, 0);
	CHECK_INT(smtp_reply_line("220", 3, &code, &more), 0);
	CHECK_INT(smtp_reply_line("hello", 5, &code, &more), -1);
	CHECK_INT(smtp_reply_line("25", 2, &code, &more), -1);
	CHECK_INT(smtp_reply_line("250x", 4, &code, &more), -1);
	CHECK_INT(smtp_reply_line("650 x", 5, &code, &more), -1);
}

int
main(void)
{
	test_plain();
	test_t_and_bcc();
	test_naming();
	test_refused();
	test_body();
	test_reply_lines();
	mailmsg_free(&o);
	UNIT_DONE();
}
