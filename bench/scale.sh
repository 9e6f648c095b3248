#!/bin/sh
# bench/scale.sh BUILD_DIR — lockerd at scale (issue 13): 1,000 warm PHP
# lockers against php-fpm's 1,000 ondemand pools, 10,000 kept connections
# against nginx, 100,000 lockers and vhosts in the directory, and cold
# starts.  Run as root (make bench-scale).  Each part runs alone with
# SCALE_PARTS; see bench/README.md ("Scale") for the figures and knobs.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench-scale: run as root" >&2; exit 1; }
for t in wrk nginx curl; do
	command -v $t >/dev/null || { echo "bench-scale: $t is missing (make deps-bench)" >&2; exit 1; }
done
# wrk and the servers need descriptors for 10,000 connections each side.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$HERE/scale.py" "${1:-build}"
