import type { ENDPOINT_KEYS, ProviderConfig } from './providers.js';

/**
 * The redirect URI a dynamically registered client is registered with: `vault login` listens on
 * 127.0.0.1 at `/callback` on any free port, which RFC 8252 §7.3 lets a native client's loopback
 * redirect do when it is registered without a port.
 */
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/callback';

/** What `provider add --mcp` learnt from an MCP server and its authorization server. */
export interface McpDiscovery {
  /** The server's canonical URI (RFC 9728 `resource`): the URL asked, which the metadata named. */
  resource: string;
  /** Where the protected resource metadata came from. */
  metadataUrl: string;
  /** The resource's `scopes_supported`. */
  resourceScopes: string[];
  /** The first of its `authorization_servers`, as its own metadata names itself. */
  issuer: string;
  /** Which discovery answered: RFC 8414 (`oauth2`) or OpenID Connect Discovery (`oidc`). */
  discoveredBy: 'oauth2' | 'oidc';
  /** The authorization server's endpoints. */
  endpoints: Partial<Record<(typeof ENDPOINT_KEYS)[number], string>>;
  /** The authorization server's `scopes_supported`. */
  serverScopes: string[];
  /** Whether it offers RFC 7591 dynamic client registration (a `registration_endpoint`). */
  registration: boolean;
}

/** A client registered by RFC 7591 dynamic registration. */
export interface RegisteredClient {
  clientId: string;
  /** Only when the server issued one despite `token_endpoint_auth_method: none`; kept in the store. */
  clientSecret?: string;
}

/**
 * The `resource_metadata` parameter (RFC 9728 §5.1) of a `Bearer` challenge in a
 * WWW-Authenticate header (RFC 9110 §11.6.1: challenges are comma-separated, each a scheme and
 * auth-params whose values are tokens or quoted strings). Undefined when no Bearer challenge has it.
 */
export function resourceMetadataParam(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  const quoted = /"((?:[^"\\]|\\.)*)"/y;
  const read = (re: RegExp, at: number) => ((re.lastIndex = at), re.exec(header));
  let scheme: string | undefined;
  let at = 0;
  while (at < header.length) {
    const c = header[at]!;
    if (c === ',' || c === ' ' || c === '\t') {
      at++;
      continue;
    }
    const name = read(token, at);
    if (!name) {
      // Not a token (a token68 with `/`): skip to the next comma.
      while (at < header.length && header[at] !== ',') at++;
      continue;
    }
    at = token.lastIndex;
    while (header[at] === ' ' || header[at] === '\t') at++;
    if (header[at] !== '=') {
      // Not followed by `=`: the next challenge's scheme.
      scheme = name[0].toLowerCase();
      continue;
    }
    at++;
    while (header[at] === ' ' || header[at] === '\t') at++;
    const value = header[at] === '"' ? read(quoted, at) : read(token, at);
    if (!value) {
      // A token68 ending in `=` (`Negotiate abc==`): skip past it.
      while (at < header.length && header[at] !== ',') at++;
      continue;
    }
    at = (header[at] === '"' ? quoted : token).lastIndex;
    while (header[at] === ' ' || header[at] === '\t') at++;
    if (at < header.length && header[at] !== ',') {
      // Malformed (an unquoted URL is no token): not a value to follow.
      while (at < header.length && header[at] !== ',') at++;
      continue;
    }
    if (scheme === 'bearer' && name[0].toLowerCase() === 'resource_metadata')
      return value[1] !== undefined ? value[1].replace(/\\(.)/g, '$1') : value[0];
  }
  return undefined;
}

/**
 * Scopes for a discovered MCP server: the resource's own, plus `offline_access` when the
 * authorization server lists it (OIDC Core §11: how a refresh token is asked for there).
 */
export function mcpScopes(discovery: Pick<McpDiscovery, 'resourceScopes' | 'serverScopes'>): string[] {
  const scopes = [...discovery.resourceScopes];
  if (discovery.serverScopes.includes('offline_access') && !scopes.includes('offline_access'))
    scopes.push('offline_access');
  return scopes;
}

/**
 * The RFC 8707 resource indicator a provider's logins and refreshes ask for. An exchanged
 * provider's `resource` belongs to its exchange (RFC 8693 §2.1), not to a login.
 */
export function loginResource(provider: ProviderConfig): string | undefined {
  return provider.exchange_from === undefined ? provider.resource : undefined;
}

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. The reason when it is not. */
export function checkResourceIndicator(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not an absolute URI';
  }
  return url.hash || value.includes('#') ? 'a resource indicator has no fragment (RFC 8707 §2)' : undefined;
}
