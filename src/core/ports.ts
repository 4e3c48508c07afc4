/**
 * The ports: what core code needs from the outside world, as interfaces. Adapters live in infra/
 * (stores, locks, streams); main.ts wires them; tests substitute in-memory ones. The ports of
 * OAuth and of the person logging in are in login-ports.ts (re-exported here).
 */
import type { Readable, Writable } from 'node:stream';
import type { Config } from './config/providers.js';

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

/**
 * What this process has read of config.toml and the file store, as plain data. The cached-token
 * path fills it; on a miss the full CLI starts from it instead of reading the same files again.
 */
export interface ProcessReads {
  /** config.toml's path and text (undefined: there is no file). */
  config?: { file: string; text: string | undefined };
  /** The file store's decoded entries, and the identity (inode, size, mtime) of the file they came from. */
  fileStore?: { file: string; stamp: string; entries: Record<string, string>; encrypted: boolean | undefined };
  /** What was read from stdin (a credential helper's request), and whether that was all of it. */
  stdin?: { bytes: Buffer; ended: boolean };
}

/** Everything a command may touch outside itself; built once in main.ts. */
export interface Deps {
  io: Io;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
  /** Shared by everything in the process that reads config.toml or the file store (see ProcessReads). */
  reads?: ProcessReads;
}

/**
 * A cross-process lock this process holds (see acquireLock). Before a refresh grant a holder may
 * have lost it unawares: paused (Ctrl-Z, a debugger, a suspended laptop) or starved of CPU past
 * what its lock tolerates, after which another process takes it.
 */
export interface Lock {
  release(): Promise<void>;
  /**
   * Whether the lock is still this holder's, with no side effect: a lock file checks its identity,
   * a lease answers what its renewals found.
   */
  stillOurs(): Promise<boolean>;
  /**
   * Asked right before the refresh grant is sent: proves the lock is still ours and commits it to
   * the grant, so that no other process takes it over while the grant may be in flight (a lock
   * file writes its in-flight marker, see INFLIGHT_MS; a lease is stretched, see acquireLease).
   * False: the lock was lost, and the holder starts over from the store.
   */
  commitToGrant(): Promise<boolean>;
}

/**
 * The refresh lock of one login (see core/usecases/refresh-lock.ts): whoever writes the login
 * writes it through `commit`, so a holder that lost the lock cannot put back a refresh token that
 * a later holder has rotated since.
 */
export interface RefreshLock extends Lock {
  /**
   * Commits `entries`, the first being the login record (see SecretStore.commit). Under a lock
   * file, the store's own write; under a network store's lease, a fenced write that the store
   * refuses when a later holder of the same lock wrote first. False: refused, nothing was written.
   */
  commit(entries: readonly StoreEntry[]): Promise<boolean>;
}

export interface LockOptions {
  /** How long to wait for another process before giving up, in ms. */
  waitMs?: number;
  debug?: (message: string) => void;
}

export interface SetOptions {
  /** ms since the epoch after which the entry is worthless (a cached access token); null: never. */
  expiresAt?: number | null;
}

/** One change of a commit: `value` null deletes the entry. */
export interface StoreEntry {
  key: string;
  value: string | null;
  /** As SetOptions.expiresAt. */
  expiresAt?: number | null;
}

/** Where secrets live. Values are opaque strings (versioned JSON records, see core/credentials.ts). */
export interface SecretStore {
  /** Its name in the registry of stores (infra/stores/registry.ts), or `memory`; shown by `vault status`. */
  readonly kind: string;
  /** Where the secrets are, for messages: never a secret itself. */
  readonly location: string;
  get(key: string): Promise<string | null>;
  /** Stores that can expire entries (redis) drop the entry at `expiresAt`; the others ignore it. */
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /**
   * Writes (or deletes) several entries as one change: the file store rewrites its file once, a
   * network store sends them together. A store that can only write one entry at a time (the
   * keychain) writes them in order, so a failure never leaves a later entry without an earlier one.
   */
  commit(entries: readonly StoreEntry[]): Promise<void>;
  /**
   * Optional: proves that the store takes a write now (disk space, a read-only mount, permissions)
   * without changing what it holds. Stores without it are proven by writing an entry back.
   */
  probe?(): Promise<void>;
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
   * holder's work is done): the lock then holds nothing (every question answers false, commits are
   * refused).
   */
  lock?(name: string, options?: { until?: () => Promise<boolean> }): Promise<RefreshLock>;
  /** Optional: facts about the store's server for `vault store info` (label, value), never a secret. */
  details?(): Promise<[string, string][]>;
}

/** Named cross-process locks (infra/lock.ts: lock files beside the store). */
export interface Locks {
  acquire(name: string): Promise<Lock>;
}

/** Critical sections that termination signals wait for (infra/signals.ts). */
export interface Signals {
  /** Runs `fn`; a signal arriving meanwhile is honoured once it ends, saying that `done` happened. */
  hold<T>(done: string, fn: () => Promise<T>): Promise<T>;
}

/** config.toml: read once and kept; changed only under its lock, on a fresh read. */
export interface ConfigAccess {
  readonly configFile: string;
  /** The configuration as first read (a missing file is an empty configuration). */
  config(): Config;
  /** Reads the file afresh under the config lock, lets `change` edit it, and writes it back. */
  updateConfig(change: (config: Config) => void): Promise<void>;
}

export type * from './login-ports.js';
