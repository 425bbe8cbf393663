#!/usr/bin/env bash
# scripts/try's keyring: run inside dbus-run-session, it starts gnome-keyring's Secret Service on
# that private bus, unlocked with the demo's password, then runs the demo shell (its arguments),
# so `rolecall keys` and doctor's keyring line work in the demo as on a desktop. The bus, and the
# daemon with it, end when the shell does.
set -euo pipefail
printf '%s' demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for _ in $(seq 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'; then
    exec "$@"
  fi
  sleep 0.05
done
echo "scripts/try: the demo's keyring did not start; going on without it" >&2
exec "$@"
