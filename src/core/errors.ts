/** Exit codes of the command-line contract (SPEC.md, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  loginRequired: 3,
  temporary: 4,
  storeUnavailable: 5,
  /** 128 + SIGHUP: the terminal was closed. */
  hangup: 129,
  interrupted: 130,
  /** 128 + SIGTERM, the shell's convention for a process ended by `kill`. */
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one error type the CLI maps to an exit code. `message` is shown to the user as is, so it
 * must never contain a secret; `cause` is kept for `--debug` and is redacted there.
 */
export class VaultError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly code: string;

  constructor(message: string, exitCode: ExitCodeValue, code = 'vault_error', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Bad flags, bad names, malformed configuration: exit 2. */
export class UsageError extends VaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, 'usage', options);
  }
}

/** Nothing stored, or the refresh token was rejected: exit 3 with the command to run. */
export class LoginRequiredError extends VaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.loginRequired, 'login_required', options);
  }
}

/** The server refused the refresh token (`invalid_grant`, RFC 6749 §5.2): revoked, expired or spent. */
export class RefreshRejectedError extends LoginRequiredError {}

/** Network trouble, timeouts, 5xx and 429 after retries: exit 4, scripts may retry. */
export class TemporaryError extends VaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.temporary, 'temporary', options);
  }
}

/** The secure store cannot be used (no Secret Service, locked keychain, unreadable file): exit 5. */
export class StoreError extends VaultError {
  constructor(message: string, options?: { cause?: unknown; code?: 'keychain_locked' | 'keychain_unavailable' }) {
    super(message, ExitCode.storeUnavailable, options?.code ?? 'store_unavailable', options);
  }
}

/** The `vault login ...` command a user should run, with `-a` when not the default account. */
export function loginCommand(provider: string, account: string): string {
  return account === 'default' ? `vault login ${provider}` : `vault login ${provider} -a ${account}`;
}
