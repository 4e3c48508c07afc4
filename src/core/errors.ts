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

/**
 * The one error type the CLI reports as an `error:` line. `message` is shown to the user as is, so
 * it must never contain a secret; `cause` is kept for `--debug` and is redacted there.
 */
export class VaultError extends Error {
  readonly kind: ErrorKind;

  constructor(message: string, kind: ErrorKind, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
    this.kind = kind;
  }
}

/**
 * A VaultError whose kind is fixed by its class, so `new UsageError(message)` needs no kind and
 * `instanceof` still tells the cases apart.
 */
function ofKind(kind: ErrorKind) {
  return class extends VaultError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, kind, options);
    }
  };
}

/** Bad flags, bad names, malformed configuration: exit 2. */
export class UsageError extends ofKind('usage') {}

/** Nothing stored, or the refresh token was rejected: exit 3 with the command to run. */
export class LoginRequiredError extends ofKind('loginRequired') {}

/** The server refused the refresh token (`invalid_grant`, RFC 6749 §5.2): revoked, expired or spent. */
export class RefreshRejectedError extends LoginRequiredError {}

/**
 * The server refused a requested scope (`invalid_scope`, RFC 6749 §5.2): on a refresh, the login
 * was not granted it, and only a login asking for it can help.
 */
export class ScopeRejectedError extends ofKind('failure') {}

/** Network trouble, timeouts, 5xx and 429 after retries: exit 4, scripts may retry. */
export class TemporaryError extends ofKind('temporary') {}

/** The secure store cannot be used (no Secret Service, locked keychain, unreadable file): exit 5. */
export class StoreError extends ofKind('storeUnavailable') {}

/** No OS keychain answers at all (as opposed to a locked one): the `auto` store falls back to the file. */
export class KeychainUnavailableError extends StoreError {}

/** The `vault login ...` command a user should run, with `-a` when not the default account. */
export function loginCommand(provider: string, account: string): string {
  return suggest(['login', provider], { account });
}
