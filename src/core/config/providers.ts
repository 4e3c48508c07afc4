import { UsageError } from '../errors.js';
import { PRESETS } from './presets.js';
import { checkProviderName, closestName, envStem } from './names.js';

/** One `[providers.<name>]` table of config.toml. */
export interface ProviderConfig {
  preset?: string;
  issuer?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  device_authorization_endpoint?: string;
  userinfo_endpoint?: string;
  jwks_uri?: string;
  client_id: string;
  scopes?: string[];
  params?: Record<string, string>;
  env_names?: string[];
  git_hosts?: string[];
  git_username?: string;
  /** Container registries served (docker-credential): `host[:port]`, `*.domain` or `*-domain`. */
  registry_hosts?: string[];
  registry_username?: string;
  /**
   * Whether a new login revokes the refresh token it replaces (RFC 7009). Only for servers that
   * revoke that token alone: where revoking a token revokes its whole grant (Google, oidc-provider's
   * default), the new login shares the grant and would die with it.
   */
  revoke_replaced?: boolean;
  /**
   * Seconds the provider keeps honouring a refresh token it has just rotated (Okta's "grace
   * period", Auth0's "reuse interval"): inside that window one refresh whose answer was lost may
   * be sent again. Without it, a refresh grant that may have reached the server is never re-sent.
   */
  rotation_grace?: number;
  /**
   * False when the server keeps the same refresh token across refreshes (Google): then an exported
   * copy and the local one can both live. Unset: assumed to rotate (RFC 9700 §4.14.2 recommends it).
   */
  rotates_refresh_tokens?: boolean;
  /** Azure resource → scopes (space-separated) for `--azure`; the microsoft preset needs none. */
  azure_resources?: Record<string, string>;
  /**
   * Token exchange: this provider has no login of its own; its tokens come from exchanging the
   * login to `exchange_from` at that provider's token endpoint, with that provider's client.
   */
  exchange_from?: string;
  /** Auth0 Token Vault's federated-connection exchange, or RFC 8693 token exchange. */
  exchange?: 'token-vault' | 'rfc8693';
  /** Token Vault: the federated connection (`google-oauth2`) whose token is asked for. */
  connection?: string;
  /** Token Vault: which of the user's accounts at the connection. */
  login_hint?: string;
  /** RFC 8693 §2.1 `audience`. */
  audience?: string;
  /**
   * RFC 8707 `resource`: sent in the authorization, code and refresh requests of this provider's
   * logins (an MCP server's URL); for an exchanged provider, RFC 8693 §2.1's `resource`.
   */
  resource?: string;
  /** The MCP server `provider add --mcp` discovered this provider from (its canonical URI). */
  mcp_url?: string;
  /** RFC 8693: the source login's access token (default) or ID token as the subject token. */
  subject_token?: 'access' | 'id';
}

export interface Provider extends ProviderConfig {
  name: string;
}

export interface Config {
  providers: Record<string, ProviderConfig>;
}

/** Endpoints a preset or an earlier configuration may hold; discovery answers all of them. */
export const ENDPOINT_KEYS = [
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'device_authorization_endpoint',
  'userinfo_endpoint',
  'jwks_uri',
] as const;

/** 127.0.0.0/8, [::1] and localhost: the only hosts where plain http is acceptable (RFC 8252 §8.3). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Accepts https URLs, and http ones only on loopback. Returns the reason when it refuses. */
export function checkEndpointUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopbackHost(url.hostname) ? undefined : 'http:// is allowed only for loopback hosts; use https://';
  return `unsupported scheme ${url.protocol}`;
}

/** The provider with its name, or a usage error naming the closest configured one (or how to add it). */
export function getProvider(config: Config, name: string, file: string): Provider {
  checkProviderName(name);
  const cfg = config.providers[name];
  if (!cfg) throw unknownProvider(config, name, file);
  return { name, ...cfg };
}

/**
 * The provider a command acts on: the one named, else `VAULT_PROVIDER`, else the only one
 * configured. With several and none named, a usage error lists them.
 */
export function resolveProvider(
  config: Config,
  name: string | undefined,
  env: NodeJS.ProcessEnv,
  file: string,
): Provider {
  if (name !== undefined) return getProvider(config, name, file);
  if (env.VAULT_PROVIDER) {
    try {
      return getProvider(config, env.VAULT_PROVIDER, file);
    } catch (error) {
      throw new UsageError(`VAULT_PROVIDER: ${(error as Error).message}`, { cause: error });
    }
  }
  const names = Object.keys(config.providers).sort();
  if (names.length === 1) return getProvider(config, names[0]!, file);
  if (!names.length)
    throw new UsageError(
      `no provider configured in ${file}: add one with \`vault provider add NAME --preset google --client-id ID\``,
    );
  throw new UsageError(`which provider? name one of ${names.join(', ')} (or set VAULT_PROVIDER)`);
}

function unknownProvider(config: Config, name: string, file: string): UsageError {
  const names = Object.keys(config.providers).sort();
  const hint = name in PRESETS ? ` --preset ${name}` : ' --issuer URL';
  const add = `add it with \`vault provider add ${name}${hint} --client-id ID\``;
  if (!names.length) return new UsageError(`unknown provider "${name}" (not in ${file}): ${add}`);
  const near = name in PRESETS ? undefined : closestName(name, names);
  if (near)
    return new UsageError(`unknown provider "${name}": did you mean ${near}? (configured: ${names.join(', ')})`);
  return new UsageError(`unknown provider "${name}" (configured: ${names.join(', ')}); to use a new one, ${add}`);
}

/** The env names a provider's token is exported as: configured, else `<NAME>_ACCESS_TOKEN`. */
export function envNames(provider: Provider): string[] {
  return provider.env_names?.length ? provider.env_names : [`${envStem(provider.name)}_ACCESS_TOKEN`];
}

/** Whether the provider rotates refresh tokens: as configured, else as its preset says, else yes. */
export function rotatesRefreshTokens(provider: ProviderConfig): boolean {
  return provider.rotates_refresh_tokens ?? PRESETS[provider.preset ?? '']?.rotates_refresh_tokens ?? true;
}
