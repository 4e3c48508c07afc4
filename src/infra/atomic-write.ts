import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './lock.js';

/** `.<file name>.<pid>.<random>.tmp`: the writer's pid tells a cleaner whether it is still alive. */
const TEMP = /^\.(.+)\.(\d+)\.[a-z0-9]+\.tmp$/;

/** A unique temporary file beside `file`, named after it and after this process. */
export function tempPathFor(file: string): string {
  // Unique, not secret: the directory is the user's own, and 'wx' never reuses or follows
  // anything already there. No node:crypto here: loading it costs every command milliseconds.
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/** Removes `path`, if it is there. */
function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Never created, or already renamed.
  }
}

/**
 * Writes `data` to a new 0600 temporary file beside `file`, fsynced and closed, and returns its
 * path. A failure leaves no temporary file behind.
 */
function writeTemp(file: string, data: string | Uint8Array): string {
  const tmp = tempPathFor(file);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    // writeSync may write less than asked (disk full, RLIMIT_FSIZE) without throwing;
    // writeFileSync on the descriptor loops until all is written or the write fails.
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    unlinkQuietly(tmp);
    throw error;
  }
  closeSync(fd);
  return tmp;
}

/**
 * Replaces `file` with `data` so that a reader sees the old or the new contents, whole, and a
 * crash leaves one of them: a 0600 temporary file in the same directory, written out and fsynced,
 * renamed over the file, then the directory fsynced (POSIX: the rename is data of the directory).
 * A failure removes the temporary file and rethrows; the file itself is then untouched.
 */
export function writeFileAtomically(file: string, data: string | Uint8Array): void {
  const tmp = writeTemp(file, data);
  try {
    renameSync(tmp, file);
  } catch (error) {
    unlinkQuietly(tmp);
    throw error;
  }
  try {
    const dfd = openSync(dirname(file), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename has happened all the same.
  }
}

/**
 * Writes a temporary copy of `data` beside `file` and removes it: proves that the filesystem takes
 * a write of that size now (space, quota, read-only mount) without changing `file`.
 */
export function probeWrite(file: string, data: string | Uint8Array): void {
  unlinkQuietly(writeTemp(file, data));
}

export interface LeftoverOptions {
  /** Only the temporary files of this file name; by default, every one in the directory. */
  of?: string;
  /**
   * Also those older than this many ms, whoever wrote them: for files written under a lock, whose
   * writer lost the lock after that long and must not rename its file over newer contents anyway.
   */
  staleMs?: number;
  debug?: (message: string) => void;
}

/**
 * Temporary files hold secrets, and a writer that died mid-write leaves one behind. Only files
 * whose writer is provably gone are removed: its pid (in the name) is dead, or (with `staleMs`)
 * the file is older than that. A live writer's fresh file is never touched.
 */
export function removeLeftovers(dir: string, options: LeftoverOptions = {}): void {
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name);
    if (!m || (options.of !== undefined && m[1] !== options.of)) continue;
    const path = join(dir, name);
    try {
      const pid = Number(m[2]);
      if (pid !== process.pid && processAlive(pid)) {
        if (options.staleMs === undefined || Date.now() - statSync(path).mtimeMs < options.staleMs) continue;
      }
      unlinkSync(path);
      options.debug?.(`removed leftover ${name}`);
    } catch {
      // Gone already; nothing to clean.
    }
  }
}
