/**
 * The App Service managed-identity protocol (api-version 2019-08-01), as Azure's SDKs
 * (ManagedIdentityCredential, DefaultAzureCredential) use it to find credentials: the endpoint is
 * IDENTITY_ENDPOINT, and every request carries IDENTITY_HEADER's value in X-IDENTITY-HEADER.
 * https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
 * Pure: the HTTP server, the secret's comparison and the token service are the caller's.
 */
import type { Provider } from '../config/providers.js';
import { PRESETS } from '../config/presets.js';

export const AZURE_API_VERSION = '2019-08-01';
/** The path of IDENTITY_ENDPOINT (App Service's own is /msi/token too). */
export const AZURE_PATH = '/msi/token';
const SECRET_HEADER = 'x-identity-header';

export interface AzureRequest {
  method: string;
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type AzureAnswer =
  | { kind: 'reply'; status: number; body: string }
  /** A token is due for `resource`. */
  | { kind: 'token'; resource: string };

/** Errors are JSON with `statusCode` and `message`; the SDKs show the message. */
export function azureError(status: number, message: string): AzureAnswer & { kind: 'reply' } {
  return { kind: 'reply', status, body: JSON.stringify({ statusCode: status, message }) };
}

/**
 * The answer to a request that passed the loopback checks. `secretMatches` compares the
 * X-IDENTITY-HEADER value with the per-run secret (in constant time, the caller's). Without the
 * secret nothing is served: a page in the user's browser cannot send a custom header to 127.0.0.1
 * without a CORS preflight nothing here answers, and another program would have to read the
 * child's environment to learn it. The Host check keeps DNS-rebound names out even so.
 */
export function azureRoute(
  req: AzureRequest,
  expectedHost: string,
  secretMatches: (value: string | undefined) => boolean,
): AzureAnswer {
  if (req.method !== 'GET') return azureError(405, 'only GET is served');
  if (req.headers.host !== expectedHost) return azureError(403, 'wrong Host header');
  if (!req.url.startsWith('/')) return azureError(403, 'absolute request targets are refused');
  const header = req.headers[SECRET_HEADER];
  if (header === undefined) return azureError(401, 'missing header X-IDENTITY-HEADER');
  if (!secretMatches(typeof header === 'string' ? header : undefined))
    return azureError(401, 'wrong X-IDENTITY-HEADER');
  const url = new URL(req.url, 'http://identity.invalid');
  if (url.pathname !== AZURE_PATH) return azureError(404, 'not found');
  const version = url.searchParams.get('api-version');
  if (version !== AZURE_API_VERSION)
    return azureError(400, `api-version ${AZURE_API_VERSION} is the one served (got ${version ?? 'none'})`);
  const resource = url.searchParams.get('resource');
  if (!resource) return azureError(400, 'missing query parameter resource');
  return { kind: 'token', resource };
}

/**
 * The scopes a token for `resource` is asked for: the preset's template (Microsoft's
 * `{resource}/.default`, the v2 endpoint's name for "whatever the app may have at that
 * resource"), else the provider's `azure_resources` table, else undefined: the login's own token,
 * and the resource decides (as `--gce` does for scopes it cannot map).
 */
export function azureScopes(provider: Provider, resource: string): string[] | undefined {
  const template = PRESETS[provider.preset ?? '']?.azure_scope_template;
  if (template) return [template.replace('{resource}', resource)];
  const mapped = provider.azure_resources?.[resource];
  return mapped ? mapped.split(/\s+/).filter(Boolean) : undefined;
}

/** The token answer; `expiresAt` in ms, `expires_on` in epoch seconds as a string, as App Service writes it. */
export function azureTokenBody(accessToken: string, expiresAt: number, resource: string, clientId: string): string {
  return JSON.stringify({
    access_token: accessToken,
    expires_on: String(Math.floor(expiresAt / 1000)),
    resource,
    token_type: 'Bearer',
    client_id: clientId,
  });
}
