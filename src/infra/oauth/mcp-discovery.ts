import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import { ENDPOINT_KEYS, checkEndpointUrl, isLoopbackHost } from '../../core/config/providers.js';
import {
  LOOPBACK_REDIRECT_URI,
  resourceMetadataParam,
  type McpDiscovery,
  type RegisteredClient,
} from '../../core/config/mcp.js';
import { serverText } from '../../core/server-text.js';
import { describe, isTemporary } from './errors.js';
import { httpOptionsFromEnv, makeFetch } from './http.js';
import { isConfigurationFault } from './net-errors.js';
import type { OAuthDeps } from './configure.js';

// `provider add --mcp`: the MCP authorization spec's discovery. An unauthenticated request to the
// MCP server, its RFC 9728 protected resource metadata, the authorization server's metadata
// (RFC 8414, then OpenID Connect Discovery), and RFC 7591 registration of a native public client.

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

function insecureAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

/** The library options of a request to `url`: our fetch (proxy, timeouts, debug), plain http only on loopback. */
function libraryOptions(f: Fetch, url: string) {
  return { [oauth.customFetch]: f, [oauth.allowInsecureRequests]: insecureAllowed(url) };
}

/** A failure to reach `url`: exit 2 for a configuration fault, 4 for a temporary one, else undefined. */
function unreachable(error: unknown, what: string): VaultError | undefined {
  if (error instanceof VaultError) return error;
  if (isConfigurationFault(error)) return new UsageError(`cannot reach ${what}: ${describe(error)}`, { cause: error });
  if (isTemporary(error)) return new TemporaryError(`cannot reach ${what}: ${describe(error)}`, { cause: error });
  return undefined;
}

/**
 * The MCP initialize request, unauthenticated: a server that needs a token answers 401 with a
 * WWW-Authenticate challenge naming its metadata (RFC 9728 §5.1). Its URL, when it names one.
 */
async function probe(f: Fetch, url: string): Promise<string | undefined> {
  let response: Response;
  try {
    response = await f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'vault', version: '1' } },
      }),
      redirect: 'manual',
    });
  } catch (error) {
    throw unreachable(error, `the MCP server ${url}`) ?? error;
  }
  const named = resourceMetadataParam(response.headers.get('www-authenticate'));
  if (named === undefined) return undefined;
  const why = checkEndpointUrl(named);
  if (why) throw new UsageError(`${url} names its resource metadata at ${serverText(named)}: ${why}`);
  return new URL(named).href;
}

/** One RFC 9728 metadata document, checked (§3.3) to be about `resource`; undefined when it is not there (404...). */
async function readMetadata(
  resource: string,
  metadataUrl: string,
  request: () => Promise<Response>,
): Promise<oauth.ResourceServer | undefined> {
  let response: Response;
  try {
    response = await request();
  } catch (error) {
    throw unreachable(error, `the resource metadata at ${metadataUrl}`) ?? error;
  }
  if (response.status === 429 || response.status >= 500)
    throw new TemporaryError(
      `the resource metadata at ${metadataUrl} answered HTTP ${response.status} (temporary; try again)`,
    );
  if (response.status !== 200) return undefined;
  try {
    return await oauth.processResourceDiscoveryResponse(new URL(resource), response);
  } catch (error) {
    const e = error as { code?: string; cause?: { body?: { resource?: unknown } } };
    if (e.code === oauth.JSON_ATTRIBUTE_COMPARISON)
      throw new UsageError(
        `the resource metadata at ${metadataUrl} is for ${serverText(String(e.cause?.body?.resource))}, not ${resource} (RFC 9728 §3.3): refused`,
        { cause: error },
      );
    throw new UsageError(`the resource metadata at ${metadataUrl} is not usable: ${describe(error)}`, {
      cause: error,
    });
  }
}

/**
 * The protected resource metadata: where the 401 said, else the well-known URI with the
 * resource's path (RFC 9728 §3.1), else the one at the root.
 */
