/* test_util.c: close_fds_except(), the first thing every child does. */
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "lockerd.h"

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Descriptors 10..29 open (dup'ed from stdin), whatever was open before. */
static void
open_range(void)
{
	int fd;

	for (fd = 10; fd < 30; fd++)
		CHECK_INT(dup2(0, fd), fd);
}

static void
test_keeps_only_the_named(void)
{
	/* Unsorted, repeated, below the low bound, not open: all fine. */
	int	keep[] = { 25, 12, 25, 2, 29, 100 }, fd;

	open_range();
	CHECK_INT(close_fds_except(11, keep, 6), 0);
	CHECK(is_open(10));		/* below lowfd: untouched */
	for (fd = 11; fd < 30; fd++)
		CHECK_INT(is_open(fd), fd == 12 || fd == 25 || fd == 29);
	CHECK(is_open(0) && is_open(1) && is_open(2));
}

static void
test_none_named_closes_all_from_low(void)
{
	int fd;

	open_range();
	CHECK_INT(close_fds_except(3, NULL, 0), 0);
	for (fd = 3; fd < 30; fd++)
		CHECK(!is_open(fd));
	CHECK(is_open(0) && is_open(1) && is_open(2));
}

static void
test_the_low_bound_itself_may_be_kept(void)
{
	int keep = 10, fd;

	open_range();
	CHECK_INT(close_fds_except(10, &keep, 1), 0);
	CHECK(is_open(10));
	for (fd = 11; fd < 30; fd++)
		CHECK(!is_open(fd));
	CHECK_INT(close_fds_except(3, NULL, -1), -1);
	CHECK_INT(close_fds_except(3, &keep, CLOSE_KEEP_MAX + 1), -1);
	CHECK(is_open(10));		/* a refused list closes nothing */
	close(10);
}

static void
test_path_ext_is_after_the_last_names_last_dot(void)
{
	CHECK(strcmp(path_ext("a/b.php"), "php") == 0);
	CHECK(strcmp(path_ext("a.b/c.tar.gz"), "gz") == 0);
	CHECK(path_ext("a.d/index") == NULL);	/* a dot in a directory only */
	CHECK(path_ext("a/b.") == NULL);
	CHECK(path_ext("noext") == NULL);
}

static void
test_hex_escape_writes_four_bytes(void)
{
	char out[5] = "....";

	CHECK_INT((int)hex_escape(out, 0x1f), 4);
	CHECK(memcmp(out, "\\x1f", 4) == 0);
	CHECK_INT((int)hex_escape(out, 0xff), 4);
	CHECK(memcmp(out, "\\xff", 4) == 0);
	CHECK(out[4] == '\0');		/* no NUL of its own */
}

/* proxy-from's networks: parsed strictly, matched by prefix, printed back. */
static void
test_nets(void)
{
	static const uint8_t	in4[16] = { [10] = 0xff, [11] = 0xff, 10, 1, 2, 3 };
	static const uint8_t	out4[16] = { [10] = 0xff, [11] = 0xff, 10, 2, 0, 1 };
	static const uint8_t	lo6[16] = { [15] = 1 };
	struct conf_net		n;
	char			t[64];

	CHECK_INT(net_parse("10.1.0.0/16", &n), 0);
	CHECK_INT(n.bits, 112);
	CHECK(net_match(&n, in4));
	CHECK(!net_match(&n, out4));
	CHECK(!net_match(&n, lo6));
	net_format(&n, t, sizeof(t));
	CHECK_STR(t, "10.1.0.0/16");
	CHECK_INT(net_parse("10.1.2.3", &n), 0);
	CHECK(net_match(&n, in4));
	CHECK_INT(net_parse("10.1.0.0/9", &n), -1);	/* host bits set */
	CHECK_INT(net_parse("10.1.0.0/33", &n), -1);
	CHECK_INT(net_parse("10.1.0.0/", &n), -1);
	CHECK_INT(net_parse("example.org", &n), -1);
	CHECK_INT(net_parse("::1", &n), 0);
	CHECK(net_match(&n, lo6));
	CHECK(!net_match(&n, in4));
	net_format(&n, t, sizeof(t));
	CHECK_STR(t, "::1/128");
	CHECK_INT(net_parse("::/0", &n), 0);
	CHECK(net_match(&n, in4) && net_match(&n, lo6));
	CHECK_INT(net_parse("10.1.3.0/23", &n), -1);
	CHECK_INT(net_parse("10.1.2.0/24", &n), 0);
	CHECK(net_match(&n, in4));
}

int
main(void)
{
	test_nets();
	test_keeps_only_the_named();
	test_none_named_closes_all_from_low();
	test_the_low_bound_itself_may_be_kept();
	test_path_ext_is_after_the_last_names_last_dot();
	test_hex_escape_writes_four_bytes();
	UNIT_DONE();
}
