import { envStem } from '../../core/config/names.js';
import { StoreError } from '../../core/errors.js';
import type { SecretStore } from '../../ports.js';

/**
 * Read-only credentials from the environment, for CI: `VAULT_<NAME>_REFRESH_TOKEN` answers the
 * refresh-token entry of the default account. Nothing can be written here.
 */
export class EnvStore implements SecretStore {
  readonly kind = 'env' as const;
  readonly location = 'environment (VAULT_<NAME>_REFRESH_TOKEN)';
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  static variable(provider: string): string {
    return `VAULT_${envStem(provider)}_REFRESH_TOKEN`;
  }

  async get(key: string): Promise<string | null> {
    const m = /^rt:([^:]+):([^:]+)$/.exec(key);
    if (!m) return null;
    // A CI secret pasted from `vault export` may keep the newline that ended the output.
    const value = this.#env[EnvStore.variable(m[1]!)]?.trim();
    if (!value) return null;
    return JSON.stringify({ v: 1, refresh_token: value, scope: '', obtained_at: 0, from_env: true });
  }

  async set(key: string): Promise<void> {
    throw new StoreError(`cannot store ${key} in the environment store: it is read-only`);
  }

  async delete(): Promise<boolean> {
    return false;
  }

  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for (const name of Object.keys(this.#env)) {
      const m = /^VAULT_(.+)_REFRESH_TOKEN$/.exec(name);
      if (m && this.#env[name]) keys.push(`rt:${m[1]!.toLowerCase().replace(/_/g, '-')}:default`);
    }
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  describe(key: string): string {
    return `environment entry for ${key}`;
  }
}
