/*
 * test_lmtp.c: lmtp.c, the LMTP state machine maild runs for each client:
 * a whole session, dot-stuffing and line ends, pieces of any size, and its
 * bounds (line length, recipients, message size, errors).
 */
#include <string.h>

#include "unit.h"
#include "lmtp.h"

static char	replies[8192];
static char	msg[8192];
static size_t	msglen;

static void
on_reply(void *ctx, const char *line)
{
	(void)ctx;
	strncat(replies, line, sizeof(replies) - strlen(replies) - 2);
	strcat(replies, "\n");
}

static int
on_data(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	if (msglen + len < sizeof(msg)) {
		memcpy(msg + msglen, buf, len);
		msglen += len;
	}
	return 0;
}

static const char *
on_rcpt(void *ctx, const char *addr)
{
	(void)ctx;
	return strncmp(addr, "nobody@", 7) == 0 ? "550 5.1.1 no such locker" : NULL;
}

static void
start(struct lmtp *l, uint64_t max_size, uint32_t max_rcpts)
{
	struct lmtp_ops ops = { NULL, on_reply, on_rcpt, on_data };

	replies[0] = '\0';
	msglen = 0;
	CHECK_INT(lmtp_init(l, &ops, "mx.test", max_size, max_rcpts), 0);
}

/* Feeds s in pieces of n bytes; the state when it stopped. */
static enum lmtp_state
feed(struct lmtp *l, const char *s, size_t n, size_t *left)
{
	size_t		len = strlen(s), off = 0, used, k;
	enum lmtp_state	st = l->state;

	while (off < len) {
		k = len - off < n ? len - off : n;
		st = lmtp_feed(l, s + off, k, &used);
		off += used;
		if (st == LMTP_S_DELIVER || st == LMTP_S_CLOSED)
			break;
	}
	*left = len - off;
	return st;
}

static void
test_session(size_t piece)
{
	struct lmtp	l;
	size_t		left;
	const char	*in = "LHLO client\r\nMAIL FROM:<s@x.test> SIZE=100 BODY=8BITMIME\r\n"
	    "RCPT TO:<alice+foo@lockers.test> ORCPT=rfc822;Alice+2Bbar@lockers.test\r\n"
	    "RCPT TO:<nobody@lockers.test>\r\nRCPT TO:<bob@lockers.test>\r\nDATA\r\n"
	    "Subject: hi\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n";

	start(&l, 1000, 10);
	CHECK_INT(feed(&l, in, piece, &left), LMTP_S_DELIVER);
	CHECK_INT(left, strlen("NOOP\r\n"));
	CHECK(strstr(replies, "220 mx.test") == replies);
	CHECK(strstr(replies, "250-PIPELINING\n") != NULL);
	CHECK(strstr(replies, "250 SIZE 1000\n") != NULL);
	CHECK(strstr(replies, "550 5.1.1 no such locker\n") != NULL);
	CHECK(strstr(replies, "354 ") != NULL);
	CHECK_INT(l.nrcpt, 2);
	CHECK_STR(l.sender, "s@x.test");
	CHECK_STR(l.rcpt[0].addr, "alice+foo@lockers.test");
	CHECK_STR(l.rcpt[0].orcpt, "Alice+bar@lockers.test");
	CHECK_STR(l.rcpt[1].orcpt, "bob@lockers.test");
	msg[msglen] = '\0';
	CHECK_STR(msg, "Subject: hi\n\n.leading dot\n");
	CHECK(lmtp_refusal(&l) == NULL);
	lmtp_delivered(&l);
	replies[0] = '\0';
	CHECK_INT(feed(&l, "NOOP\r\nQUIT\r\n", piece, &left), LMTP_S_CLOSED);
	CHECK_STR(replies, "250 2.0.0 ok\n221 2.0.0 mx.test closing\n");
	lmtp_free(&l);
}

