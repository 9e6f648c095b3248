#!/bin/sh
# `make run`: start lockerd in the foreground on the embedded demo
# configuration, with two demo lockers, and print their URLs.  Ctrl-C stops
# it; the demo directory is removed, so a second run starts clean.
set -eu
B=${1:-build}
CONF=$(pwd)/etc/demo.conf
DEMO=/var/lib/lockerd-demo
LOCKERD=$(pwd)/$B/lockerd
LOCKER="$(pwd)/$B/locker -c $CONF"

[ "$(id -u)" -eq 0 ] || { echo "make run: must run as root (sudo make run)" >&2; exit 1; }
sh scripts/users.sh
if [ -S $DEMO/state/control.sock ] && $LOCKER list >/dev/null 2>&1; then
	echo "make run: a demo lockerd is already running (control socket answers)" >&2
	exit 1
fi
rm -rf $DEMO
chmod 644 "$CONF"

$LOCKERD -c "$CONF" &
pid=$!
cleanup() {
	kill -TERM $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	rm -rf $DEMO
}
trap cleanup EXIT
trap 'exit 0' INT TERM

i=0
until $LOCKER list >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 $pid 2>/dev/null; then
		echo "make run: lockerd did not start" >&2
		exit 1
	fi
	sleep 0.1
done

page() {	# locker, file, content: written as the locker, in its sandbox
	printf '%s\n' "$3" | $LOCKER run "$1" -- sh -c "cat > \$HOME/web_scripts/$2 && chmod 600 \$HOME/web_scripts/$2"
}
for l in alice bob; do
	$LOCKER signup $l >/dev/null
	page $l index.html "<!DOCTYPE html><html><head><title>$l's locker</title>
<link rel=stylesheet href=style.css></head><body><h1>Hello from $l</h1>
<p>This page is $l's own file, mode 0600, opened with $l's uid by $l's worker
and sent by lockerd's front without it ever being able to open it itself.</p>
</body></html>"
	page $l style.css "body { font-family: sans-serif; margin: 3em; }"
done

cat <<MSG

lockerd is running (pid $pid) with two demo lockers:

  http://alice.localhost:8080/      http://localhost:8080/~alice/
  http://bob.localhost:8080/        http://localhost:8080/~bob/

  sudo $B/locker -c etc/demo.conf list      # the CLI
  logs: $DEMO/logs/access.log

Press Ctrl-C to stop.
MSG
wait $pid
