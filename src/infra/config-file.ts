import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError, VaultError } from '../core/errors.js';
import { parseConfig } from '../core/config/parse-config.js';
import type { Config } from '../core/config/providers.js';
import type { ProcessReads } from '../core/ports.js';
import { writeFileAtomically } from './atomic-write.js';

/** config.toml's text once the directory and the file are trusted; undefined when there is none. */
export function readConfigText(file: string): string | undefined {
  trustConfig(dirname(file), 'directory');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  trustConfig(file, 'file');
  return text;
}

/**
 * Reads config.toml; a missing file is an empty configuration. With `reads`, the text this process
 * read before is used, and a first read is kept there.
 */
export function loadConfig(file: string, reads?: ProcessReads): Config {
  let text: string | undefined;
  if (reads?.config?.file === file) text = reads.config.text;
  else {
    text = readConfigText(file);
    if (reads) reads.config = { file, text };
  }
  return text === undefined ? { providers: {} } : parseConfig(text, file);
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

/** Writes a configuration file atomically (see writeFileAtomically). A failed write leaves the old file. */
export function writeConfigAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileAtomically(file, text);
  } catch (error) {
    throw new VaultError('failure', `cannot write ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
