import { UsageError } from '../core/errors.js';
import { checkAccountName } from '../core/config/names.js';
import { configFile, lockDir } from '../infra/paths.js';
import { resolveProvider, type Provider } from '../core/config/providers.js';
import { loadConfig } from '../infra/config-file.js';
import { openStore } from '../infra/stores/index.js';
import type { SecretStore } from '../ports.js';
import type { TokenDeps } from '../core/usecases/get-token.js';
import { fileLocks, lazyOAuth, processSignals } from '../infra/adapters.js';
import type { Deps } from '../ports.js';

export { scopeList } from '../core/provider-edit.js';

export function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new UsageError(`${flag} expects a whole number of seconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** `--port`: 0 (any free port, the default) or a fixed one, for an SSH tunnel or a firewall rule. */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port expects a port number from 0 to 65535, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function accountOf(deps: Deps, account: string | undefined): string {
  return checkAccountName(account ?? deps.env.VAULT_ACCOUNT ?? 'default');
}

/** The named provider, else `VAULT_PROVIDER`'s, else the only one configured. */
export function loadProvider(deps: Deps, name: string | undefined): Provider {
  const file = configFile(deps.env);
  return resolveProvider(loadConfig(file, deps.reads), name, deps.env, file);
}

export function tokenDeps(deps: Deps, store: SecretStore = openStore(deps)): TokenDeps {
  return {
    store,
    locks: fileLocks(lockDir(deps.env), deps.debug),
    oauth: lazyOAuth(deps),
    signals: processSignals(deps.debug),
    env: deps.env,
    clock: deps.clock,
    debug: deps.debug,
    warn: (m) => deps.io.stderr.write(`warning: ${m}\n`),
  };
}
