import type { Release } from '../lock.js';

export interface SetOptions {
  /** ms since the epoch after which the entry is worthless (a cached access token); null: never. */
  expiresAt?: number | null;
}

/** Where secrets live. Values are opaque strings (versioned JSON records, see core/token-set.ts). */
export interface SecretStore {
  /** Shown by `vault status`: `keychain`, `file`, `env`, `memory` or `redis`. */
  readonly kind: 'keychain' | 'file' | 'env' | 'memory' | 'redis';
  /** Where the secrets are, for messages: never a secret itself. */
  readonly location: string;
  get(key: string): Promise<string | null>;
  /** Stores that can expire entries (redis) drop the entry at `expiresAt`; the others ignore it. */
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /** Resolves true when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Keys that start with `prefix`. */
  keys(prefix: string): Promise<string[]>;
  /** Where one entry lives, for error messages about that entry. */
  describe(key: string): string;
  /**
   * Optional, for stores shared across machines: the lock `name` as every process of every machine
   * using this store sees it. When a store has one, refreshes and logins take it instead of the
   * per-user lock file, which only serialises the processes of one machine. `until`, asked between
   * attempts while another process holds the lock, ends the wait early when it answers true (the
   * holder's work is done): the Release then holds nothing (`held()` false, fenced writes refused).
   */
  lock?(name: string, options?: { until?: () => Promise<boolean> }): Promise<Release>;
  /** Optional: facts about the store's server for `vault store info` (label, value), never a secret. */
  details?(): Promise<[string, string][]>;
}
