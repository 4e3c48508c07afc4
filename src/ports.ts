/**
 * The ports: what core code needs from the outside world, as interfaces. Adapters live in infra/
 * (stores, locks, streams); main.ts wires them; tests substitute in-memory ones.
 */
import type { Readable, Writable } from 'node:stream';

/** The process's streams, swappable in tests. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
}

export interface Clock {
  now(): number;
}

/** Everything a command may touch outside itself; built once in main.ts. */
export interface Deps {
  io: Io;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
}

/**
 * Releases the lock; `held()` tells whether it is still ours (see acquireLock; a network store's
 * lock asks its server). A network store's lock also carries `fencedSet`: a write of `key` that
 * the store refuses (false) when a later holder of the same lock has written it since, so a
 * holder that was paused past its lease cannot put back a spent refresh token.
 */
export type Release = (() => Promise<void>) & {
  /** Whether the lock is still ours; true also commits it to a grant (see INFLIGHT_MS, or the lease's stretch). */
  held(): boolean | Promise<boolean>;
  /** A lock file's check alone, with no commitment: for writes before the grant that no fence guards. */
  stillHeld?(): boolean;
  fencedSet?(key: string, value: string): Promise<boolean>;
};

export interface LockOptions {
  /** How long to wait for another process before giving up, in ms. */
  waitMs?: number;
  debug?: (message: string) => void;
}

export interface SetOptions {
  /** ms since the epoch after which the entry is worthless (a cached access token); null: never. */
  expiresAt?: number | null;
}

/** Where secrets live. Values are opaque strings (versioned JSON records, see core/credentials.ts). */
export interface SecretStore {
  /** Shown by `vault status`: `keychain`, `file`, `memory` or `redis`. */
  readonly kind: 'keychain' | 'file' | 'memory' | 'redis';
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
