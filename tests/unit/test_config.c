/* test_config.c: the configuration parser, from text. */
#include <string.h>

#include "lockerd.h"
#include "unit.h"

static int
parse(struct config *c, const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(c, "t.conf", text, strlen(text), err, errlen);
}

static void
test_defaults(void)
{
	struct config	c;
	char		err[512];

	CHECK_INT(parse(&c, "", err, sizeof(err)), 0);
	CHECK_INT(c.nlisten, 1);
	CHECK_STR(c.listen[0].port, "80");
	CHECK_STR(c.lockers, "/srv/lockers");
	CHECK_INT(c.uid_low, 100000);
	CHECK_INT(c.front_processes, 0);
	CHECK(config_ext_in(c.static_ext, c.nstatic_ext, "html"));
	CHECK(config_ext_in(c.static_ext, c.nstatic_ext, "CSS"));
	CHECK(!config_ext_in(c.static_ext, c.nstatic_ext, "php"));
	CHECK(!config_ext_in(c.static_ext, c.nstatic_ext, "db"));
	CHECK_STR(c.index[0], "index.html");
	CHECK_INT(c.max_header_size, 16384);
}

static void
test_values(void)
{
	struct config	c;
	char		err[512];

	CHECK_INT(parse(&c,
	    "# comment\n"
	    "listen 127.0.0.1:8080 [::1]:8081   # two at once\n"
	    "listen *:9000\n"
	    "domain Scripts.Example.ORG\n"
	    "hostname a.example b.example\n"
	    "lockers /srv/l/\n"
	    "uid-range 2000-2999\n"
	    "front-processes 3\n"
	    "static-extensions .HTML css\n"
	    "static-extensions txt\n"
	    "index home.html\n"
	    "worker-idle-timeout 5m\n"
	    "max-header-size 32k\n"
	    "max-body-size 1g\n"
	    "keepalive-timeout 0\n", err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(c.nlisten, 3);
	CHECK_STR(c.listen[0].host, "127.0.0.1");
	CHECK_STR(c.listen[1].host, "::1");
	CHECK_INT(c.listen[1].family, 10);
	CHECK_STR(c.listen[2].host, "0.0.0.0");
	CHECK_STR(c.listen[2].port, "9000");
	CHECK_STR(c.domain, "scripts.example.org");
	CHECK_INT(c.nhostnames, 2);
	CHECK_STR(c.lockers, "/srv/l");
	CHECK_INT(c.uid_low, 2000);
	CHECK_INT(c.uid_high, 2999);
	CHECK_INT(c.front_processes, 3);
	CHECK_INT(c.nstatic_ext, 3);
	CHECK_STR(c.static_ext[0], "html");
	CHECK_INT(c.nindex, 1);
	CHECK_INT(c.worker_idle_timeout, 300);
	CHECK_INT(c.max_header_size, 32768);
	CHECK_INT(c.max_body_size, 1024ULL * 1024 * 1024);
	CHECK_INT(c.keepalive_timeout, 0);
}

/* Every error names the file and the line. */
static void
expect_error(const char *text, const char *want)
{
	struct config	c;
	char		err[512];

	CHECK_INT(parse(&c, text, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, want);
		unit_failures++;
	}
}

static void
test_errors(void)
{
	expect_error("bogus 1\n", "t.conf:1: unknown directive \"bogus\"");
	expect_error("\n\nlisten nowhere\n", "t.conf:3: listen");
	expect_error("listen 1.2.3.4:0\n", "t.conf:1: listen: bad port");
	expect_error("listen 1.2.3.4:70000\n", "t.conf:1:");
	expect_error("listen example.org:80\n", "not a numeric");
	expect_error("listen [::1:80\n", "t.conf:1:");
	expect_error("lockers relative/path\n", "not an absolute path");
	expect_error("lockers /a\nlockers /b\n", "t.conf:2: lockers: given twice");
	expect_error("lockers /a /b\n", "expected one argument");
	expect_error("uid-range 10-20\n", "uid-range");
	expect_error("uid-range 3000-2000\n", "uid-range");
	expect_error("uid-range 2000\n", "LOW-HIGH");
	expect_error("front-processes 0\n", "front-processes");
	expect_error("front-processes many\n", "front-processes");
	expect_error("max-headers 100000\n", "max-headers");
	expect_error("header-timeout 10x\n", "header-timeout");
	expect_error("header-timeout -1\n", "header-timeout");
	expect_error("max-header-size 99999999999999999999999\n", "max-header-size");
	expect_error("domain bad_host!\n", "not a valid host name");
	expect_error("static-extensions a/b\n", "bad extension");
	expect_error("index ../x\n", "bad file name");
	expect_error("index .hidden\n", "bad file name");
	expect_error("domain a\x01b\n", "control character");
}

static void
test_validate(void)
{
	struct config	c;
	char		err[512];

	parse(&c, "lockers /srv/x\nstate /srv/x/state\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "must not be inside") != NULL);
	parse(&c, "lockers /tmp/l\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "/tmp") != NULL);
	parse(&c, "logs /etc\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	parse(&c, "max-request-line 64k\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	parse(&c, "lockers /srv/a\nstate /srv/b\nlogs /srv/c\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), 0);
	/* The jail makes /lib, /dev, ... itself: no home can be below them. */
	parse(&c, "lockers /lib/lockers\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "system directory") != NULL);
	parse(&c, "lockers /dev/l\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	parse(&c, "lockers /var/tmp/l\nstate /usr/local/var/lockerd\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), 0);
	parse(&c, "disk-limit 1g\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "disk-quota") != NULL);
}

/* A locker's own limits: parsed with the directive's own units and bounds. */
static void
test_limits(void)
{
	struct config	c;
	char		err[256];
	uint64_t	v;

	parse(&c, "disk-quota btrfs\ndisk-limit 2g\n", err, sizeof(err));
	CHECK_INT(c.disk_quota, DISK_QUOTA_BTRFS);
	CHECK(c.disk_limit == (uint64_t)2 << 30);
	parse(&c, "disk-quota image\n", err, sizeof(err));
	CHECK_INT(c.disk_quota, DISK_QUOTA_IMAGE);
	CHECK_INT(config_parse(&c, "t", "disk-quota ext4\n", 16, err, sizeof(err)), -1);
	CHECK(strstr(err, "t:1: disk-quota") != NULL);
	CHECK_INT(config_limit_parse("memory-limit", "64m", &v, err, sizeof(err)), 0);
	CHECK(v == 64 << 20);
	CHECK_INT(config_limit_parse("disk-limit", "none", &v, err, sizeof(err)), 0);
	CHECK(v == 0);
	CHECK_INT(config_limit_parse("process-limit", "20", &v, err, sizeof(err)), 0);
	CHECK(v == 20);
	CHECK_INT(config_limit_parse("script-timeout", "2m", &v, err, sizeof(err)), 0);
	CHECK(v == 120);
	CHECK_INT(config_limit_parse("log-rate", "16k", &v, err, sizeof(err)), 0);
	CHECK(v == 16 << 10);
	CHECK_INT(config_limit_parse("log-size", "none", &v, err, sizeof(err)), 0);
	CHECK(v == 0);
	parse(&c, "log-rate 1m\nlog-size 100m\n", err, sizeof(err));
	CHECK(c.log_rate == 1 << 20 && c.log_size == (uint64_t)100 << 20);
	CHECK_INT(config_parse(&c, "t", "log-size lots\n", 14, err, sizeof(err)), -1);
	CHECK(strstr(err, "t:1: log-size") != NULL);
	CHECK_INT(config_limit_parse("cpu-shares", "1", &v, err, sizeof(err)), -1);
	CHECK(strncmp(err, "cpu-shares: expected", 20) == 0);
	CHECK_INT(config_limit_parse("lockers", "/x", &v, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a limit") != NULL);
	CHECK_INT(config_limit_parse("memory-limit", "lots", &v, err, sizeof(err)), -1);
	config_defaults(&c);
	CHECK_INT(config_limit_set(&c, "process-limit", 9), 0);
	CHECK_INT(c.process_limit, 9);
	CHECK_INT(config_limit_get(&c, "max-scripts", &v), 0);
	CHECK(v == c.max_scripts);
	CHECK_INT(config_limit_get(&c, "domain", &v), -1);
}

int
main(void)
{
	log_init("test", 0);
	test_defaults();
	test_values();
	test_errors();
	test_validate();
	test_limits();
	UNIT_DONE();
}
