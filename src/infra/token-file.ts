import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-write.js';

/** A file holding the current access token, in a directory only this user can enter. */
export interface TokenFile {
  readonly path: string;
  /** Replaces the content atomically: a reader sees the old token or the new one, never a mix. */
  write(token: string): void;
  /** Removes the file and its directory; safe to call more than once. */
  remove(): void;
}

/**
 * `$XDG_RUNTIME_DIR` when it is the user's own 0700 directory (a tmpfs on systemd machines, gone
 * at reboot and never on disk), else the system temporary directory.
 */
function baseDir(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) {
    try {
      const st = lstatSync(runtime);
      if (st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0) return runtime;
    } catch {
      // Not there: fall back to the temporary directory.
    }
  }
  return tmpdir();
}

export function createTokenFile(env: NodeJS.ProcessEnv): TokenFile {
  // mkdtemp creates the directory 0700 with an unpredictable name, so no other user can put a
  // file or a symlink where the token is about to be written.
  const dir = mkdtempSync(join(baseDir(env), 'vault-token-'));
  const path = join(dir, 'token');
  return {
    path,
    write(token) {
      writeFileAtomically(path, token);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
