import { suggest } from '../suggest.js';
import { StoreError, UsageError } from '../errors.js';
import { checkProviderName } from '../config/names.js';
import { getProvider, type ProviderConfig } from '../config/providers.js';
import { buildProviderConfig, editProviderConfig, identityChanges, type ProviderFlags } from '../provider-edit.js';
import { clientSecretKey, loginKey } from '../credentials.js';
import type { ConfigAccess, SecretStore } from '../ports.js';
import { mcpProviderConfig, type McpPorts, type McpSummary } from './mcp-provider.js';

export interface ProviderDeps extends ConfigAccess {
  store(): SecretStore;
  debug(message: string): void;
  /** Runs discovery at the issuer once, to catch a typo now rather than at the first login. */
  discover(issuer: string): Promise<void>;
}

/** The client secret given with the flags (stdin or the environment), read only once it is needed. */
export type SecretSource = () => Promise<string | undefined>;

/** Logins issued to the old client or server: they may need a new login. */
export interface StaleLogins {
  accounts: string[];
  /** The identity fields that changed (client_id, issuer, endpoints). */
  changed: string[];
}

export interface AddResult {
  replaced: boolean;
  stale?: StaleLogins;
  /** `--replace` without a new secret removed the one stored before. */
  secretRemoved?: boolean;
  /** With `--mcp`: what discovery found. */
  mcp?: McpSummary;
}

export interface SetResult {
  /** The fields that changed, plus `client secret` when one was given or removed. */
  changed: string[];
  stale?: StaleLogins;
  /** With `--no-client-secret`: whether a stored secret was removed (false: none was stored). */
  secretRemoved?: boolean;
}

/** Discovery runs at every use unless both endpoints are given (explicit ones win over it, see configuredEndpoints). */
async function checkIssuer(deps: ProviderDeps, cfg: ProviderConfig, flags: ProviderFlags): Promise<void> {
  if (flags.issuer === undefined || (cfg.token_endpoint && cfg.authorization_endpoint) || flags.offline) return;
  await deps.discover(flags.issuer);
}

/** Logins were issued to a client at a server: changing either leaves them pointing elsewhere. */
async function staleLogins(deps: ProviderDeps, name: string, changed: string[]): Promise<StaleLogins | undefined> {
  if (!changed.length) return undefined;
  let accounts: string[];
  try {
    accounts = await loginsOf(deps.store(), name);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    deps.debug(`store: cannot list logins of ${name}: ${error.message}`);
    return undefined;
  }
  return accounts.length ? { accounts, changed } : undefined;
}

async function loginsOf(store: SecretStore, name: string): Promise<string[]> {
  const prefix = loginKey(name, '');
  return (await store.keys(prefix)).map((k) => k.slice(prefix.length));
}

/** Stores the client secret (if any), then writes the provider's table as `table` makes it from the current one. */
export async function saveProvider(
  deps: Omit<ProviderDeps, 'discover'>,
  name: string,
  table: (current: ProviderConfig | undefined) => ProviderConfig,
  secret: string | undefined,
): Promise<void> {
  if (secret !== undefined) {
    // The secret goes to the store first: if the store is unavailable, nothing has changed.
    const store = deps.store();
    await store.set(clientSecretKey(name), JSON.stringify({ v: 1, client_secret: secret }));
    deps.debug(`store: client secret for ${name} written to ${store.kind}`);
  }
  await deps.updateConfig((config) => {
    config.providers[name] = table(config.providers[name]);
  });
}

/** `provider add`: refuses to overwrite an existing provider unless `replace`. */
export async function addProvider(
  deps: ProviderDeps & McpPorts,
  name: string,
  flags: ProviderFlags & { replace?: boolean; mcp?: string },
  secret: SecretSource,
): Promise<AddResult> {
  // A malformed file is reported before anything else happens.
  const existing = deps.config().providers[checkProviderName(name)];
  if (existing && !flags.replace) {
    throw new UsageError(
      `provider ${name} already exists in ${deps.configFile}: change fields with \`vault provider set ${name} --client-id ID\` (any flag of add; the others are kept), or replace it whole with \`vault provider add ${name} ... --replace\``,
    );
  }
  const mcp = flags.mcp !== undefined ? await mcpProviderConfig(deps, name, { ...flags, mcp: flags.mcp }) : undefined;
  const cfg = mcp?.cfg ?? buildProviderConfig(name, flags);
  if (cfg.exchange_from !== undefined) checkExchangeSource(deps, name, cfg.exchange_from);
  if (!mcp) await checkIssuer(deps, cfg, flags);
  // A client registered now has no secret but the one its registration issued (if the server
  // ignored `token_endpoint_auth_method: none`): VAULT_CLIENT_SECRET belongs to some other client.
  const newSecret = mcp?.summary.registered ? mcp.clientSecret : await secret();
  await saveProvider(deps, name, () => cfg, newSecret);
  // --replace replaces the provider whole: a client secret not given again goes too, or a public
  // client would keep sending the old client's secret and fail with invalid_client.
  const secretRemoved = existing !== undefined && newSecret === undefined && (await removeSecret(deps, name));
  const stale = existing ? await staleLogins(deps, name, identityChanges(existing, cfg)) : undefined;
  return {
    replaced: existing !== undefined,
    ...(stale && { stale }),
    ...(secretRemoved && { secretRemoved }),
    ...(mcp && { mcp: mcp.summary }),
  };
}

