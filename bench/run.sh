#!/bin/sh
# bench/run.sh BUILD_DIR — lockerd against nginx and Apache+suexec+static-cat
# (static files), and against Apache+suexec and nginx+php-fpm (a compiled
# CGI program and hello.php), side by side on 127.0.0.1 in one run.  Run as
# root (make bench).  See bench/README.md for what is measured and how to
# read the output.
#
# Environment:
#   BENCH_SECONDS=10          length of each measured wrk run
#   BENCH_WARMUP_SECONDS=2    length of the wrk warm-up before each run
#   BENCH_COLD_LOCKERS=50     lockers signed up for the cold-start test
#   BENCH_LOCKER_NETWORK=host lockerd's locker-network (default: lockerd's own)
#   BENCH_COLDSTART=1         the cold case: 1 times each step; exec: workers started
#                             as before the spawner (clone + exec), to compare
#   LOCKERD_OPTIONAL=1        skip (not fail) the lockerd part when
#                             BUILD_DIR/lockerd does not exist
#   BENCH_ONLY="nginx static-cat lockerd"   which servers to run
#   BENCH_CASES="static nocache https cgi php cold htaccess apps appsdb h2"   which cases to run:
#                             static: 1 KiB and 100 KiB files; nocache:
#                             the same through lockerd without its file
#                             cache; https: the files over TLS 1.3 with one
#                             ECDSA P-256 certificate (keep-alive), and
#                             full handshakes (a new connection per
#                             request); cgi: the compiled hello CGI; php:
#                             hello.php (php-fpm, php-cgi per request,
#                             lockerd's pool); cold: the cold-start test;
#                             htaccess: WordPress's .htaccess in front of
#                             the 1 KiB file and of a permalink rewritten
#                             to index.php (hello.php), lockerd with and
#                             without it, and Apache + suexec with
#                             AllowOverride All (as scripts.mit.edu);
#                             apps: DokuWiki and MediaWiki from Debian's
#                             packages in a locker against the same copies
#                             under nginx + php-fpm (bench/apps.py);
#                             appsdb: WordPress's front page and a
#                             MediaWiki page on one MariaDB, the same way
#                             (bench/apps_db.py)
#                             h2: HTTP/2 with h2load, lockerd against
#                             nginx (+ php-fpm) over TLS 1.3: the 1 KiB
#                             file with 100 concurrent streams, hello.php
#                             (bench/h2.py; its knobs H2_*)
#   BENCH_CGI=1               0: no script cases (drops cgi and php)
#   BENCH_PHP_PROCESSES=5     a PHP pool's most processes, lockerd's and php-fpm's
#   BENCH_RESULTS=FILE        also write the results (TSV) to FILE
#   BENCH_UIDS=210000-210999  lockerd's uid range (another lets two runs overlap)
#   BENCH_LOCKERD_TMPDIR=/var/lib   parent of lockerd's lockers/state/logs
#                             (not under /tmp, which lockerd refuses, nor
#                             /var/tmp, which a locker's sandbox replaces)
#
# Exits non-zero when a server fails to start or answers a request with the
# wrong status or body; never because of a ratio (those are reported only).

set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

BUILD=${1:-build}
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
NCOLD=${BENCH_COLD_LOCKERS:-50}
ONLY=${BENCH_ONLY:-nginx static-cat lockerd}
CGI=${BENCH_CGI:-1}
CASES=${BENCH_CASES:-static nocache https cgi php cold htaccess apps appsdb h2}
if [ "$CGI" != 1 ]; then
	CASES=$(for c in $CASES; do case $c in cgi|php|htaccess|apps|appsdb) ;; *) echo $c ;; esac; done)
fi
case " $(echo $CASES) " in *" cgi "*|*" php "*|*" htaccess "*|*" apps "*|*" appsdb "*) CGI=1 ;; *) CGI=0 ;; esac
THREADS=2
CONNS=32
HERE=$(cd "$(dirname "$0")" && pwd)
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac

NGINX=/usr/sbin/nginx
APACHE=/usr/sbin/apache2
SUEXEC=/usr/lib/apache2/suexec
SUEXEC_CONF=/etc/apache2/suexec/www-data
PHPCGI=$(readlink -f /usr/bin/php-cgi 2>/dev/null)
FPM=$(ls /usr/sbin/php-fpm[0-9]* 2>/dev/null | sort -V | tail -n 1)
TESTUSER=lockerd-bench
DOMAIN=bench.test

S=			# scratch dir under /tmp
WWW=			# Apache docroot under suexec's docroot (/var/www)
LDIR=			# lockerd's lockers/state/logs
NGINX_PID=
FPM_PID=
APACHE_PID=
LOCKERD_PID=
USER_MADE=
LOAD_FAILED=
WRK_PID=

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# A process of ours has exited (or is a zombie waiting for wait).
gone() {
	[ -r "/proc/$1/status" ] || return 0
	grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_pid() {	# NAME PID: SIGTERM, up to 15 s, then SIGKILL; reap it
	[ -n "$2" ] || return 0
	kill -TERM "$2" 2>/dev/null
	i=0
	while ! gone "$2" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	if ! gone "$2"; then
		say "$1 (pid $2) ignored SIGTERM for 15 s: SIGKILL"
		kill -KILL "$2" 2>/dev/null
	fi
	wait "$2" 2>/dev/null
	return 0
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$WRK_PID" ] && { kill "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; }
	stop_pid lockerd "$LOCKERD_PID"; LOCKERD_PID=
	stop_pid apache2 "$APACHE_PID"; APACHE_PID=
	stop_pid nginx "$NGINX_PID"; NGINX_PID=
	stop_pid php-fpm "$FPM_PID"; FPM_PID=
	# Anything still running as a bench locker's uid outlived lockerd.
	left=$(ps -eo pid=,uid= | awk -v r="${BENCH_UIDS:-210000-210999}" \
	    'BEGIN { split(r, u, "-") } $2 >= u[1] + 0 && $2 <= u[2] + 0 { print $1 }')
	if [ -n "$left" ]; then
		say "WARNING: processes of bench lockers outlived lockerd: $(echo $left); killing them"
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
	fi
	if [ -n "$USER_MADE" ]; then
		left=$(ps -o pid= -u "$TESTUSER" 2>/dev/null)
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		userdel "$TESTUSER" 2>/dev/null || say "WARNING: userdel $TESTUSER failed"
	fi
	for d in "$WWW" "$LDIR" "$S"; do
		[ -n "$d" ] && rm -rf "$d"
	done
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# `locker info NAME --json` on stdin -> "UID GID HOME"
json_info() {
	perl -MJSON::PP -e '
	    local $/; my $j = decode_json(<STDIN>);
	    defined $j->{$_} or die "no \"$_\" in locker info --json\n" for qw(uid gid home);
	    print "$j->{uid} $j->{gid} $j->{home}\n";'
}

want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
has() { case " $(echo $CASES) " in *" $1 "*) return 0 ;; esac; return 1; }

