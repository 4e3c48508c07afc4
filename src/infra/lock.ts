import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreError, VaultError } from '../core/errors.js';
import type { Lock, LockOptions } from '../core/ports.js';

// A holder refreshes the lock's mtime every STALE_MS/2; a lock not refreshed for STALE_MS belongs
// to a dead process (SIGKILL, power loss) and is taken over. proper-lockfile's minimum is 5 s.
export const STALE_MS = 5000;

// Once a holder may have sent a refresh grant, taking its lock over would spend the same refresh
// token twice, and a rotating server then revokes the login (RFC 9700 §4.14.2). A holder starved of
// CPU (a storm of processes on a small machine) cannot refresh its lock's mtime, so from
// `commitToGrant()` on it marks the lock as committed (`<lock>.inflight`); waiters then treat it as
// stale only after INFLIGHT_MS, or at once when the marking process is gone. A grant and its
// retries end well within it.
const INFLIGHT_MS = 120_000;

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long waiters must wait before taking over the lock at `file`, given its in-flight marker. */
function staleFor(file: string): number {
  // No marker, or a damaged one: the ordinary rule.
  const [pid, identity, until] = readQuietly(`${file}.inflight`).split(' ');
  const left = Number(until) - Date.now();
  if (identity && identity === lockIdentity(`${file}.lock`) && left > 0 && processAlive(Number(pid)))
    return Math.max(STALE_MS, left);
  return STALE_MS;
}

/**
 * Makes sure `dir` exists, belongs to this user and is closed to others. A lock or data directory
 * someone else can write to could be used to block us or to swap files under us.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError(`cannot create ${dir}: ${whyNotWritable(dir, error as NodeJS.ErrnoException)}`);
  }
  checkPrivateDir(dir);
}

/**
 * The reason a directory could not be made. A recursive mkdir on a read-only filesystem reports
 * ENOENT; asking the nearest existing ancestor for write access names the real cause (EROFS, EACCES).
 */
function whyNotWritable(dir: string, error: NodeJS.ErrnoException): string {
  let ancestor = dirname(dir);
  while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
  try {
    accessSync(ancestor, constants.W_OK);
  } catch (denied) {
    return `${(denied as NodeJS.ErrnoException).code}: ${ancestor} is not writable`;
  }
  return error.code ?? error.message;
}

/** The checks of ensurePrivateDir for a directory that must already exist. */
export function checkPrivateDir(dir: string): void {
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    // Typically made under sudo; anything else may have been planted to interfere with us.
    throw new StoreError(
      `${dir} belongs to another user (uid ${st.uid}): refusing to use it; if it is yours, run \`sudo chown -R ${uid} ${dir}\`, else remove it`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new StoreError(
      `${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): run \`chmod 700 ${dir}\``,
    );
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

function readQuietly(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Takes the named cross-process lock in `dir`, waiting for its holder when needed.
 * Lock names must be safe file names (they are built from validated provider and account names).
 */
export async function acquireLock(dir: string, name: string, options: LockOptions = {}): Promise<Lock> {
  ensurePrivateDir(dir);
  const { lock } = (await import('proper-lockfile')).default;
  const file = join(dir, name);
  const waitMs = options.waitMs ?? 60_000;
  const started = Date.now();
  options.debug?.(`lock ${name}: acquiring`);
  for (;;) {
    try {
      const unlock = await lock(file, {
        realpath: false,
        stale: staleFor(file),
        retries: { retries: 40, factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true },
        onCompromised: (error) => options.debug?.(`lock ${name}: compromised (${error.message})`),
      });
      options.debug?.(`lock ${name}: acquired after ${Date.now() - started}ms`);
      // A holder paused for longer than STALE_MS (Ctrl-Z, a debugger, a suspended laptop) loses the
      // lock to the next process. The lock directory it created is then gone or replaced: its inode
      // and birth time identify it, checked synchronously right before anything irreversible.
      const identity = lockIdentity(`${file}.lock`);
      const marker = `${file}.inflight`;
      let marked = false;
      const ours = () => identity !== undefined && lockIdentity(`${file}.lock`) === identity;
      return {
        async release() {
          // Only our own marker: after INFLIGHT_MS another holder may have marked the lock anew.
          if (marked && readQuietly(marker).startsWith(`${process.pid} ${identity} `)) unlinkQuietly(marker);
          try {
            await unlock();
          } catch {
            // Already released or taken over as stale: nothing of ours is left to clean up.
          }
          options.debug?.(`lock ${name}: released`);
        },
        stillOurs: async () => ours(),
        async commitToGrant() {
          if (!ours()) return false;
          writeFileSync(marker, `${process.pid} ${identity} ${Date.now() + INFLIGHT_MS}`, { mode: 0o600 });
          marked = true;
          return true;
        },
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') {
        throw new StoreError(`cannot take lock ${file}: ${(error as Error).message}`, { cause: error });
      }
      if (Date.now() - started > waitMs) {
        throw new VaultError(
          'temporary',
          `timed out after ${Math.round(waitMs / 1000)}s waiting for another vault process holding ${file}`,
        );
      }
    }
  }
}
