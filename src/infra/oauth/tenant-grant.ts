import type { Configuration, CustomFetch } from 'openid-client';
import { VaultError } from '../../core/errors.js';
import type { TenantIssuer } from '../../core/config/issuer.js';

/** A provider on a shared endpoint: its issuer, the fetch its requests go through, and how to configure it for one issuer. */
export interface SharedEndpoint {
  issuer: TenantIssuer;
  fetch: CustomFetch;
  configure(issuer: string, fetch: CustomFetch): Configuration;
}

/** The claims of the ID token in a token response, unverified: they only choose which issuer to verify against. */
function idTokenClaims(body: Buffer): Record<string, unknown> | undefined {
  let token: unknown;
  try {
    token = (JSON.parse(body.toString('utf8')) as { id_token?: unknown } | null)?.id_token;
  } catch {
    return undefined;
  }
  if (typeof token !== 'string') return undefined;
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Runs a grant at a shared endpoint (Microsoft's `common`), whose ID tokens carry the issuer of
 * the user's own tenant, known only from the token's tenant claim (as MSAL checks it). The token
 * response is taken once from the server and held; the grant then runs again against the issuer
 * its tenant names, with that response handed back instead of a second request, so openid-client
 * checks every claim (iss, aud, nonce...) as for any issuer and no code or refresh token is sent twice.
 * `callbackIss` is the RFC 9207 `iss` of the callback, already checked to fit the template.
 */
export async function tenantGrant<T>(
  shared: SharedEndpoint,
  tokenEndpoint: string,
  callbackIss: string | null,
  grant: (config: Configuration) => Promise<T>,
): Promise<T> {
  const token = new URL(tokenEndpoint).href;
  let held: { body: Buffer; init: ResponseInit } | undefined;
  const hold: CustomFetch = async (url, options) => {
    const response = await shared.fetch(url, options);
    if (new URL(url).href !== token || response.status !== 200) return response;
    held = {
      body: Buffer.from(await response.arrayBuffer()),
      init: { status: response.status, statusText: response.statusText, headers: response.headers },
    };
    throw new Error('token response held until its tenant is known');
  };
  try {
    return await grant(shared.configure(callbackIss ?? shared.issuer.placeholder, hold));
  } catch (error) {
    if (!held) throw error;
  }
  const answer = held;
  const claims = idTokenClaims(answer.body);
  const issuer = claims === undefined ? shared.issuer.placeholder : shared.issuer.fromClaims(claims);
  if (!issuer)
    throw new VaultError(
      'failure',
      `the ID token names no tenant (no valid "${shared.issuer.claim}" claim), so its issuer cannot be checked`,
    );
  let replayed = false;
  const replay: CustomFetch = async (url, options) => {
    if (replayed || new URL(url).href !== token) return shared.fetch(url, options);
    replayed = true;
    return new Response(answer.body, answer.init);
  };
  return grant(shared.configure(issuer, replay));
}
