import { UsageError } from '../../core/errors.js';
import { checkGitHost, checkProviderName } from '../../core/names.js';
import { PRESETS } from '../../core/presets.js';
import {
  envNames,
  getProvider,
  loadConfig,
  renderConfig,
  validateProvider,
  writeConfigAtomically,
  type ProviderConfig,
} from '../../core/providers.js';
import { clientSecretKey, loginKey } from '../../core/token-set.js';
import { readStdin, type Deps } from '../../infra/io.js';
import { acquireLock } from '../../infra/lock.js';
import { configFile, lockDir } from '../../infra/paths.js';
import { openStore } from '../../infra/stores/index.js';
import { scopeList } from '../context.js';

export interface AddOptions {
  preset?: string;
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  scope?: string[];
  param?: string[];
  envName?: string[];
  gitHost?: string[];
  gitUsername?: string;
  offline?: boolean;
}

/** Merges a preset with the flags; flags win. Pure, so it is tested without I/O. */
export function buildProviderConfig(name: string, opts: AddOptions): ProviderConfig {
  checkProviderName(name);
  let base: Partial<ProviderConfig> = {};
  if (opts.preset !== undefined) {
    const preset = PRESETS[opts.preset];
    if (!preset) throw new UsageError(`unknown preset "${opts.preset}": use one of ${Object.keys(PRESETS).join(', ')}`);
    base = { preset: opts.preset, ...structuredClone(preset) };
  }
  const explicitEndpoints = opts.authorizationEndpoint !== undefined || opts.tokenEndpoint !== undefined;
  if (opts.issuer !== undefined && opts.preset === undefined && !explicitEndpoints) {
    base = {};
  }
  const params: Record<string, string> = { ...(base.params ?? {}) };
  for (const p of opts.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects KEY=VALUE, got ${JSON.stringify(p)}`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const cfg: Record<string, unknown> = {
    ...base,
    ...(opts.issuer !== undefined && { issuer: opts.issuer }),
    ...(opts.authorizationEndpoint !== undefined && { authorization_endpoint: opts.authorizationEndpoint }),
    ...(opts.tokenEndpoint !== undefined && { token_endpoint: opts.tokenEndpoint }),
    ...(opts.revocationEndpoint !== undefined && { revocation_endpoint: opts.revocationEndpoint }),
    ...(opts.deviceAuthorizationEndpoint !== undefined && { device_authorization_endpoint: opts.deviceAuthorizationEndpoint }),
    ...(opts.clientId !== undefined && { client_id: opts.clientId }),
    ...(scopeList(opts.scope) && { scopes: scopeList(opts.scope) }),
    ...(opts.envName?.length && { env_names: opts.envName }),
    ...(opts.gitHost?.length && { git_hosts: opts.gitHost.map(checkGitHost) }),
    ...(opts.gitUsername !== undefined && { git_username: opts.gitUsername }),
  };
  if (Object.keys(params).length) cfg.params = params;
  else delete cfg.params;
  if (cfg.client_id === undefined) throw new UsageError('--client-id is required (the client id registered at the provider)');
  if (cfg.issuer === undefined && !(cfg.authorization_endpoint && cfg.token_endpoint)) {
    throw new UsageError('give --preset, --issuer URL, or both --authorization-endpoint and --token-endpoint');
  }
  return validateProvider(name, cfg, `provider ${name}`);
}

/** Reads, changes and writes config.toml under a lock, so concurrent `provider add` calls all land. */
async function updateConfig(deps: Deps, change: (providers: Record<string, ProviderConfig>) => void): Promise<void> {
  const file = configFile(deps.env);
  const release = await acquireLock(lockDir(deps.env), 'config', { debug: deps.debug });
  try {
    const config = loadConfig(file);
    change(config.providers);
    writeConfigAtomically(file, await renderConfig(config));
  } finally {
    await release();
  }
}

export async function addRun(deps: Deps, name: string, opts: AddOptions): Promise<number> {
  const file = configFile(deps.env);
  loadConfig(file); // a malformed file is reported before anything else happens
  const cfg = buildProviderConfig(name, opts);
  if (opts.issuer !== undefined && !cfg.token_endpoint && !opts.offline) {
    const { discoverMetadata } = await import('../../infra/oauth-client.js');
    const metadata = await discoverMetadata(opts.issuer, deps);
    deps.debug(`discovery: ${metadata.issuer} token endpoint ${metadata.token_endpoint}`);
  }
  let secret: string | undefined;
  if (opts.clientSecretStdin) {
    secret = (await readStdin(deps.io.stdin)).replace(/\r?\n$/, '');
    if (!secret) throw new UsageError('--client-secret-stdin: standard input was empty');
  } else if (deps.env.VAULT_CLIENT_SECRET) {
    secret = deps.env.VAULT_CLIENT_SECRET;
  }
  const existed = await saveProvider(deps, name, cfg, secret);
  deps.io.stderr.write(`${existed ? 'Updated' : 'Added'} provider ${name} in ${file}. Next: vault login ${name}\n`);
  return 0;
}

/** Stores the client secret (if any), then writes the provider's table; true if it replaced one. */
export async function saveProvider(deps: Deps, name: string, cfg: ProviderConfig, secret: string | undefined): Promise<boolean> {
  if (secret !== undefined) {
    // The secret goes to the store first: if the store is unavailable, nothing has changed.
    const store = openStore(deps);
    await store.set(clientSecretKey(name), JSON.stringify({ v: 1, client_secret: secret }));
    deps.debug(`store: client secret for ${name} written to ${store.kind}`);
  }
  let existed = false;
  await updateConfig(deps, (providers) => {
    existed = name in providers;
    providers[name] = cfg;
  });
  return existed;
}

function describeSource(cfg: ProviderConfig): string {
  if (cfg.preset) return `preset ${cfg.preset}`;
  if (cfg.issuer && !cfg.token_endpoint) return `issuer ${cfg.issuer}`;
  return `token endpoint ${cfg.token_endpoint}`;
}

export async function listRun(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const file = configFile(deps.env);
  const { providers } = loadConfig(file);
  const names = Object.keys(providers).sort();
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify({ providers: names.map((n) => ({ name: n, ...providers[n] })) })}\n`);
    return 0;
  }
  if (!names.length) {
    deps.io.stderr.write(`No providers configured in ${file}. Add one with \`vault provider add NAME --preset google --client-id ID\`.\n`);
    return 0;
  }
  for (const n of names) {
    const p = providers[n]!;
    deps.io.stdout.write(`${n}\t${describeSource(p)}\tclient ${p.client_id}\tscopes ${(p.scopes ?? []).join(' ') || '-'}\n`);
  }
  return 0;
}

