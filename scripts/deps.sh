#!/bin/sh
# Install the Debian packages lockerd needs, and only those missing.
# Idempotent and non-interactive.  `sh scripts/deps.sh` for building,
# running and testing; `sh scripts/deps.sh bench` adds the peers that
# `make bench` compares against.
set -eu

# build: compiler pieces and libraries (libssl-dev: OpenSSL 3, for TLS in
# front and keyd's signatures; libldns-dev: DNS-01's RFC 2136 updates;
# libjansson-dev: the JSON of the ACME client's exchanges with the CA;
# libpcre2-dev: .htaccess regexes, as Apache's own PCRE2 reads them;
# libcrypt-dev: htpasswd's bcrypt, SHA-crypt and DES hashes, crypt_rn());
# run: mime types, pasta (passt: each locker's outbound network); test:
# clients (openssl: certificates and s_client), the fuzzer runtime, and
# knot (a real DNS server for DNS-01), pebble (a test ACME CA, with
# pebble-challtestsrv as its DNS); issue 12's tests: Debian's Apache with
# mod_php (the .htaccess differential test) and the applications whose
# .htaccess files lockerd must honour as Apache does (DokuWiki, MediaWiki,
# WordPress, deployed into a locker from their packages); issue 14's SQL
# service: libmariadb-dev (the client library sqld alone links),
# mariadb-server (the tests' real mariadbd on a private socket),
# mariadb-client (mariadb-dump, run as a locker for its dumps),
# php8.2-mysql (mysqli and PDO in lockers' pages), python3-pymysql
# (test_sql_limit.py's connections that stay open across a cut) and
# php-sqlite3 (PDO SQLite, the embedded default every locker has without
# signing up, and MediaWiki's database in test_apps_htaccess); issue 15's
# mail: postfix (the tests' real MTA, tests/integration/postfix.py, on its
# own configuration directory; installed with "No configuration", so no
# system instance is set up or started), swaks (the tests' SMTP client) and
# procmail (what runs a locker's mail_scripts/procmailrc); issue 16's
# autoinstaller: git (every install is a repository, lockerd-app) and
# php-cli (the applications' own command-line installers); its recipes'
# applications: phpmyadmin (its code, and its libraries under
# /usr/share/php that every jail reads; no database of its own and no web
# server configured, see the preseeds below) and
# wordpress-theme-twentytwentythree (WordPress's default theme, which
# Debian ships apart: without it a fresh install shows an empty page);
# issue 17's HTTP/2: libnghttp2-dev (nghttp2 frames and HPACK, front's
# HTTP/2 sessions), nghttp2-client (nghttp and h2load, the tests' and
# bench's HTTP/2 clients) and python3-h2 (the attack tests' frames by hand).
PKGS="gcc make pkg-config libsqlite3-dev libseccomp-dev libssl-dev openssl libldns-dev libjansson-dev libpcre2-dev libcrypt-dev media-types
      apache2-utils curl python3 python3-pytest clang libclang-rt-14-dev procps iproute2 gdb strace php-cgi
      btrfs-progs passt knot knot-dnsutils ldnsutils pebble testssl.sh
      apache2 libapache2-mod-php8.2 dokuwiki mediawiki wordpress
      libmariadb-dev mariadb-server mariadb-client php8.2-mysql php-sqlite3 python3-pymysql
      postfix swaks procmail git php-cli
      phpmyadmin wordpress-theme-twentytwentythree libnghttp2-dev nghttp2-client python3-h2"
# issue 17's tests: chromium (headless, tests/integration/test_h2.py: a real
# browser loads a locker's page and its assets over HTTP/2, as users will)
PKGS="$PKGS chromium"
# issue 18 (fleet directory): postgresql (tests/integration/pg.py: a primary and its standby), libpq-dev (lockerd-dirsync alone links libpq)
PKGS="$PKGS postgresql libpq-dev"
# issue 18's fleet: haproxy (the load balancer in front of tests/integration/fleet.py's nodes)
PKGS="$PKGS haproxy"
# issue 18 (Hesiod): hesiod (hesinfo and libhesiod: test_hesiod.py reads the published records as Athena clients do), util-linux (unshare: hesinfo's own resolv.conf)
PKGS="$PKGS hesiod util-linux"
if [ "${1:-}" = bench ]; then
	# php-sqlite3: MediaWiki's database in the apps case (bench/apps.py);
	# wordpress, mariadb-server, php8.2-mysql: the appsdb case (bench/apps_db.py);
	# nghttp2-client: h2load, the h2 case's load (bench/h2.py)
	PKGS="nginx apache2 apache2-suexec-custom wrk php-cgi php-fpm php-sqlite3 dokuwiki mediawiki
	      wordpress wordpress-theme-twentytwentythree mariadb-server php8.2-mysql nghttp2-client"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Do not let package scripts start nginx or apache on port 80.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Postfix's package asks how to configure the machine's own mail system:
# not at all (the tests run their own instance).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# phpMyAdmin's package would make a database of its own (dbconfig-common)
# and configure a web server: neither (each locker's install is its own).
printf '%s\n' "phpmyadmin phpmyadmin/dbconfig-install boolean false" \
	"phpmyadmin phpmyadmin/reconfigure-webserver multiselect" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
