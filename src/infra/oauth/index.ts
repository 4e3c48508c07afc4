/**
 * The only module that imports openid-client: every OAuth 2.0 / OpenID Connect exchange goes
 * through here. It is loaded lazily, never on the cached-token path.
 */
import * as oidc from 'openid-client';
import {
  ExitCode,
  RefreshRejectedError,
  TemporaryError,
  UsageError,
  VaultError,
  loginCommand,
} from '../../core/errors.js';
import { isLoopbackHost, type Provider } from '../../core/config/providers.js';
import { MAX_LIFETIME_MS, tokenTypeOf, type TokenResult } from '../../core/token-set.js';
import { tenantIssuer } from '../../core/config/issuer.js';
import { serverText } from '../../core/server-text.js';
import { describeNetworkError, httpOptionsFromEnv, makeFetch } from './http.js';
import { tenantGrant, type SharedEndpoint } from './tenant-grant.js';

export type Configuration = oidc.Configuration;

export interface OAuthDeps {
  env: NodeJS.ProcessEnv;
  debug: (message: string) => void;
}

function fetchFor(deps: OAuthDeps) {
  const f = makeFetch(httpOptionsFromEnv(deps.env, deps.debug));
  return ((url: string, options: RequestInit) => f(url, options)) as unknown as oidc.CustomFetch;
}

function insecureAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

/** Discovery (OpenID Connect Discovery 1.0 / RFC 8414) for `provider add --issuer`. */
export async function discoverMetadata(issuer: string, deps: OAuthDeps): Promise<oidc.ServerMetadata> {
  const customFetch = fetchFor(deps);
  try {
    const config = await oidc.discovery(new URL(issuer), 'vault-discovery-probe', undefined, undefined, {
      [oidc.customFetch]: customFetch,
      execute: insecureAllowed(issuer) ? [oidc.allowInsecureRequests] : [],
    });
    return config.serverMetadata();
  } catch (error) {
    if (isTemporary(error)) {
      throw new TemporaryError(`cannot reach ${issuer} for discovery: ${describe(error)}`, { cause: error });
    }
    throw new UsageError(
      `${issuer} did not answer with authorization server metadata: ${describe(error)} (check the issuer URL, or pass --offline)`,
      {
        cause: error,
      },
    );
  }
}

function clientAuth(metadata: oidc.ServerMetadata, secret: string | undefined): oidc.ClientAuth {
  if (!secret) return oidc.None();
  const methods = metadata.token_endpoint_auth_methods_supported;
  // RFC 6749 §2.3.1: servers must support HTTP Basic; without metadata (GitHub) send it in the body,
  // which every preset's server accepts.
  if (methods?.includes('client_secret_basic')) return oidc.ClientSecretBasic(secret);
  return oidc.ClientSecretPost(secret);
}

/** Configurations of providers on a shared endpoint (see tenant-grant.ts), by the Configuration handed out. */
const sharedEndpoints = new WeakMap<oidc.Configuration, SharedEndpoint>();

/** Builds the openid-client Configuration for a provider, with discovery only when endpoints are unknown. */
export async function configure(
  provider: Provider,
  clientSecret: string | undefined,
  deps: OAuthDeps,
): Promise<oidc.Configuration> {
  const customFetch = fetchFor(deps);
  const finish = (config: oidc.Configuration, f: oidc.CustomFetch) => {
    config[oidc.customFetch] = f;
    const m = config.serverMetadata();
    if ([m.token_endpoint, m.authorization_endpoint, m.issuer].some((u) => u && insecureAllowed(u)))
      oidc.allowInsecureRequests(config);
    return config;
  };
  if (provider.token_endpoint && provider.authorization_endpoint) {
    const tenant = tenantIssuer(provider);
    const metadata: oidc.ServerMetadata = {
      issuer: provider.issuer ?? tenant?.placeholder ?? new URL(provider.authorization_endpoint).origin,
      authorization_endpoint: provider.authorization_endpoint,
      token_endpoint: provider.token_endpoint,
      ...(provider.revocation_endpoint && { revocation_endpoint: provider.revocation_endpoint }),
      ...(provider.device_authorization_endpoint && {
        device_authorization_endpoint: provider.device_authorization_endpoint,
      }),
      ...(provider.userinfo_endpoint && { userinfo_endpoint: provider.userinfo_endpoint }),
      ...(provider.jwks_uri && { jwks_uri: provider.jwks_uri }),
    };
    const build = (issuer: string, f: oidc.CustomFetch) =>
      finish(
        new oidc.Configuration(
          { ...metadata, issuer },
          provider.client_id,
          undefined,
          clientAuth(metadata, clientSecret),
        ),
        f,
      );
    const config = build(metadata.issuer, customFetch);
    if (tenant && tenant.fixed === undefined)
      sharedEndpoints.set(config, { issuer: tenant, fetch: customFetch, configure: build });
    return config;
  }
  const issuer = provider.issuer!;
  try {
    // Discovery first without a secret to learn the auth methods, then the real configuration.
    const discovered = await oidc.discovery(new URL(issuer), provider.client_id, undefined, undefined, {
      [oidc.customFetch]: customFetch,
      execute: insecureAllowed(issuer) ? [oidc.allowInsecureRequests] : [],
    });
    const metadata = discovered.serverMetadata();
    // Tokens are judged by our clock against the server's expiry; no tolerance hides a stale token.
    return finish(
      new oidc.Configuration(metadata, provider.client_id, undefined, clientAuth(metadata, clientSecret)),
      customFetch,
    );
  } catch (error) {
    throw classify(error, provider, 'discovery', 'default');
  }
}