export async function showRun(deps: Deps, name: string, opts: { json?: boolean }): Promise<number> {
  const file = configFile(deps.env);
  const provider = getProvider(loadConfig(file), name, file);
  const shown = { ...provider, env_names: envNames(provider), git_username: provider.git_username ?? 'oauth2' };
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify(shown)}\n`);
    return 0;
  }
  for (const [key, value] of Object.entries(shown)) {
    const text = Array.isArray(value) ? value.join(' ') : typeof value === 'object' ? Object.entries(value).map(([k, v]) => `${k}=${v}`).join(' ') : String(value);
    deps.io.stdout.write(`${key.padEnd(30)} ${text}\n`);
  }
  return 0;
}

export async function removeRun(deps: Deps, name: string): Promise<number> {
  const file = configFile(deps.env);
  getProvider(loadConfig(file), name, file);
  const store = openStore(deps);
  const logins = (await store.keys(loginKey(name, ''))).map((k) => k.slice(loginKey(name, '').length));
  if (logins.length) {
    throw new UsageError(`${name} still has stored logins (${logins.join(', ')}): run \`vault logout ${name}\` for each first, so they are revoked`);
  }
  await store.delete(clientSecretKey(name));
  await updateConfig(deps, (providers) => {
    delete providers[name];
  });
  deps.io.stderr.write(`Removed provider ${name} from ${file}.\n`);
  return 0;
}
