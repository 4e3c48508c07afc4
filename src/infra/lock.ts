import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, VaultError, ExitCode } from '../core/errors.js';

/**
 * Releases the lock; `held()` tells whether it is still ours (see acquireLock; a network store's
 * lock asks its server). A network store's lock also carries `fencedSet`: a write of `key` that
 * the store refuses (false) when a later holder of the same lock has written it since, so a
 * holder that was paused past its lease cannot put back a spent refresh token.
 */
export type Release = (() => Promise<void>) & {
  held(): boolean | Promise<boolean>;
  fencedSet?(key: string, value: string): Promise<boolean>;
};

export interface LockOptions {
  /** How long to wait for another process before giving up, in ms. */
  waitMs?: number;
  debug?: (message: string) => void;
}

// A holder refreshes the lock's mtime every STALE_MS/2; a lock not refreshed for STALE_MS belongs
// to a dead process (SIGKILL, power loss) and is taken over. proper-lockfile's minimum is 5 s.
export const STALE_MS = 5000;

/**
 * Makes sure `dir` exists, belongs to this user and is closed to others. A lock or data directory
 * someone else can write to could be used to block us or to swap files under us.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDir(dir);
}

/** The checks of ensurePrivateDir for a directory that must already exist. */
export function checkPrivateDir(dir: string): void {
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    // Typically made under sudo; anything else may have been planted to interfere with us.
    throw new StoreError(`${dir} belongs to another user (uid ${st.uid}): refusing to use it; if it is yours, run \`sudo chown -R ${uid} ${dir}\`, else remove it`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new StoreError(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): run \`chmod 700 ${dir}\``);
  }
}

function lockIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * Takes the named cross-process lock in `dir`, waiting for its holder when needed.
 * Lock names must be safe file names (they are built from validated provider and account names).
 */
export async function acquireLock(dir: string, name: string, options: LockOptions = {}): Promise<Release> {
  ensurePrivateDir(dir);
  const { lock } = (await import('proper-lockfile')).default;
  const file = join(dir, name);
  const waitMs = options.waitMs ?? 60_000;
  const started = Date.now();
  options.debug?.(`lock ${name}: acquiring`);
  for (;;) {
    try {
      const release = await lock(file, {
        realpath: false,
        stale: STALE_MS,
        retries: { retries: 40, factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true },
        onCompromised: (error) => options.debug?.(`lock ${name}: compromised (${error.message})`),
      });
      options.debug?.(`lock ${name}: acquired after ${Date.now() - started}ms`);
      // A holder paused for longer than STALE_MS (Ctrl-Z, a debugger, a suspended laptop) loses the
      // lock to the next process. The lock directory it created is then gone or replaced: its inode
      // and birth time identify it, checked synchronously right before anything irreversible.
      const identity = lockIdentity(`${file}.lock`);
      return Object.assign(
        async () => {
          try {
            await release();
          } catch {
            // Already released or taken over as stale: nothing of ours is left to clean up.
          }
          options.debug?.(`lock ${name}: released`);
        },
        { held: () => identity !== undefined && lockIdentity(`${file}.lock`) === identity },
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') {
        throw new StoreError(`cannot take lock ${file}: ${(error as Error).message}`, { cause: error });
      }
      if (Date.now() - started > waitMs) {
        throw new VaultError(
          `timed out after ${Math.round(waitMs / 1000)}s waiting for another vault process holding ${file}`,
          ExitCode.temporary,
          'lock_timeout',
        );
      }
    }
  }
}