# The throw-away user that Apache+suexec and the php-fpm pool run as.
make_user() {
	[ -n "$USER_MADE" ] && return 0
	if id -u "$TESTUSER" >/dev/null 2>&1; then
		say "removing user $TESTUSER left by an earlier run"
		userdel "$TESTUSER" || die "userdel $TESTUSER"
	fi
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$TESTUSER" || die "useradd $TESTUSER"
	USER_MADE=1
	[ "$(id -u $TESTUSER)" -ge 100 ] && [ "$(id -g $TESTUSER)" -ge 100 ] \
	    || die "$TESTUSER got a uid or gid below 100, which suexec refuses"
}

# PHP processes left after a load run: php-fpm's children (not its master),
# and the php-cgi processes of lockerd's pool (each serves: no parent).
fpm_children() {
	ps -eo ppid=,comm= | awk -v p="$1" '$1 == p && $2 ~ /^php-fpm/ { n++ } END { print n + 0 }'
}
pool_children() {
	ps -eo uid=,comm= | awk -v u="$1" '$1 == u && $2 ~ /^php-cgi/ { n++ } END { print n + 0 }'
}

free_port() {
	perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
	        LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die "$!\n";
	    print $s->sockport, "\n";'
}

# wait_up NAME PID PORT LOG: until the port answers HTTP, or the server dies.
wait_up() {
	i=0
	while :; do
		if gone "$2"; then
			[ -f "$4" ] && tail -n 30 "$4" >&2
			die "$1 exited while starting (see above)"
		fi
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$3/" && return 0
		i=$((i + 1))
		if [ $i -ge 150 ]; then
			[ -f "$4" ] && tail -n 30 "$4" >&2
			die "$1 did not accept connections on 127.0.0.1:$3 within 15 s"
		fi
		sleep 0.1
	done
}

# verify NAME URL HOST EXPECTED_FILE [LOG]: one request, must be 200 + that body.
# An https:// URL is verified against the bench's own certificate.
verify() {
	code=$(curl -s -o "$S/body" -w '%{http_code}' --max-time 10 \
	    ${CACERT:+--cacert "$CACERT"} \
	    ${3:+-H "Host: $3"} "$2") || code="curl-failed($?)"
	if [ "$code" != 200 ] || ! cmp -s "$S/body" "$4"; then
		say "$1: GET $2 ${3:+(Host: $3) }gave status $code, body $(wc -c <"$S/body" 2>/dev/null || echo 0) bytes; expected 200 and $(wc -c <"$4") bytes of $(basename "$4")"
		head -c 300 "$S/body" >&2 2>/dev/null; echo >&2
		[ -n "${5:-}" ] && [ -f "$5" ] && tail -n 20 "$5" >&2
		die "$1 answered wrongly"
	fi
}

# to_ms VALUE-WITH-UNIT (wrk prints 512.00us, 1.23ms, 2.00s, 1.00m)
TO_MS='function to_ms(v,  n) {
	n = v + 0
	if (v ~ /us$/) return n / 1000
	if (v ~ /ms$/) return n
	if (v ~ /m$/) return n * 60000
	if (v ~ /s$/) return n * 1000
	return n
}'

# wrk in the background, so that a signal stops the run at once (the shell
# runs its traps only between commands, or during wait).
run_wrk() {
	wrk -t$THREADS -c${WRK_CONNS:-$CONNS} "$@" &
	WRK_PID=$!
	wait $WRK_PID
	st=$?
	WRK_PID=
	return $st
}

# bench_wrk SERVER CASE URL HOST EXPECTED_FILE [LOG]
bench_wrk() {
	out="$S/wrk-$1-$2.txt"
	verify "$1" "$3" "$4" "$5" "${6:-}"
	say "$1 $2: warm-up ${WARMUP}s, then wrk -t$THREADS -c${WRK_CONNS:-$CONNS} -d${SECONDS_RUN}s --latency $3"
	run_wrk -d${WARMUP}s ${4:+-H "Host: $4"} ${WRK_HDR:+-H "$WRK_HDR"} "$3" >/dev/null 2>&1
	run_wrk -d${SECONDS_RUN}s --latency ${WRK_TIMEOUT:+--timeout $WRK_TIMEOUT} \
	    ${4:+-H "Host: $4"} ${WRK_HDR:+-H "$WRK_HDR"} "$3" \
	    >"$out" 2>&1 \
	    || { cat "$out" >&2; die "wrk failed against $1"; }
	row=$(awk "$TO_MS"'
	    /Requests\/sec:/ { rps = $2 }
	    /^ +50% / { p50 = to_ms($2) }
	    /^ +99% / { p99 = to_ms($2) }
	    /Non-2xx or 3xx responses:/ { bad = $NF }
	    /Socket errors:/ { gsub(",", ""); errs = $4 + $6 + $8 + $10 }
	    / requests in / { n = $1 }
	    END {
		if (rps == "" || n == 0) exit 1
		printf "%s\t%.3f\t%.3f\t%d\t%d\t%d\n", rps, p50, p99, bad, errs, n
	    }' "$out") || {
		cat "$out" >&2
		# A peer that completed nothing is reported, not fatal, where the
		# case allows it (WRK_SOFT): its ratios say "not measured".
		[ -n "${WRK_SOFT:-}" ] && { say "WARNING: $1 $2 completed no request: not measured"; return 0; }
		die "could not read wrk's output for $1 $2"
	    }
	printf '%s\t%s\t%s\n' "$1" "$2" "$row" >>"$S/results.tsv"
	# The body must still be right after the load.
	verify "$1" "$3" "$4" "$5" "${6:-}"
	bad=$(printf '%s\n' "$row" | cut -f4)
	if [ "$bad" -gt 0 ]; then
		cat "$out" >&2
		say "ERROR: $1 $2: $bad responses were not 2xx/3xx under load"
		LOAD_FAILED="$LOAD_FAILED $1/$2"
	fi
}

# bench_https SERVER BASE_URL PATH_PREFIX: the https case, keep-alive 1 KiB
# and 100 KiB, then a full handshake per request (Connection: close; wrk
# resumes no session).
bench_https() {
	bench_wrk "$1-tls" "1 KiB" "$2$3/1k.html" "" "$S/files/1k.html"
	bench_wrk "$1-tls" "100 KiB" "$2$3/100k.html" "" "$S/files/100k.html"
	WRK_HDR="Connection: close"
	bench_wrk "$1-tls" "handshake" "$2$3/1k.html" "" "$S/files/1k.html"
	WRK_HDR=
}