static void
test_order_and_errors(void)
{
	struct lmtp	l;
	size_t		left;
	int		i;

	start(&l, 1000, 2);
	feed(&l, "HELO x\r\nMAIL FROM:<a@b>\r\nLHLO c\r\nRCPT TO:<a@b>\r\nDATA\r\n", 100, &left);
	CHECK(strstr(replies, "500 5.5.1 this is LMTP") != NULL);
	CHECK(strstr(replies, "503 5.5.1 LHLO first") != NULL);
	CHECK(strstr(replies, "503 5.5.1 MAIL first") != NULL);
	replies[0] = '\0';
	feed(&l, "MAIL FROM:<a@b>\r\nDATA\r\nRCPT TO:<no-at>\r\nRCPT TO:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\n", 100, &left);
	CHECK(strstr(replies, "554 5.5.1 no valid recipients") != NULL);
	CHECK(strstr(replies, "501 5.1.3") != NULL);
	CHECK(strstr(replies, "452 4.5.3 too many recipients") != NULL);
	CHECK_INT(l.nrcpt, 2);
	/* RSET forgets the transaction; a SIZE too big is refused at once. */
	replies[0] = '\0';
	feed(&l, "RSET\r\nMAIL FROM:<a@b> SIZE=5000\r\n", 100, &left);
	CHECK(strstr(replies, "250 2.0.0 reset\n552 5.3.4") != NULL);
	CHECK_INT(l.nrcpt, 0);
	/* Quoted local parts, spaces and control bytes are refused. */
	replies[0] = '\0';
	feed(&l, "MAIL FROM:<\"a b\"@c>\r\nMAIL FROM:<a\tb@c>\r\nNO\x01OP\r\n", 100, &left);
	CHECK(strstr(replies, "501 5.1.7") != NULL);
	CHECK(strstr(replies, "500 5.5.2 control characters") != NULL);
	/* Enough bad commands close the connection. */
	for (i = 0; i < LMTP_ERRORS_MAX && l.state != LMTP_S_CLOSED; i++)
		feed(&l, "BOGUS\r\n", 100, &left);
	CHECK_INT(l.state, LMTP_S_CLOSED);
	CHECK(strstr(replies, "421 4.7.0") != NULL);
	lmtp_free(&l);
}

static void
test_bounds(void)
{
	static char	big[6000];
	struct lmtp	l;
	size_t		left;

	/* A command line past LMTP_LINE_MAX: refused whole, then all is well. */
	start(&l, 1500, 5);
	memset(big, 'A', 3000);
	big[3000] = '\0';
	strcat(big, "\r\nNOOP\r\n");
	feed(&l, big, 700, &left);
	CHECK(strstr(replies, "500 5.5.6 line too long\n250 2.0.0 ok\n") != NULL);
	/* A message past max_size is read to its end, then refused for all. */
	feed(&l, "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n", 100, &left);
	memset(big, 'x', 4000);
	big[4000] = '\0';
	strcat(big, "\r\n.\r\n");
	CHECK_INT(feed(&l, big, 333, &left), LMTP_S_DELIVER);
	CHECK(lmtp_refusal(&l) != NULL && strncmp(lmtp_refusal(&l), "552", 3) == 0);
	CHECK(msglen <= 1500);
	lmtp_delivered(&l);
	/* A long message line goes through in pieces, its CRLF whole. */
	msglen = 0;
	feed(&l, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n", 100, &left);
	memset(big, 'y', 1200);
	big[999] = '\r';
	big[1200] = '\0';
	strcat(big, "\r\n.\n");		/* a bare LF ends it too */
	CHECK_INT(feed(&l, big, 1, &left), LMTP_S_DELIVER);
	CHECK_INT(msglen, 1201);
	CHECK(msg[1200] == '\n' && msg[999] == '\r');
	CHECK(lmtp_refusal(&l) == NULL);
	lmtp_free(&l);
}

static void
test_split(void)
{
	char name[64], tag[65], dom[256];

	CHECK_INT(lmtp_split("alice+foo@lockers.test", name, sizeof(name), tag, sizeof(tag), dom,
	    sizeof(dom)), 0);
	CHECK_STR(name, "alice");
	CHECK_STR(tag, "foo");
	CHECK_STR(dom, "lockers.test");
	CHECK_INT(lmtp_split("bob@x", name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), 0);
	CHECK_STR(tag, "");
	CHECK_INT(lmtp_split("a+b+c@x", name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), 0);
	CHECK_STR(name, "a");
	CHECK_STR(tag, "b+c");
	CHECK_INT(lmtp_split("+x@y", name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), -1);
	CHECK_INT(lmtp_split("noat", name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), -1);
	CHECK_INT(lmtp_split("a@", name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), -1);
	CHECK_INT(lmtp_split("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x",
	    name, sizeof(name), tag, sizeof(tag), dom, sizeof(dom)), -1);
}

int
main(void)
{
	test_session(1);
	test_session(7);
	test_session(4096);
	test_order_and_errors();
	test_bounds();
	test_split();
	UNIT_DONE();
}
