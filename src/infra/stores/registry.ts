import type { Deps, SecretStore } from '../../core/ports.js';
import { fleetAccessReader } from './fleet-cache.js';
import { fileStore, keychainStore } from './local.js';
import { isRedisUrl, parseRedisUrl } from './redis-url.js';

/**
 * What the full CLI needs of a store's module. The module is loaded through StoreKind.load, so
 * the cached-token path (dist/cached-token.cjs), which reads this table too, never loads it.
 */
export interface StoreModule {
  /** Opens the store that VAULT_STORE=`value` chose (`deps.env.VAULT_STORE` is `value`). */
  open(deps: Deps, value: string): SecretStore;
  /**
   * What to set VAULT_STORE to after `vault store migrate --to value` moved logins into `store`,
   * when that is more than the store's name (a URL, say), with what else it needs.
   */
  useWith?(store: SecretStore, value: string): string;
}

/** One store vault can keep secrets in: a line of STORES. */
export interface StoreKind {
  /** Its name: `SecretStore.kind`, shown by `status` and `store info`. */
  readonly name: string;
  /** How VAULT_STORE names it in messages (`file`, `redis://host:port/db`). */
  readonly syntax: string;
  /**
   * Whether VAULT_STORE=`value` chooses this store (by default: `value` is its name). A value of
   * its form that is malformed is a UsageError, thrown here, before any command runs.
   */
  chooses?(value: string, env: NodeJS.ProcessEnv): boolean;
  /**
   * How the cached-token path reads this store: light code only (no client library, no
   * node:crypto at start-up; scripts/build.mjs refuses a package in that bundle). None: a
   * `vault token` with this store always runs the full CLI.
   */
  fast?(deps: Deps, value: string): SecretStore;
  /** The store's module, for the full CLI (a dynamic import keeps it out of the cached-token path). */
  load(): Promise<StoreModule>;
}

/** A store of this machine, light enough for the cached-token path to open as the full CLI does. */
function local(open: (deps: Deps) => SecretStore): Pick<StoreKind, 'fast' | 'load'> {
  return { fast: open, load: async () => ({ open }) };
}

/**
 * Every store, one line each, in the order messages list them. `auto` (VAULT_STORE unset) is not
 * a store: it is the keychain when one answers, else the file store (local.ts).
 */
export const STORES: readonly StoreKind[] = [
  { name: 'keychain', syntax: 'keychain', ...local((deps) => keychainStore(deps.env)) },
  { name: 'file', syntax: 'file', ...local(fileStore) },
  {
    name: 'redis',
    syntax: 'redis://host:port/db',
    chooses: (value, env) => isRedisUrl(value) && Boolean(parseRedisUrl(value, env)),
    // Its records are in Redis, which only the full CLI's client reaches: the cached-token path
    // reads the runner's local sealed copy of the access token (fleet-cache.ts) instead.
    fast: (deps) => fleetAccessReader(deps.env),
    load: () => import('./redis-store.js'),
  },
];
