// A second, throwaway D-Bus session with its own unlocked gnome-keyring, for tests that must
// change the keyring's state (lock it) without disturbing the session the rest of the suite uses.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, runCommand } from './cli.js';

export interface KeyringSession {
  /** The nested session's bus: put it in a child's env as DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  /** Locks the "login" collection through org.freedesktop.Secret.Service.Lock and checks it took. */
  lock(): Promise<void>;
  stop(): Promise<void>;
}

const SECRETS = '/org/freedesktop/secrets';
const LOGIN = `${SECRETS}/collection/login`;

/**
 * Starts `scripts/with-keyring.sh` afresh (not nested in the suite's session: VAULT_IN_TEST_KEYRING
 * is dropped) and keeps it alive until stop(). The script waits until the daemon owns its name.
 */
export async function startKeyringSession(): Promise<KeyringSession> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }),
  };
  const child: ChildProcessWithoutNullStreams = spawn(
    'sh',
    [
      join(ROOT, 'scripts', 'with-keyring.sh'),
      'sh',
      '-c',
      'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null',
    ],
    { env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`keyring session did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`keyring session exited (${code}) before starting: ${stderr}`));
    });
  });
  if (!address) throw new Error(`keyring session has no bus address: ${stderr}`);
  // Its own bus, daemon and XDG directories (with-keyring.sh makes them afresh): locking it must never
  // lock the keyring the other test files use beside it.
  if (address === process.env.DBUS_SESSION_BUS_ADDRESS) throw new Error('the keyring session shares the suite bus');
  const busEnv = { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: address };
  const lockedOn = async (env: NodeJS.ProcessEnv) =>
    (
      await runCommand(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.secrets',
          LOGIN,
          'org.freedesktop.DBus.Properties.Get',
          'string:org.freedesktop.Secret.Collection',
          'string:Locked',
        ],
        { env },
      )
    ).stdout;

  return {
    address,
    async lock() {
      const locked = await runCommand(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.secrets',
          SECRETS,
          'org.freedesktop.Secret.Service.Lock',
          `array:objpath:${LOGIN}`,
        ],
        { env: busEnv },
      );
      if (locked.code !== 0) throw new Error(`locking the keyring failed: ${locked.stderr}`);
      const state = await lockedOn(busEnv);
      if (!/boolean true/.test(state)) throw new Error(`the login collection is not locked after Lock: ${state}`);
      // The suite's own keyring, which other files use at the same time, stays unlocked.
      if (process.env.DBUS_SESSION_BUS_ADDRESS) {
        const suite = await lockedOn({
          PATH: process.env.PATH,
          DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
        });
        if (!/boolean false/.test(suite)) throw new Error(`locking the session's keyring locked the suite's: ${suite}`);
      }
    },
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(timer);
    },
  };
}
