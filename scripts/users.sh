#!/bin/sh
# The system users lockerd's unprivileged processes run as (front, logd,
# keyd, sqld, the outgoing mail role, maild and lockerd-dirsync).  Lockers themselves get no account: their names exist only inside
# their own sandboxes.
set -eu
for u in "${1:-lockerd}" "${2:-lockerd-log}" "${3:-lockerd-key}" "${4:-lockerd-sql}" \
    "${5:-lockerd-mail}" "${6:-lockerd-mailin}" "${7:-lockerd-dir}"; do
	if ! getent passwd "$u" >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$u"
		echo "users: created system user $u"
	fi
done
