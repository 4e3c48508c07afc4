import { UsageError } from './errors.js';
import { checkGitHost, checkProviderName, checkRegistryHost } from './config/names.js';
import { PRESETS, presetConfig } from './config/presets.js';
import { ENDPOINT_KEYS, type ProviderConfig } from './config/providers.js';
import { validateProvider } from './config/parse-config.js';

/** The flags shared by `provider add` and `provider set`. */
export interface ProviderFlags {
  preset?: string;
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  /** false with `--no-client-secret` (provider set): remove the stored client secret. */
  clientSecret?: boolean;
  scope?: string[];
  param?: string[];
  envName?: string[];
  gitHost?: string[];
  gitUsername?: string;
  registryHost?: string[];
  registryUsername?: string;
  /** `true` or `false` (commander checks the choice). */
  rotatesRefreshTokens?: string;
  offline?: boolean;
  exchangeFrom?: string;
  /** `token-vault` or `rfc8693` (commander checks the choice). */
  exchange?: string;
  connection?: string;
  loginHint?: string;
  audience?: string;
  resource?: string;
  /** `access` or `id` (commander checks the choice). */
  subjectToken?: string;
}

/** The fields whose change makes existing logins belong to another client or server. */
export const IDENTITY_KEYS = ['client_id', 'issuer', ...ENDPOINT_KEYS] as const;

/** `--scope` may be repeated or carry several space-separated scopes. */
export function scopeList(values: string[] | undefined): string[] | undefined {
  const scopes = (values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  return scopes.length ? [...new Set(scopes)] : undefined;
}

function parseParams(values: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of values) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects KEY=VALUE, got ${JSON.stringify(p)}`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return params;
}

function yesNo(value: string): boolean {
  if (value !== 'true' && value !== 'false')
    throw new UsageError(`--rotates-refresh-tokens expects true or false, got ${JSON.stringify(value)}`);
  return value === 'true';
}

function presetFields(name: string): Partial<ProviderConfig> {
  const preset = PRESETS[name];
  if (!preset) throw new UsageError(`unknown preset "${name}": use one of ${Object.keys(PRESETS).join(', ')}`);
  return { preset: name, ...presetConfig(preset) };
}

/**
 * Applies the flags to `base`: each flag given replaces that field (a repeatable flag replaces the
 * whole list, and `--param` the whole table unless `mergeParams`, for a preset's table), everything else stays. `--issuer`
 * drops the endpoints `base` had (from a preset or an older issuer): only the endpoint flags given
 * with it are kept, the others are taken from the issuer's discovery document (explicit ones win over
 * it, see configuredEndpoints), and a preset keeps only its scopes, params and names.
 */
function applyFlags(base: Partial<ProviderConfig>, opts: ProviderFlags, mergeParams: boolean): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...base };
  if (opts.issuer !== undefined) {
    for (const key of ENDPOINT_KEYS) delete cfg[key];
  }
  const scopes = scopeList(opts.scope);
  Object.assign(cfg, {
    ...(opts.issuer !== undefined && { issuer: opts.issuer }),
    ...(opts.authorizationEndpoint !== undefined && { authorization_endpoint: opts.authorizationEndpoint }),
    ...(opts.tokenEndpoint !== undefined && { token_endpoint: opts.tokenEndpoint }),
    ...(opts.revocationEndpoint !== undefined && { revocation_endpoint: opts.revocationEndpoint }),
    ...(opts.deviceAuthorizationEndpoint !== undefined && {
      device_authorization_endpoint: opts.deviceAuthorizationEndpoint,
    }),
    ...(opts.clientId !== undefined && { client_id: opts.clientId }),
    ...(scopes && { scopes }),
    ...(opts.envName?.length && { env_names: opts.envName }),
    ...(opts.gitHost?.length && { git_hosts: opts.gitHost.map(checkGitHost) }),
    ...(opts.gitUsername !== undefined && { git_username: opts.gitUsername }),
    ...(opts.registryHost?.length && { registry_hosts: opts.registryHost.map(checkRegistryHost) }),
    ...(opts.registryUsername !== undefined && { registry_username: opts.registryUsername }),
    ...(opts.rotatesRefreshTokens !== undefined && { rotates_refresh_tokens: yesNo(opts.rotatesRefreshTokens) }),
    ...(opts.exchangeFrom !== undefined && { exchange_from: opts.exchangeFrom }),
    ...(opts.exchange !== undefined && { exchange: opts.exchange }),
    ...(opts.connection !== undefined && { connection: opts.connection }),
    ...(opts.loginHint !== undefined && { login_hint: opts.loginHint }),
    ...(opts.audience !== undefined && { audience: opts.audience }),
    ...(opts.resource !== undefined && { resource: opts.resource }),
    ...(opts.subjectToken !== undefined && { subject_token: opts.subjectToken }),
  });
  if (opts.param?.length) cfg.params = { ...(mergeParams ? base.params : {}), ...parseParams(opts.param) };
  if (cfg.params !== undefined && !Object.keys(cfg.params as object).length) delete cfg.params;
  return cfg;
}

/** `provider add`: a preset (if any) with the flags applied; flags win. Pure, tested without I/O. */
export function buildProviderConfig(name: string, opts: ProviderFlags): ProviderConfig {
  checkProviderName(name);
  const cfg = applyFlags(opts.preset !== undefined ? presetFields(opts.preset) : {}, opts, true);
  // Its tokens come from another provider's login, at that provider's server.
  if (cfg.exchange_from !== undefined) return validateProvider(name, cfg, `provider ${name}`);
  if (cfg.exchange !== undefined)
    throw new UsageError('--exchange needs --exchange-from (the provider whose login is exchanged)');
  if (cfg.client_id === undefined)
    throw new UsageError('--client-id is required (the client id registered at the provider)');
  if (cfg.issuer === undefined && !(cfg.authorization_endpoint && cfg.token_endpoint)) {
    throw new UsageError('give --preset, --issuer URL, or both --authorization-endpoint and --token-endpoint');
  }
  return validateProvider(name, cfg, `provider ${name}`);
}

/** `provider set`: the existing configuration with only the given fields changed (`--preset` re-applies a preset's values first). */
export function editProviderConfig(name: string, existing: ProviderConfig, opts: ProviderFlags): ProviderConfig {
  const base = opts.preset !== undefined ? { ...existing, ...presetFields(opts.preset) } : existing;
  return validateProvider(name, applyFlags(base, opts, false), `provider ${name}`);
}

/** The client id and endpoint fields that differ between two configurations. */
export function identityChanges(before: ProviderConfig, after: ProviderConfig): string[] {
  return IDENTITY_KEYS.filter((key) => before[key] !== after[key]);
}