/** Runs a grant, through tenantGrant when the provider is on a shared endpoint. */
function grant<T>(
  config: oidc.Configuration,
  callbackIss: string | null,
  run: (config: oidc.Configuration) => Promise<T>,
): Promise<T> {
  const shared = sharedEndpoints.get(config);
  return shared ? tenantGrant(shared, config.serverMetadata().token_endpoint!, callbackIss, run) : run(config);
}

/**
 * Expiry from expires_in (RFC 6749 §5.1), else a JWT access token's exp, at most MAX_LIFETIME_MS
 * away. Without either, a token that came with a refresh token (`refreshable`) is taken to live an
 * hour: expires_in is only RECOMMENDED, and a login that can refresh is meant to; one that cannot
 * (GitHub OAuth apps) does not expire.
 */
export function expiryOf(
  response: { expires_in?: number; access_token: string },
  now: number,
  refreshable = false,
): number | null {
  const clamp = (at: number) => Math.min(at, now + MAX_LIFETIME_MS);
  if (typeof response.expires_in === 'number' && Number.isFinite(response.expires_in))
    return clamp(now + Math.max(0, response.expires_in) * 1000);
  const parts = response.access_token.split('.');
  if (parts.length === 3) {
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
      if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) return clamp(claims.exp * 1000);
    } catch {
      // Not a JWT after all.
    }
  }
  return refreshable ? now + 3600 * 1000 : null;
}

/**
 * RFC 6749 §3.3: scopes are space-delimited. GitHub answers them comma-separated
 * ("repo,read:org"); stored as sent they would read as one scope in `status`.
 */
export function scopeString(scope: string): string {
  return /\s/.test(scope) ? scope : scope.split(',').filter(Boolean).join(' ');
}

/** `refreshable`: a refresh token stands behind this access token (sent now, or stored from before). */
export function toTokenResult(
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  now: number,
  refreshable = false,
): TokenResult {
  if (typeof response.access_token !== 'string' || response.access_token === '') {
    throw new VaultError('the token endpoint answered without an access_token', ExitCode.failure, 'no_access_token');
  }
  const claims = response.id_token ? response.claims() : undefined;
  const identity = claims ? (typeof claims.email === 'string' ? claims.email : claims.sub) : undefined;
  return {
    access_token: response.access_token,
    token_type: tokenTypeOf(response.token_type),
    ...(typeof response.refresh_token === 'string' &&
      response.refresh_token && { refresh_token: response.refresh_token }),
    expires_at: expiryOf(
      response,
      now,
      refreshable || (typeof response.refresh_token === 'string' && response.refresh_token !== ''),
    ),
    ...(typeof response.scope === 'string' && { scope: scopeString(response.scope) }),
    ...(identity && { identity }),
  };
}

/** A refresh grant (RFC 6749 §6), optionally narrowed to a subset of the granted scopes. */
export async function refreshGrant(
  config: oidc.Configuration,
  provider: Provider,
  account: string,
  refreshToken: string,
  scopes: readonly string[] | undefined,
  now: () => number,
): Promise<TokenResult> {
  const params: Record<string, string> = {};
  if (scopes?.length) params.scope = scopes.join(' ');
  try {
    const response = await grant(config, null, (c) => oidc.refreshTokenGrant(c, refreshToken, params));
    return toTokenResult(response, now(), true);
  } catch (error) {
    throw classify(error, provider, 'refresh', account);
  }
}