# --- preflight -----------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (suexec, useradd, lockerd)"
for c in wrk curl perl cc cmp; do
	command -v $c >/dev/null 2>&1 || die "$c not found: apt-get install -y nginx apache2 apache2-suexec-custom wrk curl gcc perl"
done
if want nginx; then
	[ -x $NGINX ] || die "$NGINX not found: apt-get install -y nginx"
fi
if want static-cat; then
	[ -x $APACHE ] || die "$APACHE not found: apt-get install -y apache2"
	[ -e $SUEXEC ] && [ -f /usr/lib/apache2/modules/mod_suexec.so ] \
	    || die "$SUEXEC not found: apt-get install -y apache2-suexec-custom"
fi
if [ "$CGI" = 1 ]; then
	[ -n "$PHPCGI" ] && [ -x "$PHPCGI" ] \
	    || die "php-cgi not found: apt-get install -y php-cgi (or BENCH_CGI=0)"
	if want nginx; then
		[ -n "$FPM" ] || die "php-fpm not found: apt-get install -y php-fpm (or BENCH_CGI=0)"
	fi
fi
RUN_LOCKERD=
if want lockerd; then
	if [ -x "$BUILD/lockerd" ] && [ -x "$BUILD/locker" ]; then
		RUN_LOCKERD=1
	elif [ "${LOCKERD_OPTIONAL:-0}" = 1 ]; then
		say "NOTE: $BUILD/lockerd or $BUILD/locker does not exist: skipping lockerd (LOCKERD_OPTIONAL=1)"
	else
		die "$BUILD/lockerd or $BUILD/locker does not exist (make all; or LOCKERD_OPTIONAL=1 to skip)"
	fi
fi
others=$(for p in $(pidof nginx apache2 2>/dev/null); do echo $p; done | wc -l)
[ "$others" -gt 0 ] && say "NOTE: $others nginx/apache2 processes of the system are running; they use other ports but share the CPU"

# The most PHP processes of a pool, the same on both sides: lockerd's
# php-max-processes and php-fpm's pm.max_children (5: both defaults,
# Debian's for php-fpm).  Both start processes as requests wait.
NCPU=$(nproc)
PHP_CHILDREN=${BENCH_PHP_PROCESSES:-5}

S=$(mktemp -d /tmp/lockerd-bench.XXXXXX) || die "mktemp"
chmod 0755 "$S"		# nginx's workers (www-data) read the files below it
: >"$S/results.tsv"
mkdir "$S/files"
# Printable, not compressible-looking content, exactly 1 KiB and 100 KiB.
head -c 200000 /dev/urandom | base64 -w 76 >"$S/rand"
head -c 1024 "$S/rand" >"$S/files/1k.html"
head -c 102400 "$S/rand" >"$S/files/100k.html"
chmod 0755 "$S/files"; chmod 0644 "$S/files/1k.html" "$S/files/100k.html"
# The CGI cases: one compiled program and one page of PHP, both saying hello.
printf 'hello\n' >"$S/hello.out"
# HTTPS: one ECDSA P-256 certificate for both servers, for the name
# "localhost" (wrk sends its URL's host as SNI, and an address is no name;
# lockerd serves the locker at https://localhost/~bench/ as a service host).
CACERT=
if has https; then
	command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install -y openssl"
	mkdir "$S/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
	    -keyout "$S/tls/key.pem" -out "$S/tls/cert.pem" >"$S/tls/openssl.out" 2>&1 \
	    || { cat "$S/tls/openssl.out" >&2; die "cannot make the bench's certificate"; }
	chmod 0644 "$S/tls/cert.pem"; chmod 0600 "$S/tls/key.pem"
	CACERT="$S/tls/cert.pem"
fi
# Whether the kernel can take TLS records over (kTLS), so that files could
# still go out with sendfile: its tls module loaded gives /proc/net/tls_stat.
[ -r /proc/net/tls_stat ] || modprobe -q tls 2>/dev/null
if [ -r /proc/net/tls_stat ]; then KTLS="available (/proc/net/tls_stat)"
else KTLS="not available (no tls module in this kernel): HTTPS files are copied through user space"
fi
# The htaccess case: the .htaccess WordPress writes for pretty permalinks.
cat >"$S/wp.htaccess" <<'EOF'
# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
EOF
PERMALINK=/2026/12/hello-world/
if [ "$CGI" = 1 ]; then
	printf '<?php echo "hello\\n";\n' >"$S/hello.php"
	cc -O2 -o "$S/hello.cgi" "$HERE/hello-cgi.c" || die "cannot build hello-cgi"
fi

# --- nginx ---------------------------------------------------------------

if want nginx; then
	mkdir "$S/nginx" "$S/fpm" "$S/php"
	if has php; then
		# php-fpm as Debian runs it (its php.ini, opcache on), one pool
		# running as the user, pm=ondemand; nginx's workers (www-data)
		# talk to it on a Unix socket.  max_children is the size of
		# lockerd's pool, so both have as many PHP processes (Debian's
		# default, 5, on 2 CPUs).
		make_user
		install -o "$TESTUSER" -g "$TESTUSER" -m 0600 "$S/hello.php" "$S/php/hello.php"
		chown "$TESTUSER:$TESTUSER" "$S/php"; chmod 0711 "$S/php"
		cat >"$S/fpm/php-fpm.conf" <<EOF
; written by bench/run.sh
[global]
pid = $S/fpm/php-fpm.pid
error_log = $S/fpm/error.log
daemonize = no

[bench]
user = $TESTUSER
group = $TESTUSER
listen = $S/fpm/php-fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = ondemand
pm.max_children = $PHP_CHILDREN
pm.process_idle_timeout = 10s
EOF
		$FPM -t -y "$S/fpm/php-fpm.conf" >"$S/fpm/configtest" 2>&1 \
		    || { cat "$S/fpm/configtest" >&2; die "php-fpm refused its configuration"; }
		$FPM -F -y "$S/fpm/php-fpm.conf" >"$S/fpm/stdout" 2>&1 &
		FPM_PID=$!
		i=0
		while [ ! -S "$S/fpm/php-fpm.sock" ]; do
			if gone "$FPM_PID"; then
				cat "$S/fpm/stdout" "$S/fpm/error.log" >&2 2>/dev/null
				die "php-fpm exited while starting (see above)"
			fi
			i=$((i + 1))
			[ $i -ge 150 ] && die "php-fpm did not make its socket within 15 s"
			sleep 0.1
		done
		say "$($FPM -v | head -n 1 | cut -d' ' -f1-2) up, pool as $TESTUSER, pm=ondemand (pid $FPM_PID)"
	fi
	NPORT=$(free_port) || die "no free port"
	: >"$S/nginx/tls.conf"
	if has https; then
		NTPORT=$(free_port) || die "no free port"
		cat >"$S/nginx/tls.conf" <<EOF
