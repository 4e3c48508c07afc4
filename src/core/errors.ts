import { suggest } from './suggest.js';

/**
 * What went wrong, as the command-line contract sorts it (README, "Exit codes"). The CLI maps
 * each kind to its exit code in one table (cli/root.ts, exitCodeFor); nothing else chooses one.
 */
export type ErrorKind =
  | 'failure'
  | 'usage'
  | 'loginRequired'
  | 'temporary'
  | 'storeUnavailable'
  /** The terminal was closed (SIGHUP). */
  | 'hangup'
  | 'interrupted'
  /** Ended by `kill` (SIGTERM). */
  | 'terminated';

/** Why a failure of some kind happened, where callers treat that case apart from the rest of its kind. */
export type ErrorReason =
  /** The server refused the refresh token (`invalid_grant`, RFC 6749 §5.2): revoked, expired or spent. */
  | 'refreshRejected'
  /** The server refused a requested scope (`invalid_scope`, RFC 6749 §5.2). */
  | 'scopeRejected'
  /** No OS keychain answers at all (as opposed to a locked one): the `auto` store falls back to the file. */
  | 'keychainUnavailable';

/** The exit code of each kind (README, "Exit codes"): the one place they are chosen. */
const EXIT_CODES: Record<ErrorKind, number> = {
  failure: 1,
  usage: 2,
  loginRequired: 3,
  temporary: 4,
  storeUnavailable: 5,
  // 128 + the signal's number, the shell's convention.
  hangup: 129,
  interrupted: 130,
  terminated: 143,
};

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODES[kind];
}

/**
 * The one error type the CLI reports as an `error:` line, told apart by its kind (and, where it
 * matters, its reason) rather than by subclasses. `message` is shown to the user as is, so it must
 * never contain a secret; `cause` is kept for `--debug` and is redacted there.
 */
export class VaultError extends Error {
  readonly kind: ErrorKind;
  readonly reason: ErrorReason | undefined;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; reason?: ErrorReason }) {
    super(message, options);
    this.name = 'VaultError';
    this.kind = kind;
    this.reason = options?.reason;
  }

  get exitCode(): number {
    return exitCodeFor(this.kind);
  }
}

/** Makes a VaultError of one kind (and reason); `instanceof` asks for that kind (and reason). */
interface KindOf {
  new (message: string, options?: { cause?: unknown }): VaultError;
}

/**
 * `new UsageError(message)` is `new VaultError('usage', message)`, and `error instanceof
 * UsageError` checks the kind: a shorthand per kind, not a class of its own.
 */
function kindOf(kind: ErrorKind, reason?: ErrorReason): KindOf {
  const make = function (message: string, options?: { cause?: unknown }) {
    return new VaultError(kind, message, { ...options, ...(reason && { reason }) });
  };
  Object.defineProperty(make, Symbol.hasInstance, {
    value: (error: unknown) =>
      error instanceof VaultError && error.kind === kind && (reason === undefined || error.reason === reason),
  });
  return make as unknown as KindOf;
}

/** Bad flags, bad names, malformed configuration: exit 2. */
export const UsageError = kindOf('usage');
export type UsageError = VaultError;

/** Nothing stored, or the refresh token was rejected: exit 3 with the command to run. */
export const LoginRequiredError = kindOf('loginRequired');
export type LoginRequiredError = VaultError;

/** The server refused the refresh token: a login required, for that reason. */
export const RefreshRejectedError = kindOf('loginRequired', 'refreshRejected');
export type RefreshRejectedError = VaultError;

/** The server refused a requested scope: on a refresh, only a login asking for it can help. */
export const ScopeRejectedError = kindOf('failure', 'scopeRejected');
export type ScopeRejectedError = VaultError;

/** Network trouble, timeouts, 5xx and 429 after retries: exit 4, scripts may retry. */
export const TemporaryError = kindOf('temporary');
export type TemporaryError = VaultError;

/** The secure store cannot be used (no Secret Service, locked keychain, unreadable file): exit 5. */
export const StoreError = kindOf('storeUnavailable');
export type StoreError = VaultError;

/** No OS keychain answers at all: a store error, for that reason. */
export const KeychainUnavailableError = kindOf('storeUnavailable', 'keychainUnavailable');
export type KeychainUnavailableError = VaultError;

/** The `vault login ...` command a user should run, with `-a` when not the default account. */
export function loginCommand(provider: string, account: string): string {
  return suggest(['login', provider], { account });
}