/** Deletes the provider's stored client secret; whether one was stored. */
async function removeSecret(deps: Pick<ProviderDeps, 'store' | 'debug'>, name: string): Promise<boolean> {
  const store = deps.store();
  const removed = await store.delete(clientSecretKey(name));
  deps.debug(`store: ${removed ? 'deleted' : 'no'} client secret for ${name} in ${store.kind}`);
  return removed;
}

/** `provider set`: changes only the given fields; refuses when nothing would change. */
export async function setProvider(
  deps: ProviderDeps,
  name: string,
  flags: ProviderFlags,
  secret: SecretSource,
): Promise<SetResult> {
  const { name: _, ...before } = getProvider(deps.config(), name, deps.configFile);
  const remove = flags.clientSecret === false;
  if (remove && flags.clientSecretStdin)
    throw new UsageError('--client-secret-stdin stores a client secret and --no-client-secret removes it: give one');
  const newSecret = remove ? undefined : await secret();
  const cfg = editProviderConfig(name, before, flags);
  const changed = (Object.keys({ ...before, ...cfg }) as (keyof ProviderConfig)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(cfg[k]),
  );
  if (!changed.length && newSecret === undefined && !remove) {
    throw new UsageError(
      `nothing to change for ${name}: give the fields to change, with the flags of \`vault provider add\` (see \`vault provider set --help\`)`,
    );
  }
  await checkIssuer(deps, cfg, flags);
  // Applied again to the table read under the lock, so concurrent edits of other fields are kept.
  await saveProvider(deps, name, (current) => (current ? editProviderConfig(name, current, flags) : cfg), newSecret);
  const secretRemoved = remove ? await removeSecret(deps, name) : undefined;
  const stale = await staleLogins(deps, name, identityChanges(before, cfg));
  return {
    changed: [...changed, ...(newSecret !== undefined || secretRemoved ? ['client secret'] : [])],
    ...(stale && { stale }),
    ...(secretRemoved !== undefined && { secretRemoved }),
  };
}

/** `provider remove`: refuses while logins are stored (they must be revoked first); removes the client secret too. */
export async function removeProvider(deps: ProviderDeps, name: string): Promise<void> {
  getProvider(deps.config(), name, deps.configFile);
  const store = deps.store();
  const logins = await loginsOf(store, name);
  if (logins.length) {
    throw new UsageError(
      `${name} still has stored logins (${logins.join(', ')}): run ${logins.map((account) => `\`${suggest(['logout', name], { account })}\``).join(', ')} first, so they are revoked`,
    );
  }
  await store.delete(clientSecretKey(name));
  await deps.updateConfig((config) => {
    delete config.providers[name];
  });
}

/** Whether the store holds a client secret for the provider (never the secret); null when the store cannot be read. */
export async function secretStored(
  store: SecretStore,
  name: string,
  warn: (message: string) => void,
): Promise<boolean | null> {
  try {
    return (await store.get(clientSecretKey(name))) !== null;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    warn(`cannot tell whether a client secret is stored: ${error.message}`);
    return null;
  }
}

/** The provider whose login an exchanged provider uses must exist and have a login of its own. */
function checkExchangeSource(deps: Pick<ProviderDeps, 'config' | 'configFile'>, name: string, source: string): void {
  let cfg: ProviderConfig;
  try {
    cfg = getProvider(deps.config(), source, deps.configFile);
  } catch (error) {
    throw new UsageError(`--exchange-from ${source}: ${(error as Error).message}`, { cause: error });
  }
  if (cfg.exchange_from !== undefined)
    throw new UsageError(
      `--exchange-from ${source}: ${source} gets its own tokens by exchange; exchange from the provider you log in to (${cfg.exchange_from})`,
    );
  if (name === source) throw new UsageError('--exchange-from: a provider cannot exchange its own login');
}
