/** Where secrets live. Values are opaque strings (versioned JSON records, see core/token-set.ts). */
export interface SecretStore {
  /** Shown by `vault status`: `keychain`, `file`, `env` or `memory`. */
  readonly kind: 'keychain' | 'file' | 'env' | 'memory';
  /** Where the secrets are, for messages: never a secret itself. */
  readonly location: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Resolves true when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Keys that start with `prefix`. */
  keys(prefix: string): Promise<string[]>;
  /** Where one entry lives, for error messages about that entry. */
  describe(key: string): string;
}
