import {
  mkdirSync,
  readFileSync,
  statSync,
  renameSync,
  writeFileSync,
  openSync,
  fsyncSync,
  closeSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { UsageError, VaultError, ExitCode } from '../core/errors.js';
import { parseConfig, type Config } from '../core/config/providers.js';

/** Reads config.toml; a missing file is an empty configuration. */
export function loadConfig(file: string): Config {
  trustConfig(dirname(file), 'directory');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { providers: {} };
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  trustConfig(file, 'file');
  return parseConfig(text, file);
}

/**
 * The configuration decides where refresh tokens and client secrets are sent, so it is trusted
 * like the data directory: owned by this user and not writable by group or others (as ssh treats
 * ~/.ssh/config). Checked before anything is read from it; a missing directory is fine.
 */
function trustConfig(path: string, what: 'directory' | 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new UsageError(
      `the configuration ${what} ${path} belongs to another user (uid ${st.uid}), who could send your logins elsewhere: if it is yours, run \`sudo chown ${uid} ${path}\`, else remove it`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = what === 'directory' ? '700' : '600';
    throw new UsageError(
      `the configuration ${what} ${path} is writable by other users (mode ${(st.mode & 0o777).toString(8)}), who could send your logins elsewhere: run \`chmod ${mode} ${path}\``,
    );
  }
}

/** Writes config.toml atomically: temp file, fsync, rename. A failed write leaves the old file. */
export function writeConfigAtomically(file: string, text: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Unique, not secret (the directory is the user's own, and 'wx' never reuses a file): no
  // node:crypto here, which would cost every command that reads the configuration its load time.
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was created, or it is already gone; the real file is untouched.
    }
    throw new VaultError(`cannot write ${file}: ${(error as Error).message}`, ExitCode.failure, 'config_write', {
      cause: error,
    });
  }
}
