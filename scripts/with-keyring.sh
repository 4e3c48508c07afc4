#!/bin/sh
# Runs a command inside a throwaway D-Bus session with an unlocked gnome-keyring, in fresh
# XDG directories, so that nothing touches the user's own keychain, config or data.
set -eu
if [ "${VAULT_IN_TEST_KEYRING:-}" != 1 ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/vault-keyring.XXXXXX")
  mkdir -p "$tmp/data" "$tmp/runtime" "$tmp/config" "$tmp/home"
  chmod 700 "$tmp/runtime"
  trap 'rm -rf "$tmp"' EXIT INT TERM
  export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime" XDG_CONFIG_HOME="$tmp/config" HOME="$tmp/home"
  export VAULT_TEST_KEYRING_PASSWORD="vault-test-password" VAULT_IN_TEST_KEYRING=1
  dbus-run-session -- "$0" "$@"
  exit $?
fi
# gnome-keyring reads the password byte-exact from stdin; an empty one would create no collection.
printf %s "$VAULT_TEST_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# --unlock returns before the daemon owns the name; the first call must not start a second daemon.
# Then wait for the unlocked "login" collection itself: a call before it exists would need a prompt
# to create one, which vault reports as a locked keychain. Generous bounds (30 s each): a loaded
# machine starts the daemon slowly.
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
  i=$((i + 1))
  [ "$i" -lt 600 ] || { echo "gnome-keyring did not take org.freedesktop.secrets" >&2; exit 1; }
  sleep 0.05
done
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
    org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked 2>/dev/null |
    grep -q 'boolean false'; do
  i=$((i + 1))
  [ "$i" -lt 600 ] || { echo "gnome-keyring did not unlock its login collection" >&2; exit 1; }
  sleep 0.05
done
exec "$@"
