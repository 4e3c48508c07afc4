import { createRequire } from 'node:module';
import { KeychainUnavailableError, StoreError } from '../../core/errors.js';
import type { SecretStore, StoreEntry } from '../../core/ports.js';

type Keyring = typeof import('@napi-rs/keyring');
type Entry = import('@napi-rs/keyring').Entry;

// Loaded with require(): through ESM `import` the native binding costs ~40 ms of start-up, through
// require() ~3 ms, and `vault token` with a cached token reads the keychain on its hot path.
let keyring: Keyring | undefined;
function loadKeyring(): Keyring {
  keyring ??= createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;
  return keyring;
}

// On Linux, pin entries to the Secret Service: the library's default silently falls back to the
// kernel keyring, which does not outlive the session and is not what users inspect or back up.
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };

/** Turns a keyring failure into a one-line, secret-free explanation. */
export function keyringFailure(error: unknown): StoreError {
  const message = error instanceof Error ? error.message : String(error);
  if (/locked|unlock|prompt/i.test(message)) {
    return new StoreError(
      // Not VAULT_STORE=file: that store does not see the logins kept in the keychain, so it
      // would start a second, separate login instead of using this one.
      'the keychain is locked: unlock it first (log in to the desktop session, or unlock the "login" keyring in your keyring manager), then run the command again',
      { cause: error },
    );
  }
  if (/dbus|d-bus|secret service|org\.freedesktop|no such|not provided|platform/i.test(message)) {
    return new KeychainUnavailableError(
      'no OS keychain available (the Secret Service is not running on the session bus): start gnome-keyring or KeePassXC, or use VAULT_STORE=file',
      { cause: error },
    );
  }
  return new StoreError(`the keychain failed: ${message.split('\n')[0]}`, { cause: error });
}

/**
 * The OS keychain through @napi-rs/keyring: macOS Keychain, Windows Credential Manager, or the
 * freedesktop Secret Service. Uses getSecret(), which throws on a locked keyring, and never
 * getPassword(), which answers null for "locked" and "absent" alike.
 */
export class KeyringStore implements SecretStore {
  readonly kind = 'keychain' as const;
  readonly location: string;
  readonly #service: string;
  readonly #entries = new Map<string, Entry>();

  constructor(service: string) {
    this.#service = service;
    this.location = `OS keychain (service "${service}")`;
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = new (loadKeyring().Entry)(this.#service, key, ENTRY_OPTIONS);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  async get(key: string): Promise<string | null> {
    try {
      const secret = this.#entry(key).getSecret();
      if (secret !== null) return Buffer.from(secret).toString('utf8');
      // A locked collection answers null for a missing entry, like an empty one. Listing the
      // service's entries fails on a locked collection, so "not found" is only believed after it.
      loadKeyring().findCredentials(this.#service);
      return null;
    } catch (error) {
      throw keyringFailure(error);
    }
  }

  async set(key: string, value: string): Promise<void> {
    try {
      this.#entry(key).setSecret(Buffer.from(value, 'utf8'));
    } catch (error) {
      throw keyringFailure(error);
    }
  }

  /** One keychain call per entry, in order: the Secret Service has no transaction to put them in. */
  async commit(entries: readonly StoreEntry[]): Promise<void> {
    for (const { key, value } of entries) {
      if (value === null) await this.delete(key);
      else await this.set(key, value);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return this.#entry(key).deleteCredential();
    } catch (error) {
      throw keyringFailure(error);
    }
  }

  async keys(prefix: string): Promise<string[]> {
    // findCredentials takes no store option: without this probe through an entry pinned to the
    // Secret Service it could answer from another store, or [] for a locked keyring.
    await this.get('probe');
    try {
      return loadKeyring()
        .findCredentials(this.#service)
        .map((c) => c.account)
        .filter((k) => k.startsWith(prefix))
        .sort();
    } catch (error) {
      throw keyringFailure(error);
    }
  }

  describe(key: string): string {
    return `keychain entry "${key}" (service "${this.#service}")`;
  }
}
