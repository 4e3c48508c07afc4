import type * as oidc from 'openid-client';
import { VaultError } from '../../core/errors.js';
import {
  MAX_LIFETIME_MS,
  invalidTokenError,
  isTokenText,
  tokenTypeOf,
  type TokenResult,
} from '../../core/token-set.js';

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
function scopeString(scope: string): string {
  return /\s/.test(scope) ? scope : scope.split(',').filter(Boolean).join(' ');
}

/**
 * `sentAt`: when the request was sent (RFC 6749 §5.1's expires_in counts from the response, which
 * the server made after it read the request: counting from the sending errs on the safe side).
 * `refreshable`: a refresh token stands behind this access token (sent now, or stored from before).
 * A refresh token that is not token text is refused here; so is such an access token, unless
 * `accessCheckedLater` (a refresh: its rotated refresh token must be stored before the access token
 * is refused, or the login is lost).
 */
export function toTokenResult(
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  sentAt: number,
  refreshable = false,
  accessCheckedLater = false,
): TokenResult {
  if (typeof response.access_token !== 'string' || response.access_token === '') {
    throw new VaultError('failure', 'the token endpoint answered without an access_token');
  }
  if (typeof response.refresh_token === 'string' && response.refresh_token && !isTokenText(response.refresh_token))
    throw invalidTokenError('refresh token');
  if (!accessCheckedLater && !isTokenText(response.access_token)) throw invalidTokenError('access token');
  const claims = response.id_token ? response.claims() : undefined;
  const identity = claims ? (typeof claims.email === 'string' ? claims.email : claims.sub) : undefined;
  return {
    access_token: response.access_token,
    token_type: tokenTypeOf(response.token_type),
    ...(typeof response.refresh_token === 'string' &&
      response.refresh_token && { refresh_token: response.refresh_token }),
    expires_at: expiryOf(
      response,
      sentAt,
      refreshable || (typeof response.refresh_token === 'string' && response.refresh_token !== ''),
    ),
    ...(typeof response.scope === 'string' && { scope: scopeString(response.scope) }),
    ...(identity && { identity }),
    ...(typeof response.id_token === 'string' && isTokenText(response.id_token) && { id_token: response.id_token }),
    issued_at: sentAt,
  };
}
