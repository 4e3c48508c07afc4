import { UsageError } from '../core/errors.js';
import { checkAccountName } from '../core/names.js';
import { configFile, lockDir } from '../infra/paths.js';
import { getProvider, loadConfig, type Provider } from '../core/providers.js';
import type { Deps } from '../infra/io.js';
import { openStore, type SecretStore } from '../infra/stores/index.js';
import type { TokenServiceDeps } from '../core/token-service.js';

export { scopeList } from '../core/provider-edit.js';

export function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} expects a whole number of seconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function accountOf(deps: Deps, account: string | undefined): string {
  return checkAccountName(account ?? deps.env.VAULT_ACCOUNT ?? 'default');
}

export function loadProvider(deps: Deps, name: string): Provider {
  const file = configFile(deps.env);
  return getProvider(loadConfig(file), name, file);
}

export function tokenDeps(deps: Deps, store: SecretStore = openStore(deps)): TokenServiceDeps {
  return {
    store,
    env: deps.env,
    clock: deps.clock,
    debug: deps.debug,
    warn: (m) => deps.io.stderr.write(`warning: ${m}\n`),
    lockDir: lockDir(deps.env),
  };
}