# written by bench/run.sh: the https case, TLS 1.3 only
server {
	listen 127.0.0.1:$NTPORT ssl;
	server_name localhost;
	root $S/files;
	ssl_certificate $S/tls/cert.pem;
	ssl_certificate_key $S/tls/key.pem;
	ssl_protocols TLSv1.3;
}
EOF
	fi
	sed -e "s|@DIR@|$S/nginx|g" -e "s|@PORT@|$NPORT|g" -e "s|@ROOT@|$S/files|g" \
	    -e "s|@PHPROOT@|$S/php|g" -e "s|@FPMSOCK@|$S/fpm/php-fpm.sock|g" \
	    "$HERE/nginx.conf.in" >"$S/nginx/nginx.conf"
	$NGINX -t -q -e "$S/nginx/error.log" -c "$S/nginx/nginx.conf" \
	    || die "nginx refused its configuration"
	$NGINX -e "$S/nginx/error.log" -c "$S/nginx/nginx.conf" -g 'daemon off;' \
	    >"$S/nginx/stdout" 2>&1 &
	NGINX_PID=$!
	wait_up nginx "$NGINX_PID" "$NPORT" "$S/nginx/error.log"
	say "nginx $($NGINX -v 2>&1 | sed 's|.*/||') up on 127.0.0.1:$NPORT (pid $NGINX_PID)"
	if has static; then
		bench_wrk nginx "1 KiB" "http://127.0.0.1:$NPORT/1k.html" "" "$S/files/1k.html"
		bench_wrk nginx "100 KiB" "http://127.0.0.1:$NPORT/100k.html" "" "$S/files/100k.html"
		[ -s "$S/nginx/access.log" ] || die "nginx wrote no access log"
	fi
	if has https; then
		bench_https nginx "https://localhost:$NTPORT" ""
	fi
	if has php; then
		bench_wrk nginx+fpm hello.php "http://127.0.0.1:$NPORT/hello.php" "" "$S/hello.out" \
		    "$S/nginx/error.log"
		fpm_children "$FPM_PID" >"$S/fpm-children"
	fi
	# Reference for the cold-start figures: one request on a new
	# connection to a server that has nothing to start.
	: >"$S/nginx-conn.txt"
	i=0
	while has cold && [ $i -lt "$NCOLD" ]; do
		curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$NPORT/1k.html" \
		    >>"$S/nginx-conn.txt" || die "nginx: request failed"
		i=$((i + 1))
	done
	stop_pid nginx "$NGINX_PID"; NGINX_PID=
	stop_pid php-fpm "$FPM_PID"; FPM_PID=
fi

# --- Apache + suexec + static-cat ----------------------------------------

