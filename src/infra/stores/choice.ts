import { UsageError } from '../../core/errors.js';

export type StoreChoice = 'auto' | 'keychain' | 'file';

/** `VAULT_STORE`, checked: a typo is a usage error before any command runs, not a silent default. */
export function storeChoice(env: NodeJS.ProcessEnv): StoreChoice {
  const choice = env.VAULT_STORE || 'auto';
  if (choice === 'auto' || choice === 'keychain' || choice === 'file') return choice;
  throw new UsageError(`invalid VAULT_STORE ${JSON.stringify(choice)}: use auto, keychain or file`);
}
