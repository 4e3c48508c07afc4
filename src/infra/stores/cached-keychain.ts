import { AccessFileCache } from './access-cache.js';
import type { SecretStore, StoreEntry } from '../../core/ports.js';

/**
 * The keychain store with its access tokens (`at:` keys) in files of the runtime directory
 * (access-cache.ts). Refresh tokens and client secrets stay in the keychain. The Secret Service
 * hands every process of the user the same secrets, so a 0600 file in the user's 0700 runtime
 * directory is no weaker against a same-user attacker, and it spares `vault token` the D-Bus
 * session it would open just to read a token that lives an hour (gcloud and kubelogin keep their
 * access tokens in plain files too).
 *
 * With `useFiles` false (`VAULT_ACCESS_CACHE=store`) access tokens are kept in the keychain, but
 * deleting one and listing them still cover both places: a logout, a new login or git's `erase`
 * must not leave a token behind in the place that is not in use right now.
 */
export class CachedKeychain implements SecretStore {
  readonly kind = 'keychain' as const;
  readonly #keychain: SecretStore;
  readonly #files: AccessFileCache;
  readonly #useFiles: boolean;

  constructor(keychain: SecretStore, files: AccessFileCache, useFiles: boolean) {
    this.#keychain = keychain;
    this.#files = files;
    this.#useFiles = useFiles;
  }

  get location(): string {
    return this.#keychain.location;
  }

  /** Whether `key` is read and written without the keychain. */
  inFiles(key: string): boolean {
    return this.#useFiles && AccessFileCache.handles(key);
  }

  get(key: string): Promise<string | null> {
    return this.inFiles(key) ? this.#files.get(key) : this.#keychain.get(key);
  }

  set(key: string, value: string): Promise<void> {
    return this.inFiles(key) ? this.#files.set(key, value) : this.#keychain.set(key, value);
  }

  /** In order, each entry where it lives (see SecretStore.commit). */
  async commit(entries: readonly StoreEntry[]): Promise<void> {
    for (const { key, value } of entries) {
      if (value === null) await this.delete(key);
      else await this.set(key, value);
    }
  }

  async delete(key: string): Promise<boolean> {
    if (!AccessFileCache.handles(key)) return this.#keychain.delete(key);
    const fromFiles = await this.#files.delete(key);
    return (await this.#keychain.delete(key)) || fromFiles;
  }

  async keys(prefix: string): Promise<string[]> {
    const keys = new Set(await this.#keychain.keys(prefix));
    for (const key of await this.#files.keys(prefix)) keys.add(key);
    return [...keys].sort();
  }

  describe(key: string): string {
    return this.inFiles(key) ? this.#files.describe(key) : this.#keychain.describe(key);
  }
}
