import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Why this process could not ask the OS keychain, when `VAULT_STORE=auto` fell back to the file
// store. A login kept in the keychain (say, from the desktop) is invisible then, and a "not logged
// in" answer that only said `vault login` would lead to a second, plaintext login beside it.
let unreachable: string | undefined;

/** Records that the keychain could not be asked, and why (the first reason wins). */
export function keychainUnreachable(reason: string): void {
  unreachable ??= reason;
}

/** The D-Bus socket a systemd desktop session puts in the runtime directory, when it exists. */
function desktopBus(env: NodeJS.ProcessEnv): string | undefined {
  const runtime =
    env.XDG_RUNTIME_DIR || (typeof process.getuid === 'function' ? `/run/user/${process.getuid()}` : undefined);
  const socket = runtime && join(runtime, 'bus');
  return socket && existsSync(socket) ? socket : undefined;
}

/**
 * When the keychain could not be asked: that, and how to reach it, as one clause for messages
 * about a missing login; otherwise undefined.
 */
export function unreachableKeychainNote(env: NodeJS.ProcessEnv): string | undefined {
  if (!unreachable) return undefined;
  const bus = desktopBus(env);
  const reach = bus
    ? `run \`export DBUS_SESSION_BUS_ADDRESS=unix:path=${bus}\` to reach your desktop session's keychain, or run vault inside that session`
    : 'run vault inside your desktop session (or with its DBUS_SESSION_BUS_ADDRESS), or unlock the keyring under `dbus-run-session`';
  return `the OS keychain could not be asked (${unreachable}), so a login kept there is not visible here: ${reach}; to keep logins in the file store instead, set VAULT_STORE=file`;
}
