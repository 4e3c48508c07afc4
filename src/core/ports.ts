/**
 * The ports: what core code needs from the outside world, as interfaces. Adapters live in infra/
 * (stores, locks, streams); main.ts wires them; tests substitute in-memory ones.
 */
import type { Readable, Writable } from 'node:stream';
import type { Config, Provider } from './config/providers.js';
import type { TokenResult } from './token-set.js';

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
  /** Shown by `vault status`: `keychain`, `file`, `memory` or `redis`. */
  readonly kind: 'keychain' | 'file' | 'memory' | 'redis';
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

/** The token endpoint of one provider, prepared for one client (infra/oauth). */
export interface OAuthClient {
  /** Where tokens are revoked (RFC 7009), when the provider has such an endpoint. */
  readonly revocationEndpoint: string | undefined;
  /** A refresh grant (RFC 6749 §6), narrowed to `scopes` when given; `account` names the login in errors. */
  refresh(account: string, refreshToken: string, scopes: readonly string[] | undefined): Promise<TokenResult>;
  /** Revocation (RFC 7009) of a refresh token, or of a non-expiring access token. */
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void>;
}

/** OAuth as the use cases need it; the adapter loads the OAuth library only when asked. */
export interface OAuth {
  /** The client for `provider` (discovery first, when its endpoints are not configured). */
  client(provider: Provider, clientSecret: string | undefined): Promise<OAuthClient>;
}

/** Opens a URL for the user to visit; resolves false when no browser could be started. */
export interface Browser {
  /** `onFailure` hears of a launcher that started but failed later (a non-zero exit). */
  open(url: string, onFailure?: (why: string) => void): Promise<boolean>;
}

/** config.toml: read once and kept; changed only under its lock, on a fresh read. */
export interface ConfigAccess {
  readonly configFile: string;
  /** The configuration as first read (a missing file is an empty configuration). */
  config(): Config;
  /** Reads the file afresh under the config lock, lets `change` edit it, and writes it back. */
  updateConfig(change: (config: Config) => void): Promise<void>;
}

/**
 * An authorization request in progress (RFC 6749 §4.1 with PKCE, RFC 7636): its verifier and nonce
 * never leave the adapter.
 */
export interface AuthorizationRequest {
  /** The state the callback must carry (RFC 6749 §10.12). */
  readonly state: string;
  /** The authorization URL that sends the browser back to `redirectUri`. */
  url(redirectUri: string): string;
  /** The code exchange of the callback URL: state, `iss` (RFC 9207) and nonce checked, the verifier sent. */
  exchange(callback: URL): Promise<TokenResult>;
}

/** A device authorization (RFC 8628 §3.2) waiting for the user's approval. */
export interface DeviceAuthorization {
  readonly verificationUri: string;
  readonly verificationUriComplete: string | undefined;
  readonly userCode: string;
  /** Seconds until the device code expires; 0 when the server did not say. */
  readonly expiresIn: number;
  /** Polls (RFC 8628 §3.4–3.5) until approval, denial or expiry; stops when `signal` aborts. */
  poll(signal: AbortSignal): Promise<TokenResult>;
}

/** A provider's client with the login grants as well (infra/oauth). */
export interface LoginClient extends OAuthClient {
  /** The server metadata's `scopes_supported` (RFC 8414 §2), empty when it lists none. */
  readonly scopesSupported: readonly string[];
  /** Starts an authorization code request with `params` (scope, prompt, ...); a nonce when `withNonce`. */
  authorize(params: Record<string, string>, withNonce: boolean): Promise<AuthorizationRequest>;
  /** Asks for a device code and user code (RFC 8628 §3.1) for `scope`. */
  startDevice(scope: string): Promise<DeviceAuthorization>;
}

/** OAuth with the login grants: what `vault login` needs (an OAuthLogin is also an OAuth). */
export interface OAuthLogin {
  client(provider: Provider, clientSecret: string | undefined): Promise<LoginClient>;
}

export type TerminationSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The termination signals that end a wait (infra/signals.ts). */
export interface Interrupts {
  /** Calls `onSignal` on the first SIGINT, SIGTERM or SIGHUP, until the returned function is called. */
  watch(onSignal: (signal: TerminationSignal) => void): () => void;
}

/** What the loopback listener hands back: the full callback URL with code, state and iss. */
export interface CallbackListener {
  port: number;
  redirectUri: string;
  /** Resolves with the callback URL once a request carrying the expected state arrives. */
  callback: Promise<URL>;
  /**
   * The URL to start the browser on: the listener's own one-time address, which redirects once to
   * `authorizationUrl`, so that URL (state, PKCE challenge) never sits in a process's argv.
   */
  launchUrl(authorizationUrl: string): string;
  close(): Promise<void>;
}

/** The RFC 8252 §7.3 loopback redirect listener (infra/loopback.ts). */
export interface Loopback {
  /** Listens on 127.0.0.1:`port` (0: any free port) for the callback carrying `expectedState`. */
  listen(port: number, expectedState: string): Promise<CallbackListener>;
}

/** Questions to the person at the terminal (infra/prompt.ts): the question on stderr, the answer from stdin. */
export interface Prompt {
  /** One line, shown as it is typed. */
  line(question: string): Promise<string>;
  /** One line typed without echo (a client secret). */
  secret(question: string): Promise<string>;
}
