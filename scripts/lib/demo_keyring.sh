#!/usr/bin/env bash
# scripts/try's keyring: on the demo's private session bus (DBUS_SESSION_BUS_ADDRESS), starts
# gnome-keyring's Secret Service unlocked with the demo's password and waits until it answers,
# so `rolecall keys` and doctor's keyring line work in the demo as on a desktop. The daemon ends
# with the bus.
set -euo pipefail
printf '%s' demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for _ in $(seq 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'; then
    exit 0
  fi
  sleep 0.05
done
echo "scripts/try: the demo's keyring did not start; going on without it" >&2
