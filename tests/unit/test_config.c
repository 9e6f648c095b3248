/* test_config.c: the configuration parser, from text. */
#include <stdlib.h>
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
	CHECK(config_static_ext(&c, "html"));
	CHECK(config_static_ext(&c, "CSS"));
	CHECK(!config_static_ext(&c, "php"));
	CHECK(!config_static_ext(&c, "db"));
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

/* directory sqlite | postgres FILE, and its time-out (issue 18) */
static void
test_directory(void)
{
	struct config	c;
	char		err[512];

	CHECK_INT(parse(&c, "", err, sizeof(err)), 0);
	CHECK_INT(c.directory, DIRECTORY_SQLITE);
	CHECK_INT(c.directory_timeout, 2);
	CHECK_STR(c.dir_user, "lockerd-dir");
	CHECK_INT(parse(&c, "directory postgres /etc/lockerd/fleet.conninfo\n"
	    "directory-timeout 5s\ndir-user pgsync\n", err, sizeof(err)), 0);
	CHECK_INT(c.directory, DIRECTORY_POSTGRES);
	CHECK_STR(c.directory_conninfo, "/etc/lockerd/fleet.conninfo");
	CHECK_INT(c.directory_timeout, 5);
	CHECK_STR(c.dir_user, "pgsync");
	CHECK(strstr(config_text(&c), "\ndirectory postgres /etc/lockerd/fleet.conninfo\n") != NULL);
	expect_error("directory postgres\n", "t.conf:1: directory: expected sqlite, or postgres");
	expect_error("directory mysql /x\n", "t.conf:1: directory: expected sqlite, or postgres");
	expect_error("directory postgres fleet.conninfo\n", "t.conf:1: directory: \"fleet.conninfo\" "
	    "is not an absolute path");
	expect_error("\ndirectory sqlite\ndirectory sqlite\n", "t.conf:3: directory: given twice");
	expect_error("directory-timeout 0\n", "t.conf:1: directory-timeout");
	expect_error("directory-timeout 2m\n", "t.conf:1: directory-timeout");
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
	expect_error("listen 1.2.3.4:443 verify-client\n", "t.conf:1: listen: verify-client "
	    "needs tls");
	expect_error("listen tls\n", "t.conf:1: listen: expected ADDR:PORT");
	expect_error("\ncertificate a.example /a.crt\n", "t.conf:2: certificate: expected HOST");
	expect_error("certificate a..example /a.crt /a.key\n", "not a host name");
	expect_error("certificate *.*.example /a.crt /a.key\n", "not a host name");
	expect_error("certificate a.example a.crt /a.key\n", "not an absolute path");
	expect_error("tls-protocols TLSv1.1 TLSv1.2\n", "t.conf:1: tls-protocols: \"TLSv1.1\"");
	expect_error("tls-protocols\n", "tls-protocols: expected");
	expect_error("tls-max-handshakes 0\n", "tls-max-handshakes");
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
	/* A fleet's lockers root is shared: no per-machine image (issue 18). */
	parse(&c, "directory postgres /etc/lockerd/fleet.conninfo\ndisk-quota image\n", err,
	    sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_STR(err, "t.conf:2: disk-quota image keeps each locker's files in an image on this "
	    "machine's own disk; in a fleet (directory postgres) the lockers root is shared "
	    "storage: use disk-quota btrfs on the file server's side, or none");
	parse(&c, "directory postgres /etc/lockerd/fleet.conninfo\ndisk-quota btrfs\n", err,
	    sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), 0);
	parse(&c, "disk-quota image\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), 0);
	/* tls-dir: in state is its default; never where a locker or logd writes. */
	parse(&c, "state /srv/s\ntls-dir /srv/s/tls\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), 0);
	parse(&c, "lockers /srv/l\ntls-dir /srv/l/alice/tls\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "tls-dir (/srv/l/alice/tls) must not be inside lockers") != NULL);
	parse(&c, "logs /srv/g\ntls-dir /srv/g/k\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "inside logs") != NULL);
	parse(&c, "state /srv/s\ntls-dir /srv\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	parse(&c, "tls-dir /tmp/keys\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	parse(&c, "tls-dir /etc/ssl/lockerd\n", err, sizeof(err));
	CHECK_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "jail") != NULL);
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
	CHECK_INT(config_limit_parse("cpu-shares", "default", &v, err, sizeof(err)), 0);
	CHECK(v == LIMIT_DEFAULT);
	CHECK_INT(config_limit_parse("lockers", "default", &v, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a limit") != NULL);
	CHECK_INT(config_limit_parse("memory-limit", "lots", &v, err, sizeof(err)), -1);
	config_defaults(&c);
	config_limit_set(&c, LIMIT_PROCESS, 9);
	CHECK_INT(c.process_limit, 9);
	CHECK(config_limit_get(&c, LIMIT_MAX_SCRIPTS) == c.max_scripts);
	CHECK_INT(config_limit_key("domain"), -1);
	/* A value beyond the directive's bound is held to it. */
	config_limit_set(&c, LIMIT_SCRIPT_TIMEOUT, 1000000);
	CHECK_INT(c.script_timeout, 86400);
}

/* Every directive's default text parses, alone, as a file would hold it. */
static void
test_defaults_parse(void)
{
	struct config	c;
	const char	*name, *dflt;
	char		text[4096], err[512];
	size_t		i, n;

	for (i = 0; (name = config_key(i, &dflt, NULL)) != NULL; i++) {
		text[0] = '\0';
		for (const char *s = dflt; *s != '\0'; s += n + (s[n] == '\n')) {
			n = strcspn(s, "\n");
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s %.*s\n",
			    name, (int)n, s);
		}
		if (parse(&c, text, err, sizeof(err)) != 0) {
			fprintf(stderr, "default of %s: %s\n", name, err);
			unit_failures++;
		}
	}
	CHECK(i > 40);
}

/* `lockerd -t -v` of a default configuration is a file that gives it back,
 * and dumps to itself; likewise with every directive given. */
static void
test_dump_round_trip(void)
{
	static struct config	a, b;
	char			*one = NULL, *two;
	char			err[512];
	const char		*text[] = {
		"",
		"listen 127.0.0.1:8080 [::1]:8081\nhostname a.example\nhostname b.example\n"
		"front-processes 3\ninterpreter php - \n"
		"interpreter py /usr/bin/python3 fastcgi\nindex x.html\nself-signup yes\n"
		"group-signup staff\ndisk-quota btrfs\ndisk-limit 1g\nlocker-network host\n"
		"listen 127.0.0.1:80\nlisten 127.0.0.1:443 [::1]:443 tls\n"
		"listen 0.0.0.0:444 tls verify-client\ncertificate *.A.example /a.crt /a.key\n"
		"certificate b.example /b.crt /b.key\ntls-protocols TLSv1.3\n"
		"tls-client-ca /etc/ca.pem\ntls-ticket-lifetime 10m\n"
				"script-timeout 2m\nmax-body-size 1k\nstatic-extensions\n"
		"acme-dns-update [::1]:53 Example.ORG k.example hmac-sha512 /etc/k\n"
		"acme-resolver 127.0.0.1:5353\n",
		NULL
	};
	int			i;

	for (i = 0; text[i] != NULL; i++) {
		CHECK_INT(parse(&a, text[i], err, sizeof(err)), 0);
		CHECK_STR(err, "");
		free(one);
		one = config_text(&a);
		CHECK_INT(parse(&b, one, err, sizeof(err)), 0);
		CHECK_STR(err, "");
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		two = config_text(&b);
		CHECK_STR(two, one);
		free(two);
	}
	CHECK(strstr(one, "\nstatic-extensions\n") != NULL);
	CHECK(strstr(one, "\nacme-dns-update [::1]:53 example.org k.example hmac-sha512 /etc/k\n")
	    != NULL);
	CHECK(strstr(one, "\nacme-resolver 127.0.0.1:5353\n") != NULL);
	free(one);
}

/* The keys `locker limit` takes are exactly the table's CONF_LOCKER rows,
 * each one of enum limit, once. */
static void
test_locker_keys(void)
{
	const char	*name, *dflt;
	unsigned	 flags, seen = 0;
	char		 err[256];
	uint64_t	 v;
	size_t		 i;
	int		 k;

	for (i = 0; (name = config_key(i, &dflt, &flags)) != NULL; i++) {
		int taken = config_limit_parse(name, "1", &v, err, sizeof(err)) == 0 ||
		    strstr(err, "not a limit") == NULL;

		CHECK_INT(taken, (flags & CONF_LOCKER) != 0);
		if (!(flags & CONF_LOCKER)) {
			CHECK_INT(config_limit_key(name), -1);
			CHECK(!(flags & (CONF_FRONT | CONF_LOGD)));
			continue;
		}
		CHECK_INT(config_limit_parse(name, dflt, &v, err, sizeof(err)), 0);
		k = config_limit_key(name);
		CHECK(k >= 0 && k < LIMIT_N && !(seen & 1u << k));
		if (k >= 0 && k < LIMIT_N) {
			seen |= 1u << k;
			CHECK_STR(config_limit_name((enum limit)k), name);
		}
	}
	CHECK_INT(seen, (1u << LIMIT_N) - 1);
}

/* etc/lockerd.conf.example, which shows every directive with its default,
 * says what the table says (tests run from the source tree's top). */
static void
test_example_file(void)
{
	static struct config	ex, dflt;
	char			err[512], *a, *b, *text;
	const char		*name;
	FILE			*f = fopen("etc/lockerd.conf.example", "r");
	long			n;
	size_t			i;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	CHECK(text != NULL && fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	CHECK_INT(config_parse(&ex, "t.conf", text, (size_t)n, err, sizeof(err)), 0);
	CHECK_INT(parse(&dflt, "", err, sizeof(err)), 0);
	a = config_text(&ex);
	b = config_text(&dflt);
	CHECK_STR(a, b);
	for (i = 0; (name = config_key(i, NULL, NULL)) != NULL; i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n%s ", name);
		if (strstr(text, want) == NULL && (snprintf(want, sizeof(want), "\n#%s ",
		    name), strstr(text, want) == NULL)) {
			fprintf(stderr, "lockerd.conf.example does not show %s\n", name);
			unit_failures++;
		}
	}
	free(a);
	free(b);
	free(text);
}

/* A directive not flagged CONF_REPEAT may be given once; one flagged may
 * be given on several lines. */
static void
test_repeat(void)
{
	struct config	 c;
	const char	*name, *dflt;
	char		 text[8192], err[512], twice[80];
	unsigned	 flags;
	size_t		 i;

	for (i = 0; (name = config_key(i, &dflt, &flags)) != NULL; i++) {
		if (strchr(dflt, '\n') != NULL || dflt[0] == '\0')
			continue;	/* interpreter, hostname: below */
		snprintf(text, sizeof(text), "%s %s\n%s %s\n", name, dflt, name, dflt);
		snprintf(twice, sizeof(twice), "%s: given twice", name);
		parse(&c, text, err, sizeof(err));
		CHECK_INT(strstr(err, twice) != NULL, !(flags & CONF_REPEAT));
	}
	CHECK_INT(parse(&c, "hostname a.example\nhostname b.example\ninterpreter a -\n"
	    "interpreter b -\n", err, sizeof(err)), 0);
	CHECK_INT(c.nhostnames, 2);
	CHECK_INT(c.ninterp, 2);
}

/* SIGHUP keeps what needs a restart, and says what it kept. */
static void
test_restart_only(void)
{
	static struct config	old, nc;
	char			err[512], changed[256];

	CHECK_INT(parse(&old, "listen 127.0.0.1:81\nlockers /srv/a\n", err, sizeof(err)), 0);
	CHECK_INT(parse(&nc, "listen 127.0.0.1:82 127.0.0.1:83\nlockers /srv/b\n"
	    "disk-quota btrfs\nhostname h.example\nmax-scripts 3\n", err, sizeof(err)), 0);
	CHECK_INT(config_keep_restart_only(&nc, &old, changed, sizeof(changed)), 3);
	CHECK_STR(changed, "listen, lockers, disk-quota");
	CHECK_INT(nc.nlisten, 1);
	CHECK_STR(nc.listen[0].port, "81");
	CHECK_STR(nc.lockers, "/srv/a");
	CHECK_INT(nc.disk_quota, DISK_QUOTA_NONE);
	CHECK_INT(nc.nhostnames, 1);
	CHECK_INT(nc.max_scripts, 3);
	CHECK_INT(config_keep_restart_only(&nc, &old, changed, sizeof(changed)), 0);
	CHECK_STR(changed, "");
}

int
main(void)
{
	log_init("test", 0);
	test_defaults();
	test_values();
	test_errors();
	test_directory();
	test_validate();
	test_limits();
	test_defaults_parse();
	test_dump_round_trip();
	test_locker_keys();
	test_restart_only();
	test_example_file();
	test_repeat();
	UNIT_DONE();
}
