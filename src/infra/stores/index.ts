import type { Deps, SecretStore } from '../../core/ports.js';
import { storeChoice } from './choice.js';
import { autoStore } from './local.js';
import { STORES, type StoreModule } from './registry.js';

export { fileStore, keychainStore, keyringService } from './local.js';

// The full CLI may open any store (`store migrate --to` opens a second one), so every store's
// module is loaded with this one, before any command runs; the cached-token path reads the
// registry alone and never loads them.
const modules = new Map<string, StoreModule>(
  await Promise.all(STORES.map(async (kind) => [kind.name, await kind.load()] as const)),
);

/** The store chosen by `VAULT_STORE` (`auto`, or a store of the registry). */
export function openStore(deps: Deps): SecretStore {
  const choice = storeChoice(deps.env);
  return choice === 'auto' ? autoStore(deps) : modules.get(choice)!.open(deps, deps.env.VAULT_STORE!);
}

/** What to set VAULT_STORE to for `store`, which VAULT_STORE=`value` opened (see StoreModule.useWith). */
export function vaultStoreValue(store: SecretStore, value: string): string {
  return modules.get(store.kind)?.useWith?.(store, value) ?? store.kind;
}
