import { UsageError } from '../../core/errors.js';
import type { Deps, SecretStore } from '../../core/ports.js';
import { autoStore } from './local.js';
import { STORES, type StoreKind } from './registry.js';

/** The stores VAULT_STORE takes, for messages: "keychain, file or redis://host:port/db". */
export function storeSyntaxes(): string {
  const all = STORES.map((s) => s.syntax);
  return `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}

/** The store VAULT_STORE chooses; undefined for `auto` (VAULT_STORE unset or `auto`). */
export function chosenStore(env: NodeJS.ProcessEnv): StoreKind | undefined {
  const value = env.VAULT_STORE || 'auto';
  if (value === 'auto') return undefined;
  const kind = STORES.find((s) => (s.chooses ? s.chooses(value, env) : value === s.name));
  if (kind) return kind;
  // A mistyped URL may carry a password: it is not repeated.
  const shown = value.includes('@') ? '' : ` ${JSON.stringify(value)}`;
  throw new UsageError(`invalid VAULT_STORE${shown}: use auto, ${storeSyntaxes()}`);
}

/** `VAULT_STORE`, checked: a typo is a usage error before any command runs, not a silent default. */
export function storeChoice(env: NodeJS.ProcessEnv): string {
  return chosenStore(env)?.name ?? 'auto';
}

/**
 * The store the cached-token path reads, opened as the full CLI opens it; undefined when that
 * store has no reader light enough for it (see StoreKind.fast).
 */
export function fastStore(deps: Deps): SecretStore | undefined {
  const kind = chosenStore(deps.env);
  return kind ? kind.fast?.(deps, deps.env.VAULT_STORE!) : autoStore(deps);
}
