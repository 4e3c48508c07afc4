import { UsageError } from '../../core/errors.js';
import { isRedisUrl, parseRedisUrl } from './redis-url.js';

export type StoreChoice = 'auto' | 'keychain' | 'file' | 'redis';

/** `VAULT_STORE`, checked: a typo is a usage error before any command runs, not a silent default. */
export function storeChoice(env: NodeJS.ProcessEnv): StoreChoice {
  const choice = env.VAULT_STORE || 'auto';
  if (choice === 'auto' || choice === 'keychain' || choice === 'file') return choice;
  if (isRedisUrl(choice)) {
    parseRedisUrl(choice, env);
    return 'redis';
  }
  // A mistyped URL may carry a password: it is not repeated.
  const shown = choice.includes('@') ? '' : ` ${JSON.stringify(choice)}`;
  throw new UsageError(`invalid VAULT_STORE${shown}: use auto, keychain, file or redis://host:port/db`);
}

/**
 * `VAULT_ACCESS_CACHE`: where the keychain store keeps access tokens on Linux — `runtime` (the
 * default: files in `$XDG_RUNTIME_DIR/vault/access` when that directory is safe) or `store`
 * (the keychain itself).
 */
export function accessCacheChoice(env: NodeJS.ProcessEnv): 'runtime' | 'store' {
  const choice = env.VAULT_ACCESS_CACHE || 'runtime';
  if (choice === 'runtime' || choice === 'store') return choice;
  throw new UsageError(`invalid VAULT_ACCESS_CACHE ${JSON.stringify(choice)}: use runtime or store`);
}
