import { UsageError } from '../errors.js';
import { suggest } from '../suggest.js';
import { mcpScopes, type McpDiscovery, type RegisteredClient } from '../config/mcp.js';
import { checkEndpointUrl, type ProviderConfig } from '../config/providers.js';
import { validateProvider } from '../config/parse-config.js';
import { buildProviderConfig, scopeList, type ProviderFlags } from '../provider-edit.js';

export interface McpPorts {
  discoverMcp(url: string): Promise<McpDiscovery>;
  registerClient(found: McpDiscovery): Promise<RegisteredClient>;
}

/** What `provider add --mcp` found and chose, for its summary (never a secret). */
export interface McpSummary {
  resource: string;
  issuer: string;
  clientId: string;
  /** Whether the client was registered now (RFC 7591) rather than given with --client-id. */
  registered: boolean;
  scopes: string[];
}

/** The flags that name a server or client another way: the MCP server's metadata names them. */
const NOT_WITH_MCP = [
  ['preset', '--preset'],
  ['issuer', '--issuer'],
  ['authorizationEndpoint', '--authorization-endpoint'],
  ['tokenEndpoint', '--token-endpoint'],
  ['exchangeFrom', '--exchange-from'],
  ['exchange', '--exchange'],
  ['resource', '--resource'],
  ['offline', '--offline'],
] as const;

/**
 * `provider add NAME --mcp URL`: the provider as the MCP server's metadata describes it (RFC 9728
 * → RFC 8414 / OIDC discovery), with a client registered by RFC 7591 unless `--client-id` names
 * one. Every other flag is checked before any request, so a typo registers no client.
 */
export async function mcpProviderConfig(
  deps: McpPorts,
  name: string,
  flags: ProviderFlags & { mcp: string },
): Promise<{ cfg: ProviderConfig; summary: McpSummary; clientSecret?: string }> {
  for (const [key, flag] of NOT_WITH_MCP)
    if (flags[key] !== undefined)
      throw new UsageError(`${flag} is not used with --mcp (the MCP server names its server)`);
  const why = checkEndpointUrl(flags.mcp);
  if (why) throw new UsageError(`--mcp: ${why} (${flags.mcp})`);
  if (new URL(flags.mcp).hash) throw new UsageError(`--mcp: an MCP server's URL has no fragment (${flags.mcp})`);
  if (flags.clientSecretStdin && flags.clientId === undefined)
    throw new UsageError('--client-secret-stdin with --mcp needs --client-id (a client registered now is public)');
  const rest = { ...flags, mcp: undefined };
  // The other flags, checked with stand-ins for what discovery will say.
  buildProviderConfig(name, { ...rest, issuer: 'https://issuer.invalid', clientId: flags.clientId ?? 'pending' });

  const found = await deps.discoverMcp(flags.mcp);
  if (flags.clientId === undefined && !found.registration)
    throw new UsageError(
      `${found.issuer} offers no dynamic client registration (RFC 7591): register a client there (redirect URI http://127.0.0.1/callback) and pass it with \`${suggest(['provider', 'add', name, '--mcp', flags.mcp, '--client-id', 'ID'])}\``,
    );
  const registered = flags.clientId === undefined ? await deps.registerClient(found) : undefined;
  const clientId = registered?.clientId ?? flags.clientId!;
  const scopes = scopeList(flags.scope) ?? mcpScopes(found);
  const base = buildProviderConfig(name, { ...rest, issuer: found.issuer, clientId, scope: scopes });
  // Logins run OpenID Connect discovery at the issuer: a server found by RFC 8414 only keeps its
  // endpoints here instead (configured endpoints need no discovery, see configuredEndpoints).
  const cfg = validateProvider(
    name,
    {
      ...base,
      ...(found.discoveredBy === 'oauth2' && found.endpoints),
      resource: found.resource,
      mcp_url: found.resource,
    },
    `provider ${name}`,
  );
  return {
    cfg,
    summary: { resource: found.resource, issuer: found.issuer, clientId, registered: Boolean(registered), scopes },
    ...(registered?.clientSecret !== undefined && { clientSecret: registered.clientSecret }),
  };
}