/** RFC 7009 revocation of a refresh token (or of a non-expiring access token, the only credential of some logins). */
export async function revoke(
  config: oidc.Configuration,
  provider: Provider,
  token: string,
  hint: 'refresh_token' | 'access_token' = 'refresh_token',
): Promise<void> {
  try {
    await oidc.tokenRevocation(config, token, { token_type_hint: hint });
  } catch (error) {
    throw classify(error, provider, 'revocation', 'default');
  }
}

export function isTemporary(error: unknown): boolean {
  if (error instanceof TemporaryError) return true;
  const e = error as { name?: string; status?: number; cause?: unknown; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  const status = typeof e?.status === 'number' ? e.status : e?.cause instanceof Response ? e.cause.status : undefined;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return e?.cause !== undefined && e.cause !== error && isTemporary(e.cause);
}

function oneLine(text: string): string {
  return serverText(text.replace(/\s+/g, ' ').trim());
}

/** A short description of an OAuth failure that carries no secret. */
export function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) {
    return error.error_description
      ? `${serverText(error.error)} (${serverText(error.error_description)})`
      : serverText(error.error);
  }
  // RFC 6749 §5.2: a failed client authentication may come as 401 with a WWW-Authenticate challenge.
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    const p = error.cause[0]?.parameters;
    if (p?.error)
      return p.error_description ? `${serverText(p.error)} (${serverText(p.error_description)})` : serverText(p.error);
    return `HTTP ${error.status} (client authentication failed)`;
  }
  const e = error as { name?: string; message?: string; cause?: unknown; code?: string };
  // openid-client's own message is generic ("invalid response encountered"); its cause names the
  // broken member (never its value) of a body that is not what RFC 6749 §5.1 prescribes.
  if (e?.code === 'OAUTH_PARSE_ERROR') return 'the server answered with malformed JSON';
  if (e?.code === 'OAUTH_INVALID_RESPONSE' && e.cause instanceof Error)
    return `the server's answer is not a valid OAuth response: ${oneLine(e.cause.message.replace(/"response" body /, ''))}`;
  // Other openid-client errors keep the precise check in `cause`; those messages name the failed
  // check, never a value.
  if (
    error instanceof oidc.ClientError &&
    error.cause instanceof Error &&
    error.cause.message &&
    error.cause.message !== error.message
  ) {
    return `${error.message}: ${oneLine(error.cause.message)}`;
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return describeNetworkError(error);
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_JSON' && e.cause instanceof Response) {
    return `the server answered HTTP ${e.cause.status} with ${e.cause.headers.get('content-type')?.split(';')[0] || 'no content type'}, not JSON`;
  }
  if (e?.cause instanceof Response) return `HTTP ${e.cause.status} ${e.cause.statusText}`.trim();
  return oneLine(e?.message ?? String(error));
}

/** Maps an openid-client failure to a VaultError with the right exit code (SPEC.md "Exit codes"). */
export function classify(error: unknown, provider: Provider, action: string, account: string): VaultError {
  // Our own fetch's refusals (a body over the size limit) come back wrapped by openid-client.
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof VaultError) return e;
  }
  const what = `${action} for ${provider.name}`;
  if (isTemporary(error))
    return new TemporaryError(`${what} failed: ${describe(error)} (temporary; try again)`, { cause: error });
  if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant' && action === 'refresh') {
    const google = provider.preset === 'google' || provider.token_endpoint?.includes('googleapis.com');
    const hint = google ? '; Google expires refresh tokens after 7 days for apps in "Testing" status' : '';
    return new RefreshRejectedError(
      `${what} failed: invalid_grant (refresh token revoked or expired${hint}) — run \`${loginCommand(provider.name, account)}\``,
      { cause: error },
    );
  }
  if (isInvalidClient(error)) {
    // RFC 6749 §5.2: the client id is unknown, or its authentication (the secret) was wrong or missing.
    const p = provider.name;
    return new VaultError(
      `${what} failed: ${describe(error)} — ${p} does not accept this client: if it has a client secret, store it with \`vault provider set ${p} --client-secret-stdin\`; if its client id changed, \`vault provider set ${p} --client-id ID\` and log in again`,
      ExitCode.failure,
      'invalid_client',
      { cause: error },
    );
  }
  return new VaultError(`${what} failed: ${describe(error)}`, ExitCode.failure, 'oauth_error', { cause: error });
}

function isInvalidClient(error: unknown): boolean {
  if (error instanceof oidc.ResponseBodyError) return error.error === 'invalid_client';
  if (error instanceof oidc.WWWAuthenticateChallengeError)
    return error.status === 401 || error.cause.some((c) => c.parameters.error === 'invalid_client');
  return false;
}

