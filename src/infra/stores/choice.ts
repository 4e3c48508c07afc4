import { UsageError } from '../../core/errors.js';

export type StoreChoice = 'auto' | 'keychain' | 'file';

/** `VAULT_STORE`, checked: a typo is a usage error before any command runs, not a silent default. */
export function storeChoice(env: NodeJS.ProcessEnv): StoreChoice {
  const choice = env.VAULT_STORE || 'auto';
  if (choice === 'auto' || choice === 'keychain' || choice === 'file') return choice;
  throw new UsageError(`invalid VAULT_STORE ${JSON.stringify(choice)}: use auto, keychain or file`);
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