async function resourceMetadata(f: Fetch, resource: string): Promise<[oauth.ResourceServer, string]> {
  const named = await probe(f, resource);
  const options = libraryOptions(f, resource);
  const candidates: [string, () => Promise<Response>][] = named
    ? [[named, () => f(named, { headers: { accept: 'application/json' }, redirect: 'manual' })]]
    : [new URL(resource), new URL(new URL(resource).origin)]
        .filter((at, i) => i === 0 || at.pathname !== new URL(resource).pathname)
        .map((at) => {
          const wellKnown = new URL(at);
          wellKnown.pathname = `/.well-known/oauth-protected-resource${at.pathname === '/' ? '' : at.pathname}`;
          return [wellKnown.href, () => oauth.resourceDiscoveryRequest(at, options)];
        });
  for (const [at, request] of candidates) {
    const metadata = await readMetadata(resource, at, request);
    if (metadata) return [metadata, at];
  }
  throw new UsageError(
    `${resource} publishes no OAuth protected resource metadata (RFC 9728; tried ${candidates.map(([a]) => a).join(', ')}): add the provider with --issuer and --resource instead`,
  );
}

/** The authorization server's metadata: RFC 8414 first, then OpenID Connect Discovery, as MCP clients look. */
async function serverMetadata(
  f: Fetch,
  issuer: string,
): Promise<{ metadata: oidc.ServerMetadata; discoveredBy: 'oauth2' | 'oidc' }> {
  let last: unknown;
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    try {
      const config = await oidc.discovery(new URL(issuer), 'vault-discovery-probe', undefined, undefined, {
        algorithm,
        [oidc.customFetch]: f as unknown as oidc.CustomFetch,
        execute: insecureAllowed(issuer) ? [oidc.allowInsecureRequests] : [],
      });
      return { metadata: config.serverMetadata(), discoveredBy: algorithm };
    } catch (error) {
      const failed = unreachable(error, `the authorization server ${issuer}`);
      if (failed) throw failed;
      last = error;
    }
  }
  throw new UsageError(
    `the authorization server ${issuer} did not answer with its metadata (RFC 8414 or OpenID Connect discovery): ${describe(last)}`,
    { cause: last },
  );
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string' && s !== '') : [];

/** Discovery for `provider add --mcp`: `url` must be the server's canonical URI, as its metadata names it. */
export async function discoverMcpServer(url: string, deps: OAuthDeps): Promise<McpDiscovery> {
  const f = makeFetch(httpOptionsFromEnv(deps.env, deps.debug));
  const resource = new URL(url).href;
  const [metadata, metadataUrl] = await resourceMetadata(f, resource);
  const [first] = strings(metadata.authorization_servers);
  if (first === undefined)
    throw new UsageError(`the resource metadata at ${metadataUrl} names no authorization_servers: refused`);
  const why = checkEndpointUrl(first);
  if (why) throw new UsageError(`the authorization server ${serverText(first)} named at ${metadataUrl}: ${why}`);
  const { metadata: server, discoveredBy } = await serverMetadata(f, first);
  const endpoints: McpDiscovery['endpoints'] = {};
  for (const key of ENDPOINT_KEYS) if (typeof server[key] === 'string') endpoints[key] = server[key];
  deps.debug(`mcp: ${resource} → authorization server ${server.issuer} (${discoveredBy})`);
  return {
    resource: metadata.resource,
    metadataUrl,
    resourceScopes: strings(metadata.scopes_supported),
    issuer: server.issuer,
    discoveredBy,
    endpoints,
    serverScopes: strings(server.scopes_supported),
    registration: typeof server.registration_endpoint === 'string',
  };
}

/**
 * RFC 7591 registration of a native public client (RFC 8252): PKCE instead of a secret, the
 * loopback redirect `vault login` uses, the grants a login and its refreshes need.
 */
export async function registerNativeClient(found: McpDiscovery, deps: OAuthDeps): Promise<RegisteredClient> {
  const f = makeFetch(httpOptionsFromEnv(deps.env, deps.debug));
  try {
    const config = await oidc.dynamicClientRegistration(
      new URL(found.issuer),
      {
        client_name: 'vault',
        application_type: 'native',
        redirect_uris: [LOOPBACK_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      oidc.None(),
      {
        algorithm: found.discoveredBy,
        [oidc.customFetch]: f as unknown as oidc.CustomFetch,
        execute: insecureAllowed(found.issuer) ? [oidc.allowInsecureRequests] : [],
      },
    );
    const client = config.clientMetadata();
    return {
      clientId: client.client_id,
      ...(typeof client.client_secret === 'string' && client.client_secret && { clientSecret: client.client_secret }),
    };
  } catch (error) {
    throw (
      unreachable(error, `the registration endpoint of ${found.issuer}`) ??
      new VaultError('failure', `dynamic client registration at ${found.issuer} failed: ${describe(error)}`, {
        cause: error,
      })
    );
  }
}