/** PKCE (RFC 7636, S256 only), state (RFC 6749 §10.12) and nonce (OIDC Core §3.1.2.1) for one login. */
export async function loginSecrets(
  withNonce: boolean,
): Promise<{ verifier: string; challenge: string; state: string; nonce?: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  return {
    verifier,
    challenge: await oidc.calculatePKCECodeChallenge(verifier),
    state: oidc.randomState(),
    ...(withNonce && { nonce: oidc.randomNonce() }),
  };
}

export function authorizationUrl(config: oidc.Configuration, params: Record<string, string>): URL {
  return oidc.buildAuthorizationUrl(config, params);
}

/**
 * Exchanges the code from the loopback callback. openid-client checks state, the RFC 9207 `iss`
 * parameter when the server advertises it, the ID token's claims and nonce, and sends the PKCE
 * verifier.
 */
export async function exchangeCode(
  config: oidc.Configuration,
  provider: Provider,
  callbackUrl: URL,
  checks: { verifier: string; state: string; nonce?: string; idTokenExpected: boolean },
  now: () => number,
): Promise<TokenResult> {
  try {
    // RFC 9207 §2.4: a callback naming another issuer is refused before the code is sent anywhere.
    const iss = callbackUrl.searchParams.get('iss');
    const shared = sharedEndpoints.get(config);
    if (shared && iss !== null && !shared.issuer.fits(iss)) {
      throw new VaultError(
        `login to ${provider.name} failed: the callback names issuer ${serverText(iss)}, not one of ${provider.name}'s`,
        ExitCode.failure,
        'issuer_mismatch',
      );
    }
    const response = await grant(config, iss, (c) =>
      oidc.authorizationCodeGrant(c, callbackUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        ...(checks.nonce && { expectedNonce: checks.nonce }),
        idTokenExpected: checks.idTokenExpected,
      }),
    );
    return await loginResult(config, response, now());
  } catch (error) {
    throw classify(error, provider, 'login', 'default');
  }
}

/**
 * A login's token result with the best identity at hand: the ID token's email, else the email
 * from the UserInfo endpoint (OIDC Core §5.3; many servers keep `email` there, not in the ID
 * token) when the `email` scope was granted, else the subject. UserInfo is optional: a failure
 * only leaves the subject.
 */
async function loginResult(
  config: oidc.Configuration,
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  now: number,
): Promise<TokenResult> {
  const result = toTokenResult(response, now);
  const claims = response.id_token ? response.claims() : undefined;
  const granted = (result.scope ?? '').split(' ');
  if (
    claims &&
    typeof claims.email !== 'string' &&
    granted.includes('email') &&
    config.serverMetadata().userinfo_endpoint
  ) {
    try {
      const info = await oidc.fetchUserInfo(config, response.access_token, claims.sub);
      if (typeof info.email === 'string') result.identity = info.email;
    } catch {
      // The subject identifies the login well enough; the email is for people reading `status`.
    }
  }
  return result;
}

export type DeviceAuthorization = Awaited<ReturnType<typeof oidc.initiateDeviceAuthorization>>;

/** RFC 8628 §3.1–3.2: asks for a device code and user code. */
export async function startDevice(
  config: oidc.Configuration,
  provider: Provider,
  params: Record<string, string>,
): Promise<DeviceAuthorization> {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new VaultError(
      `${provider.name} has no device authorization endpoint: log in without --device`,
      ExitCode.usage,
      'no_device_endpoint',
    );
  }
  try {
    return await oidc.initiateDeviceAuthorization(config, params);
  } catch (error) {
    throw classify(error, provider, 'device authorization', 'default');
  }
}

/** RFC 8628 §3.4–3.5: polls at `interval`, slowing down on `slow_down`, until approval, denial or expiry. */
export async function pollDevice(
  config: oidc.Configuration,
  provider: Provider,
  device: DeviceAuthorization,
  signal: AbortSignal,
  now: () => number,
): Promise<TokenResult> {
  try {
    const response = await grant(config, null, (c) =>
      oidc.pollDeviceAuthorizationGrant(c, device, undefined, { signal }),
    );
    return await loginResult(config, response, now());
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === 'expired_token') {
      throw new VaultError(
        `the device code for ${provider.name} expired before the login was approved: run the login again`,
        ExitCode.failure,
        'expired_token',
        { cause: error },
      );
    }
    throw classify(error, provider, 'login', 'default');
  }
}

export { oidc };
