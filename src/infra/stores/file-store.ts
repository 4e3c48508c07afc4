import { chmodSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../../core/errors.js';
import { decodeFile, encodeFile } from './file-format.js';
import { probeWrite, removeLeftovers, writeFileAtomically } from '../atomic-write.js';
import { checkPrivateDir, ensurePrivateDir } from '../lock.js';
import type { ProcessReads, SecretStore, StoreEntry } from '../../core/ports.js';

export { skipPlainFileWarning } from './file-format.js';

export interface FileStoreOptions {
  passphrase?: string;
  warn?: (message: string) => void;
  debug?: (message: string) => void;
  /** Where this process keeps what it read of the file, for every store over the same file. */
  reads?: ProcessReads;
}

/**
 * Secrets in one JSON file, mode 0600 in a 0700 directory, optionally encrypted with AES-256-GCM
 * under a scrypt key. Writes go to a temporary file that is fsynced and renamed over the old one,
 * under a lock, so readers see the old or the new file and concurrent writers never lose updates.
 */
export class FileStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly location: string;
  readonly #file: string;
  readonly #lockDir: string;
  readonly #options: FileStoreOptions;
  // Decoded entries and the file identity they came from: a re-read after taking a lock must see
  // what another process wrote, but an unchanged file need not be parsed (or decrypted) again.
  #cache: { stamp: string; entries: Record<string, string> } | undefined;
  /** The format of the file as last read: undefined when there is no file. */
  #encrypted: boolean | undefined;

  constructor(file: string, options: FileStoreOptions = {}) {
    this.#file = file;
    // Beside the file it guards (see paths.ts lockDir): every process that writes this file, in
    // whatever session, takes the same lock.
    this.#lockDir = join(dirname(file), 'locks');
    this.#options = options;
    this.location = file;
    const seen = options.reads?.fileStore;
    if (seen?.file === file) {
      this.#cache = { stamp: seen.stamp, entries: { ...seen.entries } };
      this.#encrypted = seen.encrypted;
    }
  }

  describe(key: string): string {
    return `entry "${key}" of ${this.#file}`;
  }

  async #read(): Promise<Record<string, string>> {
    let raw: string;
    let stamp: string;
    try {
      const st = statSync(this.#file);
      // Whoever can write the directory can swap the file under us: refuse to read from it too.
      checkPrivateDir(dirname(this.#file));
      this.#checkMode(st);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (this.#cache?.stamp === stamp) return { ...this.#cache.entries };
      raw = readFileSync(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#encrypted = undefined;
        return {};
      }
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot read ${this.#file}: ${(error as Error).message}`, { cause: error });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch (error) {
      throw new StoreError(`${this.#file} is corrupt (not JSON): move it away and log in again`, { cause: error });
    }
    const { entries, encrypted } = await decodeFile(doc, this.#file, this.#options);
    this.#encrypted = encrypted;
    this.#cache = { stamp, entries: { ...entries } };
    if (this.#options.reads)
      this.#options.reads.fileStore = { file: this.#file, stamp, entries: { ...entries }, encrypted: this.#encrypted };
    return entries;
  }

  #checkMode(st: import('node:fs').Stats): void {
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new StoreError(`${this.#file} belongs to another user (uid ${st.uid}): refusing to use it`);
    }
    if ((st.mode & 0o077) !== 0) {
      // Someone (a backup restore, a careless cp) widened the mode: close it again and say so.
      chmodSync(this.#file, 0o600);
      this.#options.warn?.(`fixed permissions of ${this.#file}: was ${(st.mode & 0o777).toString(8)}, now 600`);
    }
  }

  async get(key: string): Promise<string | null> {
    return (await this.#read())[key] ?? null;
  }

  async keys(prefix: string): Promise<string[]> {
    return Object.keys(await this.#read())
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async set(key: string, value: string): Promise<void> {
    await this.commit([{ key, value }]);
  }

  /** One lock, one read, one rewrite of the file for all the entries. */
  async commit(entries: readonly StoreEntry[]): Promise<void> {
    await this.#update((all) => {
      let changed = false;
      for (const { key, value } of entries) {
        if (value !== null) all[key] = value;
        else if (!(key in all)) continue;
        else delete all[key];
        changed = true;
      }
      return changed;
    });
  }

  /**
   * Writes the file's contents to a temporary file beside it and removes that, under the lock:
   * the space and permissions a rewrite needs are proven, and the file itself is left as it is.
   */
  async probe(): Promise<void> {
    await this.#update(() => true, undefined, true);
  }

  async delete(key: string): Promise<boolean> {
    let deleted = false;
    await this.#update((entries) => {
      deleted = key in entries;
      delete entries[key];
      return deleted;
    });
    return deleted;
  }

  /**
   * `vault store encrypt|decrypt`: rewrites the file in the asked format, under the lock.
   * Resolves false when it already was in that format, or there is no file yet.
   */
  async convert(encrypt: boolean): Promise<boolean> {
    let converted = false;
    await this.#update((_, encrypted) => (converted = encrypted !== undefined && encrypted !== encrypt), encrypt);
    return converted;
  }

  /** The format of the file: encrypted, plain, or absent (nothing stored yet). */
  async format(): Promise<'encrypted' | 'plain' | 'absent'> {
    await this.#read();
    return this.#encrypted === undefined ? 'absent' : this.#encrypted ? 'encrypted' : 'plain';
  }

  async #update(
    change: (entries: Record<string, string>, encrypted: boolean | undefined) => boolean,
    encrypt?: boolean,
    probe = false,
  ): Promise<void> {
    const dir = dirname(this.#file);
    ensurePrivateDir(dir);
    // Imported here: the cached-token path reads this store and never writes it.
    const { STALE_MS, acquireLock } = await import('../lock.js');
    // No '.' in the name: every refresh lock is `<provider>.<account>` (core/usecases/refresh-lock.ts).
    const lock = await acquireLock(this.#lockDir, 'file-store', { debug: this.#options.debug });
    try {
      removeLeftovers(dir, {
        of: basename(this.#file),
        staleMs: STALE_MS,
        debug: (m) => this.#options.debug?.(`file store: ${m}`),
      });
      // Re-read under the lock: another process may have written since we last looked.
      const entries = await this.#read();
      if (!change(entries, this.#encrypted)) return;
      // A new file is encrypted when a passphrase is set; an existing one keeps its format.
      const encrypted = encrypt ?? this.#encrypted ?? Boolean(this.#options.passphrase);
      const text = await encodeFile(entries, encrypted ? this.#options.passphrase : undefined);
      try {
        if (probe) return probeWrite(this.#file, text);
        writeFileAtomically(this.#file, text);
      } catch (error) {
        throw new StoreError(
          `cannot write ${this.#file}: ${(error as Error).message} (the previous contents are intact)`,
          { cause: error },
        );
      }
      this.#options.debug?.(`file store: wrote ${this.#file}`);
    } finally {
      await lock.release();
    }
  }
}