if want static-cat; then
	# suexec-custom runs only programs under the docroot named on the first
	# line of its configuration (Debian: /var/www).
	SXROOT=$(head -n 1 $SUEXEC_CONF 2>/dev/null)
	case $SXROOT in
	/*) [ -d "$SXROOT" ] || die "suexec's docroot $SXROOT (first line of $SUEXEC_CONF) is not a directory" ;;
	*) die "$SUEXEC_CONF: first line should be suexec's docroot (Debian: /var/www), found '$SXROOT'" ;;
	esac
	make_user

	WWW=$(mktemp -d "$SXROOT/lockerd-bench.XXXXXX") || die "mktemp in $SXROOT"
	chmod 0755 "$WWW"
	mkdir "$WWW/apache" "$WWW/cgi" "$WWW/files"
	cc -O2 -o "$WWW/cgi/static-cat" "$HERE/static-cat.c" || die "cannot build static-cat"
	# suexec: the program and its directory owned by the user, writable by
	# no one else.  The files: the user's own, mode 0600, as on scripts.
	cp "$S/files/1k.html" "$S/files/100k.html" "$WWW/files/"
	chown "$TESTUSER:$TESTUSER" "$WWW/cgi" "$WWW/cgi/static-cat" "$WWW/files" \
	    "$WWW/files/1k.html" "$WWW/files/100k.html"
	chmod 0755 "$WWW/cgi" "$WWW/cgi/static-cat"
	chmod 0711 "$WWW/files"
	chmod 0600 "$WWW/files/1k.html" "$WWW/files/100k.html"
	if [ "$CGI" = 1 ]; then
		install -o "$TESTUSER" -g "$TESTUSER" -m 0755 "$S/hello.cgi" "$WWW/cgi/hello"
		install -o "$TESTUSER" -g "$TESTUSER" -m 0755 "$PHPCGI" "$WWW/cgi/php-cgi"
		install -o "$TESTUSER" -g "$TESTUSER" -m 0600 "$S/hello.php" "$WWW/files/hello.php"
	fi

	APORT=$(free_port) || die "no free port"
	sed -e "s|@DIR@|$WWW/apache|g" -e "s|@PORT@|$APORT|g" -e "s|@DOCROOT@|$WWW|g" \
	    -e "s|@USER@|$TESTUSER|g" "$HERE/apache2.conf.in" >"$WWW/apache/apache2.conf"
	if has htaccess; then
		# The same site as scripts.mit.edu serves it, AllowOverride All,
		# with WordPress's .htaccess: a virtual host of its own.
		AHPORT=$(free_port) || die "no free port"
		mkdir "$WWW/wp"
		cp "$S/files/1k.html" "$WWW/wp/1k.html"
		cp "$S/hello.php" "$WWW/wp/index.php"
		cp "$S/wp.htaccess" "$WWW/wp/.htaccess"
		chown "$TESTUSER:$TESTUSER" "$WWW/wp" "$WWW/wp/1k.html" "$WWW/wp/index.php" \
		    "$WWW/wp/.htaccess"
		chmod 0711 "$WWW/wp"
		chmod 0600 "$WWW/wp/1k.html" "$WWW/wp/index.php"
		chmod 0644 "$WWW/wp/.htaccess"	# Apache reads it as www-data
		cat >>"$WWW/apache/apache2.conf" <<EOF

# written by bench/run.sh: the htaccess case
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
Listen 127.0.0.1:$AHPORT
<VirtualHost 127.0.0.1:$AHPORT>
	DocumentRoot $WWW/wp
</VirtualHost>
<Directory $WWW/wp>
	Options FollowSymLinks
	AllowOverride All
	Require all granted
	AddHandler static-cat .html .txt .css .js .png .jpg .gif
	Action static-cat /cgi/static-cat
	AddHandler php-cgi .php
	Action php-cgi /cgi/php-cgi
</Directory>
EOF
	fi
	APACHE_ENV="APACHE_RUN_DIR=$WWW/apache APACHE_LOCK_DIR=$WWW/apache APACHE_LOG_DIR=$WWW/apache APACHE_PID_FILE=$WWW/apache/apache2.pid APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data LANG=C"
	env $APACHE_ENV $APACHE -t -f "$WWW/apache/apache2.conf" >"$WWW/apache/configtest" 2>&1 \
	    || { cat "$WWW/apache/configtest" >&2; die "apache2 refused its configuration"; }
	env $APACHE_ENV $APACHE -f "$WWW/apache/apache2.conf" -DFOREGROUND \
	    >"$WWW/apache/stdout" 2>&1 &
	APACHE_PID=$!
	wait_up apache2 "$APACHE_PID" "$APORT" "$WWW/apache/error.log"
	say "$($APACHE -v | sed -n 's/^Server version: //p') (event, suexec as $TESTUSER) up on 127.0.0.1:$APORT (pid $APACHE_PID)"
	code=$(curl -s -o "$S/body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$APORT/1k.html")
	if [ "$code" != 200 ]; then
		say "static-cat: GET /1k.html gave status $code; Apache's error log and suexec's log say:"
		tail -n 10 "$WWW/apache/error.log" >&2
		tail -n 5 /var/log/apache2/suexec.log >&2 2>/dev/null
		die "Apache + suexec + static-cat does not work"
	fi
	if has static; then
		bench_wrk static-cat "1 KiB" "http://127.0.0.1:$APORT/1k.html" "" "$S/files/1k.html"
		bench_wrk static-cat "100 KiB" "http://127.0.0.1:$APORT/100k.html" "" "$S/files/100k.html"
	fi
	if has cgi; then
		bench_wrk apache-suexec hello.c "http://127.0.0.1:$APORT/cgi/hello" "" "$S/hello.out" \
		    "$WWW/apache/error.log"
	fi
	if has php; then
		bench_wrk apache-suexec hello.php "http://127.0.0.1:$APORT/hello.php" "" "$S/hello.out" \
		    "$WWW/apache/error.log"
	fi
	if has htaccess; then
		bench_wrk apache-ht "1 KiB" "http://127.0.0.1:$AHPORT/1k.html" "" "$S/files/1k.html" \
		    "$WWW/apache/error.log"
		# php-cgi forked per request through suexec: each start costs
		# CPU (0.4-0.6 s on this machine at load 12), so with 32 requests
		# at once each waits behind 31 others longer than the run lasts
		# and none completes.  4 connections keep both CPUs busy (the
		# rate is bounded by php-cgi starts, not by connections) and let
		# requests complete within the run and wrk's timeout.
		WRK_TIMEOUT=20s WRK_SOFT=1 WRK_CONNS=4
		bench_wrk apache-ht permalink "http://127.0.0.1:$AHPORT$PERMALINK" "" "$S/hello.out" \
		    "$WWW/apache/error.log"
		WRK_TIMEOUT= WRK_SOFT= WRK_CONNS=
	fi
	stop_pid apache2 "$APACHE_PID"; APACHE_PID=
fi

# --- lockerd -------------------------------------------------------------

COLD=
if [ -n "$RUN_LOCKERD" ]; then
	LDIR=$(mktemp -d "${BENCH_LOCKERD_TMPDIR:-/var/lib}/lockerd-bench.XXXXXX") || die "mktemp"
	chmod 0755 "$LDIR"
	LPORT=$(free_port) || die "no free port"
	CONF="$S/lockerd.conf"
	cat >"$CONF" <<EOF
# written by bench/run.sh
listen 127.0.0.1:$LPORT
domain $DOMAIN
lockers $LDIR/lockers
state $LDIR/state
logs $LDIR/logs
uid-range ${BENCH_UIDS:-210000-210999}
front-processes auto
# wrk keeps $CONNS requests in flight; past max-scripts a locker's scripts
# get 503 (Apache's MaxRequestWorkers is 150).
max-scripts $((CONNS * 2))
# as many PHP processes as php-fpm's pool may have
php-max-processes $PHP_CHILDREN
EOF
	if has https; then
		LTPORT=$(free_port) || die "no free port"
		cat >>"$CONF" <<EOF
# the https case: TLS 1.3 only, the same certificate as nginx's
listen 127.0.0.1:$LTPORT tls
hostname localhost
certificate localhost $S/tls/cert.pem $S/tls/key.pem
tls-protocols TLSv1.3
EOF
	fi
	# private (a network namespace and a pasta per locker) or host.
	[ -n "${BENCH_LOCKER_NETWORK:-}" ] && echo "locker-network $BENCH_LOCKER_NETWORK" >>"$CONF"
	chmod 0644 "$CONF"
	# The cold case times each step of a worker's start (src/coldstart.c).
	if has cold; then
		LOCKERD_COLDSTART=${BENCH_COLDSTART:-1} "$BUILD/lockerd" -c "$CONF" \
		    >"$S/lockerd.out" 2>&1 &
	else
		"$BUILD/lockerd" -c "$CONF" >"$S/lockerd.out" 2>&1 &
	fi
	LOCKERD_PID=$!
	wait_up lockerd "$LOCKERD_PID" "$LPORT" "$S/lockerd.out"
	say "lockerd up on 127.0.0.1:$LPORT (pid $LOCKERD_PID)"
	LOCKER="$BUILD/locker -c $CONF"

	$LOCKER signup bench >"$S/signup.out" 2>&1 \
	    || { cat "$S/signup.out" >&2; die "locker signup bench failed"; }
	$LOCKER info bench --json >"$S/info.json" 2>"$S/info.err" \
	    || { cat "$S/info.err" >&2; die "locker info bench --json failed"; }
	h=$(json_info <"$S/info.json") \
	    || { cat "$S/info.json" >&2; die "cannot read locker info --json"; }
	set -- $h
	LUID=$1 LGID=$2 LHOME=$3
	[ -d "$LHOME" ] || die "locker bench: home $LHOME does not exist"
	install -d -o "$LUID" -g "$LGID" -m 0700 "$LHOME/web_scripts"
	for f in 1k.html 100k.html; do
		install -o "$LUID" -g "$LGID" -m 0600 "$S/files/$f" "$LHOME/web_scripts/$f"
	done
	H="bench.$DOMAIN"
	if has static; then
		bench_wrk lockerd "1 KiB" "http://127.0.0.1:$LPORT/1k.html" "$H" "$S/files/1k.html"
		bench_wrk lockerd "100 KiB" "http://127.0.0.1:$LPORT/100k.html" "$H" "$S/files/100k.html"
	fi
	if has https; then
		bench_https lockerd "https://localhost:$LTPORT" /~bench
	fi

	# The same with front's file cache off (file-cache-valid 0): every
	# request then makes the round trip to the locker's worker.
	if has nocache; then
		echo "file-cache-valid 0" >>"$CONF"
		kill -HUP "$LOCKERD_PID"
		sleep 0.5
		bench_wrk lockerd-nc "1 KiB" "http://127.0.0.1:$LPORT/1k.html" "$H" "$S/files/1k.html"
		bench_wrk lockerd-nc "100 KiB" "http://127.0.0.1:$LPORT/100k.html" "$H" "$S/files/100k.html"
		sed -i '/^file-cache-valid 0$/d' "$CONF"
		kill -HUP "$LOCKERD_PID"
		sleep 0.5
	fi

	# Scripts: the compiled program as hello.cgi (run directly, one fork
	# per request), and hello.php through the locker's own persistent
	# FastCGI pool (php-cgi; lockerd's default for .php).
	if has cgi; then
		install -o "$LUID" -g "$LGID" -m 0700 "$S/hello.cgi" "$LHOME/web_scripts/hello.cgi"
		bench_wrk lockerd hello.c "http://127.0.0.1:$LPORT/hello.cgi" "$H" "$S/hello.out" \
		    "$LDIR/logs/lockers/bench/error.log"
	fi
	if has php; then
		install -o "$LUID" -g "$LGID" -m 0600 "$S/hello.php" "$LHOME/web_scripts/hello.php"
		bench_wrk lockerd hello.php "http://127.0.0.1:$LPORT/hello.php" "$H" "$S/hello.out" \
		    "$LDIR/logs/lockers/bench/error.log"
		pool_children "$LUID" >"$S/pool-children"
	fi

	# The htaccess case: the locker "wp" has WordPress's .htaccess in
	# front of the same 1 KiB file and of index.php (hello.php); "bench"
	# has none, and serves the same page asked for by name.
	if has htaccess; then
		$LOCKER signup wp >"$S/signup.out" 2>&1 \
		    || { cat "$S/signup.out" >&2; die "locker signup wp failed"; }
		$LOCKER info wp --json >"$S/info.json" 2>"$S/info.err" \
		    || { cat "$S/info.err" >&2; die "locker info wp --json failed"; }
		h=$(json_info <"$S/info.json") || die "cannot read locker info wp --json"
		set -- $h
		install -d -o "$1" -g "$2" -m 0700 "$3/web_scripts"
		install -o "$1" -g "$2" -m 0600 "$S/files/1k.html" "$3/web_scripts/1k.html"
		install -o "$1" -g "$2" -m 0600 "$S/hello.php" "$3/web_scripts/index.php"
		install -o "$1" -g "$2" -m 0644 "$S/wp.htaccess" "$3/web_scripts/.htaccess"
		install -o "$LUID" -g "$LGID" -m 0600 "$S/hello.php" "$LHOME/web_scripts/hello.php"
		if ! has static; then
			bench_wrk lockerd "1 KiB" "http://127.0.0.1:$LPORT/1k.html" "$H" "$S/files/1k.html"
		fi
		if ! has php; then
			bench_wrk lockerd hello.php "http://127.0.0.1:$LPORT/hello.php" "$H" \
			    "$S/hello.out" "$LDIR/logs/lockers/bench/error.log"
		fi
		bench_wrk lockerd-ht "1 KiB" "http://127.0.0.1:$LPORT/1k.html" "wp.$DOMAIN" \
		    "$S/files/1k.html" "$LDIR/logs/lockers/wp/error.log"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: wp.$DOMAIN" \
		    "http://127.0.0.1:$LPORT$PERMALINK")
		if [ "$code" = 404 ]; then
			say "NOTE: lockerd answers 404 to $PERMALINK: it does not apply .htaccess rewrites yet; no permalink figure"
		else
			bench_wrk lockerd-ht permalink "http://127.0.0.1:$LPORT$PERMALINK" "wp.$DOMAIN" \
			    "$S/hello.out" "$LDIR/logs/lockers/wp/error.log"
		fi
	fi

	# Cold start: the first request to a locker that has no worker yet.
	has cold && say "cold start: signing up $NCOLD lockers"
	i=0
	while has cold && [ $i -lt "$NCOLD" ]; do
		n="bench-c$i"
		$LOCKER signup "$n" >"$S/signup.out" 2>&1 \
		    || { cat "$S/signup.out" >&2; die "locker signup $n failed"; }
		$LOCKER info "$n" --json >"$S/info.json" 2>"$S/info.err" \
		    || { cat "$S/info.err" >&2; die "locker info $n --json failed"; }
		h=$(json_info <"$S/info.json") \
		    || { cat "$S/info.json" >&2; die "cannot read locker info $n --json"; }
		set -- $h
		printf '<!doctype html><title>%s</title><p>%s</p>\n' "$n" "$n" >"$S/index-$n.html"
		install -d -o "$1" -g "$2" -m 0700 "$3/web_scripts"
		install -o "$1" -g "$2" -m 0600 "$S/index-$n.html" "$3/web_scripts/index.html"
		i=$((i + 1))
	done
	: >"$S/cold.txt"; : >"$S/warm.txt"
	for round in cold warm; do
		has cold || break
		i=0
		while [ $i -lt "$NCOLD" ]; do
			n="bench-c$i"
			r=$(curl -s -o "$S/body" -w '%{http_code} %{time_total}' --max-time 30 \
			    -H "Host: $n.$DOMAIN" "http://127.0.0.1:$LPORT/") || r="curl-failed($?) 0"
			set -- $r
			if [ "$1" != 200 ] || ! cmp -s "$S/body" "$S/index-$n.html"; then
				say "lockerd: $round GET / (Host: $n.$DOMAIN) gave status $1, expected 200 and $n's index.html"
				head -c 300 "$S/body" >&2; echo >&2
				die "lockerd answered wrongly"
			fi
			echo "$2" >>"$S/$round.txt"
			i=$((i + 1))
		done
	done
fi

# --- applications --------------------------------------------------------

# DokuWiki and MediaWiki, each in a locker and under nginx + php-fpm: both
# servers of its own, up at once and measured in turns (bench/apps.py; its
# own uids and throw-away users, which it removes).  Its rows join ours.
if has apps && want nginx && [ -n "$RUN_LOCKERD" ]; then
	[ -n "$FPM" ] || die "php-fpm not found: apt-get install -y php-fpm"
	[ -f /usr/share/dokuwiki/doku.php ] && [ -f /usr/share/mediawiki/index.php ] \
	    || die "dokuwiki or mediawiki is not installed: make deps-bench"
	say "apps: DokuWiki and MediaWiki, lockerd against nginx + php-fpm (bench/apps.py)"
	APPS_RESULTS="$S/results.tsv" BENCH_PHP_PROCESSES=$PHP_CHILDREN \
	    BENCH_LOCKERD_TMPDIR=${BENCH_LOCKERD_TMPDIR:-/var/lib} \
	    /usr/bin/python3 "$HERE/apps.py" "$BUILD" >"$S/apps.out" 2>&1 &
	WRK_PID=$!
	wait $WRK_PID || { tail -n 40 "$S/apps.out" >&2; WRK_PID=; die "bench/apps.py failed"; }
	WRK_PID=
	grep '^note: apps' "$S/apps.out" | sed 's/^note: //' >"$S/apps.note"
fi

# WordPress's front page and MediaWiki's Main Page, both on one MariaDB
# (tests/integration/mariadb.py's), lockerd against nginx + php-fpm with
# the same installs and the same database (bench/apps_db.py; its own uids,
# users and mariadbd, which it stops).
if has appsdb && want nginx && [ -n "$RUN_LOCKERD" ]; then
	[ -n "$FPM" ] || die "php-fpm not found: apt-get install -y php-fpm"
	[ -f /usr/share/wordpress/wp-settings.php ] && [ -f /usr/share/mediawiki/index.php ] \
	    && [ -x /usr/sbin/mariadbd ] \
	    || die "wordpress, mediawiki or mariadb-server is not installed: make deps-bench"
	say "appsdb: WordPress and MediaWiki on MariaDB, lockerd against nginx + php-fpm (bench/apps_db.py)"
	APPS_RESULTS="$S/results.tsv" BENCH_PHP_PROCESSES=$PHP_CHILDREN \
	    BENCH_LOCKERD_TMPDIR=${BENCH_LOCKERD_TMPDIR:-/var/lib} \
	    /usr/bin/python3 "$HERE/apps_db.py" "$BUILD" >"$S/appsdb.out" 2>&1 &
	WRK_PID=$!
	wait $WRK_PID || { tail -n 40 "$S/appsdb.out" >&2; WRK_PID=; die "bench/apps_db.py failed"; }
	WRK_PID=
	grep '^note: apps' "$S/appsdb.out" | sed 's/^note: //' >>"$S/apps.note"
fi

# HTTP/2: h2load against lockerd and nginx (+ php-fpm for hello.php), both
# up at once with the same certificate, measured in turns (bench/h2.py;
# its own uids and throw-away user, which it removes).  Its rows join ours.
if has h2 && want nginx && [ -n "$RUN_LOCKERD" ]; then
	command -v h2load >/dev/null 2>&1 || die "h2load not found: make deps-bench (nghttp2-client)"
	say "h2: HTTP/2 with h2load, lockerd against nginx (bench/h2.py)"
	# BENCH_CGI=0: no PHP (php-fpm is still started, and idles).
	[ "${BENCH_CGI:-1}" = 1 ] || H2_SHAPES=${H2_SHAPES:-1k-4x25 1k-1x100 1k-h1}
	H2_SHAPES=${H2_SHAPES:-} H2_RESULTS="$S/results.tsv" BENCH_PHP_PROCESSES=$PHP_CHILDREN \
	    BENCH_SECONDS=$SECONDS_RUN BENCH_WARMUP_SECONDS=$WARMUP \
	    BENCH_LOCKERD_TMPDIR=${BENCH_LOCKERD_TMPDIR:-/var/lib} \
	    /usr/bin/python3 "$HERE/h2.py" "$BUILD" >"$S/h2.out" 2>&1 &
	WRK_PID=$!
	wait $WRK_PID || { tail -n 40 "$S/h2.out" >&2; WRK_PID=; die "bench/h2.py failed"; }
	WRK_PID=
	grep '^note: h2' "$S/h2.out" | sed 's/^note: //' >"$S/h2.note"
fi

# --- report --------------------------------------------------------------

[ -n "${BENCH_RESULTS:-}" ] && cp "$S/results.tsv" "$BENCH_RESULTS"

pct() {	# FILE(seconds, one a line) -> "p50 p99" in ms, nearest rank
	sort -n "$1" | awk '{ v[NR] = $1 * 1000 }
	    END {
		i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
		i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
		printf "%.2f %.2f\n", v[i50], v[i99]
	    }'
}

echo
echo "lockerd benchmark: wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s --latency, keep-alive, 127.0.0.1, $(nproc) CPUs shared by wrk and the server"
echo
awk -F '\t' 'BEGIN {
	printf "%-13s %-9s %12s %9s %9s %8s %7s\n", "server", "case", "req/s", "p50 ms", "p99 ms", "non-2xx", "sockerr"
	printf "%-13s %-9s %12s %9s %9s %8s %7s\n", "-------------", "---------", "------------", "---------", "---------", "--------", "-------"
    }
    { printf "%-13s %-9s %12.0f %9.2f %9.2f %8d %7d\n", $1, $2, $3, $4, $5, $6, $7 }' "$S/results.tsv"
echo
awk -F '\t' '
    { r[$1 "/" $2] = $3 }
    function ratio(label, a, b, target) {
	if (!((a) in r) || !((b) in r)) { printf "  %-42s n/a (not measured)\n", label; return }
	x = r[a] / r[b]
	printf "  %-42s %8.2fx   (target >= %s)\n", label, x, target
    }
    END {
	print "ratios (req/s):"
	if (("lockerd/1 KiB") in r || ("nginx/1 KiB") in r || ("lockerd-nc/1 KiB") in r) {
	ratio("lockerd / nginx, 1 KiB", "lockerd/1 KiB", "nginx/1 KiB", "1.0x")
	ratio("lockerd / nginx, 100 KiB", "lockerd/100 KiB", "nginx/100 KiB", "-")
	ratio("lockerd-nc / nginx, 1 KiB", "lockerd-nc/1 KiB", "nginx/1 KiB", "-")
	ratio("lockerd-nc / nginx, 100 KiB", "lockerd-nc/100 KiB", "nginx/100 KiB", "-")
	ratio("lockerd / static-cat, 1 KiB", "lockerd/1 KiB", "static-cat/1 KiB", "20x")
	}
	if (("lockerd-tls/1 KiB") in r || ("nginx-tls/1 KiB") in r) {
	ratio("lockerd / nginx, HTTPS 1 KiB", "lockerd-tls/1 KiB", "nginx-tls/1 KiB", "1.0x")
	ratio("lockerd / nginx, HTTPS 100 KiB", "lockerd-tls/100 KiB", "nginx-tls/100 KiB", "1.0x")
	ratio("lockerd / nginx, TLS handshakes", "lockerd-tls/handshake", "nginx-tls/handshake", "1.0x")
	}
	if (("lockerd/hello.c") in r || ("apache-suexec/hello.c") in r)
		ratio("lockerd / apache-suexec, C CGI", "lockerd/hello.c", "apache-suexec/hello.c", "2.0x")
	if (("lockerd-ht/1 KiB") in r || ("apache-ht/1 KiB") in r) {
		ratio("lockerd .htaccess / none, 1 KiB", "lockerd-ht/1 KiB", "lockerd/1 KiB", "0.9x")
		ratio("lockerd .htaccess / none, PHP", "lockerd-ht/permalink", "lockerd/hello.php", "0.9x")
		ratio("lockerd / Apache AllowOverride, 1 KiB", "lockerd-ht/1 KiB", "apache-ht/1 KiB", "3x")
		ratio("lockerd / Apache AllowOverride, PHP", "lockerd-ht/permalink", "apache-ht/permalink", "3x")
	}
	if (("lockerd/dw-start") in r || ("nginx+fpm/dw-start") in r) {
		ratio("lockerd / nginx+php-fpm, DokuWiki start", "lockerd/dw-start", "nginx+fpm/dw-start", "1.0x")
		ratio("lockerd / nginx+php-fpm, DokuWiki search", "lockerd/dw-search", "nginx+fpm/dw-search", "1.0x")
		ratio("lockerd / nginx+php-fpm, MediaWiki Main", "lockerd/mw-main", "nginx+fpm/mw-main", "1.0x")
		ratio("lockerd / nginx+php-fpm, MediaWiki search", "lockerd/mw-search", "nginx+fpm/mw-search", "1.0x")
	}
	if (("lockerd/wp-front") in r || ("nginx+fpm/wp-front") in r) {
		ratio("lockerd / nginx+php-fpm, WordPress front", "lockerd/wp-front", "nginx+fpm/wp-front", "1.0x")
		ratio("lockerd / nginx+php-fpm, MediaWiki (MariaDB)", "lockerd/mw-main-db", "nginx+fpm/mw-main-db", "1.0x")
	}
	if (("nginx-h2/1k-4x25") in r || ("lockerd-h2/1k-4x25") in r || ("nginx-h1/1k-h1") in r) {
		ratio("lockerd / nginx, HTTP/2 1 KiB, 4x25", "lockerd-h2/1k-4x25", "nginx-h2/1k-4x25", "1.0x")
		ratio("lockerd / nginx, HTTP/2 1 KiB, 1x100", "lockerd-h2/1k-1x100", "nginx-h2/1k-1x100", "1.0x")
		ratio("lockerd / nginx+php-fpm, HTTP/2 PHP", "lockerd-h2/php-4x25", "nginx+fpm-h2/php-4x25", "1.0x")
		ratio("lockerd / nginx, h2load --h1 1 KiB", "lockerd-h1/1k-h1", "nginx-h1/1k-h1", "-")
	}
	if (("lockerd/hello.php") in r || ("nginx+fpm/hello.php") in r) {
		ratio("lockerd / nginx+php-fpm, hello.php", "lockerd/hello.php", "nginx+fpm/hello.php", "1.0x")
		ratio("lockerd / php-cgi per request, PHP", "lockerd/hello.php", "apache-suexec/hello.php", "100x")
	}
    }' "$S/results.tsv"
has https && echo "kTLS: $KTLS"
[ -s "$S/apps.note" ] && cat "$S/apps.note"
[ -s "$S/h2.note" ] && cat "$S/h2.note"
echo
if [ -s "$S/fpm-children" ] || [ -s "$S/pool-children" ]; then
	echo "PHP processes serving after the load run (opcache as Debian configures it):"
	[ -s "$S/fpm-children" ] && echo "  php-fpm pool (pm=ondemand):  $(cat "$S/fpm-children") children (+ its master)"
	[ -s "$S/pool-children" ] &&
	    echo "  lockerd's PHP pool:          $(cat "$S/pool-children") php-cgi processes"
	echo
fi
if [ -s "$S/cold.txt" ]; then
	set -- $(pct "$S/cold.txt"); c50=$1 c99=$2
	set -- $(pct "$S/warm.txt"); w50=$1 w99=$2
	echo "cold start ($NCOLD lockers, first request each, new connection, curl time_total):"
	echo "  first request (starts the worker):  p50 $c50 ms   p99 $c99 ms"
	echo "  second request (worker running):    p50 $w50 ms   p99 $w99 ms"
	if [ -s "$S/nginx-conn.txt" ]; then
		set -- $(pct "$S/nginx-conn.txt")
		echo "  reference, nginx, same way:         p50 $1 ms   p99 $2 ms"
	fi
	# Where the first request's time went, step by step (median of each).
	grep -h '^bench-c[0-9]*\[[0-9]*\]: coldstart ' "$S/lockerd.out" 2>/dev/null |
	    sed 's/^[^:]*: coldstart //; s/ ms$//' | awk '
		{ for (i = 1; i < NF; i += 2) { if (!($i in n)) o[++k] = $i; v[$i, ++n[$i]] = $(i + 1) } }
		END {
			if (k == 0) exit
			printf "  breakdown (p50 ms of each step, %d starts):\n   ", n[o[1]]
			for (j = 1; j <= k; j++) {
				m = n[o[j]]
				for (a = 1; a <= m; a++) x[a] = v[o[j], a]
				for (a = 2; a <= m; a++)	# insertion sort: 50 values
					for (b = a; b > 1 && x[b - 1] > x[b]; b--) { t = x[b]; x[b] = x[b - 1]; x[b - 1] = t }
				printf " %s %.2f", o[j], x[int((m + 1) / 2)]
			}
			printf "\n"
		}'
elif want lockerd && has cold; then
	echo "cold start: n/a (lockerd skipped)"
fi
if [ -n "$LOAD_FAILED" ]; then
	echo
	die "wrong status codes under load:$LOAD_FAILED"
fi
exit 0
