import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  constants,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { StoreError } from '../../core/errors.js';
import { removeLeftovers, writeFileAtomically } from '../atomic-write.js';

const ACCESS_PREFIX = 'at:';
// Longest file name most Linux file systems take is 255 bytes; longer keys are named by hash.
const MAX_NAME = 255;
const HASHED = 'sha256-';
const MAX_FILE = 64 * 1024;

/**
 * The access-token cache directory of the keychain store, `$XDG_RUNTIME_DIR/vault/access`, or
 * undefined when there is no safe place for it. The XDG Base Directory spec requires the runtime
 * directory to be owned by the user with mode 0700 (systemd's `/run/user/UID` is, on a tmpfs):
 * anything else (unset, relative, a symlink, group- or world-accessible, someone else's) gets no
 * file cache. macOS and Windows keep per-application ACLs on keychain entries, which a file
 * would lose: Linux only.
 */
export function runtimeAccessDir(env: NodeJS.ProcessEnv): string | undefined {
  const runtime = env.XDG_RUNTIME_DIR;
  if (process.platform !== 'linux' || !runtime || !isAbsolute(runtime)) return undefined;
  try {
    const st = lstatSync(runtime);
    if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o777) !== 0o700) return undefined;
  } catch {
    return undefined;
  }
  return join(runtime, 'vault', 'access');
}

function privateDir(dir: string): void {
  mkdirSync(dir, { mode: 0o700, recursive: true });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new StoreError(
      `${dir} is not a private directory of this user (mode ${(st.mode & 0o777).toString(8)}, uid ${st.uid}): remove it`,
    );
  }
}

/**
 * Access tokens, one 0600 file per (provider, account, scope set) in a 0700 directory. A file's
 * name is its store key minus `at:`, base64url-encoded (reversible, so distinct keys never share a
 * file), or `sha256-<hex>` when that would be too long; either way the file holds its key too, and a
 * file whose key differs is not answered. The cache is disposable: a file that is corrupt, not a
 * regular file, someone else's or open to others is a miss, and the next refresh replaces it.
 */
export class AccessFileCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  static handles(key: string): boolean {
    return key.startsWith(ACCESS_PREFIX);
  }

  async #name(key: string): Promise<string> {
    const name = Buffer.from(key.slice(ACCESS_PREFIX.length), 'utf8').toString('base64url');
    if (name.length <= MAX_NAME) return name;
    // node:crypto costs milliseconds to load: only keys this long (many scopes) pay for it.
    const { createHash } = await import('node:crypto');
    return HASHED + createHash('sha256').update(key).digest('hex');
  }

  describe(key: string): string {
    return `access-token cache for "${key}" in ${this.dir}`;
  }

  /** The file's `{key, value}`, or undefined when it is missing or not to be trusted. */
  #read(file: string): { key: string; value: string } | undefined {
    try {
      const text = readPrivateFile(file);
      if (text === undefined) return undefined;
      const doc = JSON.parse(text) as unknown;
      if (typeof doc !== 'object' || doc === null) return undefined;
      const { v, key, value } = doc as { v?: unknown; key?: unknown; value?: unknown };
      return v === 1 && typeof key === 'string' && typeof value === 'string' ? { key, value } : undefined;
    } catch {
      return undefined;
    }
  }

  async get(key: string): Promise<string | null> {
    const entry = this.#read(join(this.dir, await this.#name(key)));
    return entry?.key === key ? entry.value : null;
  }

  async set(key: string, value: string): Promise<void> {
    const file = join(this.dir, await this.#name(key));
    try {
      privateDir(join(this.dir, '..'));
      privateDir(this.dir);
      // No lock guards this directory: only a dead writer's temporary file is removed.
      removeLeftovers(this.dir);
      // The rename replaces the old file whoever owned it (the directory is ours).
      writeFileAtomically(file, JSON.stringify({ v: 1, key, value }));
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot write the access-token cache ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      unlinkSync(join(this.dir, await this.#name(key)));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StoreError(`cannot remove from the access-token cache ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async keys(prefix: string): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const keys: string[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const key = name.startsWith(HASHED)
        ? this.#read(join(this.dir, name))?.key
        : ACCESS_PREFIX + Buffer.from(name, 'base64url').toString('utf8');
      if (key?.startsWith(prefix) && (await this.#name(key)) === name) keys.push(key);
    }
    return keys.sort();
  }
}

/**
 * A file of ours to trust: a regular file (O_NOFOLLOW: a symlink planted in its place is not
 * followed), owned by us, readable by nobody else, at most MAX_FILE bytes; else undefined.
 */
export function readPrivateFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0 || st.size > MAX_FILE) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
