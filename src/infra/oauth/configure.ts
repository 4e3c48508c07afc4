import * as oidc from 'openid-client';
import { TemporaryError, UsageError } from '../../core/errors.js';
import { isLoopbackHost, type Provider } from '../../core/config/providers.js';
import { configuredEndpoints, tenantIssuer } from '../../core/config/issuer.js';
import { classify, describe, isTemporary, noteClientSecret } from './errors.js';
import { httpOptionsFromEnv, makeFetch } from './http.js';
import { isConfigurationFault } from './net-errors.js';
import { tenantGrant, type SharedEndpoint } from './tenant-grant.js';

export type Configuration = oidc.Configuration;

export interface OAuthDeps {
  env: NodeJS.ProcessEnv;
  debug: (message: string) => void;
}

/** When the last grant request of a configuration's fetch was sent (ms since the epoch). */
interface SendClock {
  lastGrantSentAt?: number;
}

function fetchFor(deps: OAuthDeps, provider?: Provider, clock?: SendClock) {
  const f = makeFetch({
    ...httpOptionsFromEnv(deps.env, deps.debug),
    ...(provider?.rotation_grace && { rotationGraceMs: provider.rotation_grace * 1000 }),
    onGrantSent: (at) => clock && (clock.lastGrantSentAt = at),
  });
  return ((url: string, options: RequestInit) => f(url, options)) as unknown as oidc.CustomFetch;
}

const sendClocks = new WeakMap<oidc.Configuration, SendClock>();

/**
 * When the request behind the last grant answer of `config` was sent, taken just before it was
 * written: tokens are dated from then (expires_at = sent_at + expires_in), since the server
 * started their lifetime no later than it read the request.
 */
export function grantSentAt(config: oidc.Configuration): number | undefined {
  return sendClocks.get(config)?.lastGrantSentAt;
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
    if (isConfigurationFault(error)) {
      throw new UsageError(`cannot reach ${issuer} for discovery: ${describe(error)}`, { cause: error });
    }
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
  const clock: SendClock = {};
  const customFetch = fetchFor(deps, provider, clock);
  noteClientSecret(provider, Boolean(clientSecret));
  const finish = (config: oidc.Configuration, f: oidc.CustomFetch) => {
    config[oidc.customFetch] = f;
    // Our fetch bounds every attempt itself (and waits longer for a grant's answer once its request
    // is written); openid-client's own 30 s deadline per call would cut that wait short.
    config.timeout = 0;
    sendClocks.set(config, clock);
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
    // Endpoints given beside the issuer win; discovery fills the rest.
    const { supportsPKCE: _, ...found } = discovered.serverMetadata();
    const metadata: oidc.ServerMetadata = { ...found, ...configuredEndpoints(provider) };
    // Tokens are judged by our clock against the server's expiry; no tolerance hides a stale token.
    return finish(
      new oidc.Configuration(metadata, provider.client_id, undefined, clientAuth(metadata, clientSecret)),
      customFetch,
    );
  } catch (error) {
    throw classify(error, provider, 'discovery', 'default');
  }
}

/** The shared endpoint behind a Configuration from `configure`, if its provider is on one. */
export function sharedEndpointOf(config: oidc.Configuration): SharedEndpoint | undefined {
  return sharedEndpoints.get(config);
}

/** Runs a grant, through tenantGrant when the provider is on a shared endpoint. */
export function grant<T>(
  config: oidc.Configuration,
  callbackIss: string | null,
  run: (config: oidc.Configuration) => Promise<T>,
): Promise<T> {
  const shared = sharedEndpoints.get(config);
  return shared ? tenantGrant(shared, config.serverMetadata().token_endpoint!, callbackIss, run) : run(config);
}
