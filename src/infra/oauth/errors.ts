import * as oidc from 'openid-client';
import {
  RefreshRejectedError,
  ScopeRejectedError,
  TemporaryError,
  UsageError,
  VaultError,
  loginCommand,
} from '../../core/errors.js';
import { suggest } from '../../core/suggest.js';
import { refreshTokenHints } from '../../core/config/presets.js';
import type { Provider } from '../../core/config/providers.js';
import { serverText } from '../../core/server-text.js';
import { describeNetworkError, isConfigurationFault } from './net-errors.js';
import { GrantOutcomeUnknown } from './one-shot.js';

export function isTemporary(error: unknown): boolean {
  if (error instanceof TemporaryError) return true;
  if (isConfigurationFault(error)) return false;
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

/** Maps an openid-client failure to a VaultError with the right exit code (README, "Exit codes"). */
export function classify(error: unknown, provider: Provider, action: string, account: string): VaultError {
  const what = `${action} for ${provider.name}`;
  // Our own fetch's refusals (a body over the size limit) come back wrapped by openid-client.
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof GrantOutcomeUnknown) return outcomeUnknown(e, provider, what, action, account);
    if (e instanceof VaultError) return e;
  }
  if (isConfigurationFault(error)) return new UsageError(`${what} failed: ${describe(error)}`, { cause: error });
  if (isTemporary(error))
    return new TemporaryError(`${what} failed: ${describe(error)} (temporary; try again)`, { cause: error });
  if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant' && action === 'refresh') {
    const rejected = refreshTokenHints(provider, 'token_host')?.rejected;
    const hint = rejected ? `; ${rejected}` : '';
    return new RefreshRejectedError(
      `${what} failed: invalid_grant (refresh token revoked or expired${hint}) — run \`${loginCommand(provider.name, account)}\``,
      { cause: error },
    );
  }
  if (isInvalidClient(error)) {
    // RFC 6749 §5.2: the client id is unknown, or its authentication (the secret) was wrong or missing.
    const p = provider.name;
    const store = `store it with \`printf %s "$SECRET" | ${suggest(['provider', 'set', p, '--client-secret-stdin'])}\``;
    const remove = `remove it with \`${suggest(['provider', 'set', p, '--no-client-secret'])}\``;
    const secret =
      secretSent.get(provider) === true
        ? `a client secret was sent (stored for ${p}, or VAULT_CLIENT_SECRET): if it is wrong, ${store}; if the client is public, ${remove}`
        : `no client secret was sent: if the client is confidential, ${store}`;
    // `fix` is what logout repeats when revocation fails this way (core/usecases/logout.ts).
    const fix = `${secret}; if its client id changed, \`${suggest(['provider', 'set', p, '--client-id', 'ID'])}\` and log in again`;
    return Object.assign(
      new VaultError('failure', `${what} failed: ${describe(error)} — ${p} does not accept this client: ${fix}`, {
        cause: error,
      }),
      { fix },
    );
  }
  if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_scope') {
    // The caller knows which scopes were asked for and granted, and names them (get-token.ts).
    return new ScopeRejectedError(`${what} failed: ${describe(error)}`, { cause: error });
  }
  return new VaultError('failure', `${what} failed: ${describe(error)}`, { cause: error });
}

/** Whether a client secret was sent for a provider (configure.ts notes it), for the invalid_client hint. */
const secretSent = new WeakMap<Provider, boolean>();

export function noteClientSecret(provider: Provider, sent: boolean): void {
  secretSent.set(provider, sent);
}

function isInvalidClient(error: unknown): boolean {
  if (error instanceof oidc.ResponseBodyError) return error.error === 'invalid_client';
  if (error instanceof oidc.WWWAuthenticateChallengeError)
    return error.status === 401 || error.cause.some((c) => c.parameters.error === 'invalid_client');
  return false;
}

/**
 * A grant that may have reached the server without its answer reaching vault. With rotation the
 * server may have spent the refresh token (or the code) it carried; sending it again would be
 * reuse, which revokes the whole grant (RFC 9700 §4.14.2). The stored login is left as it was:
 * if the server did not process the request, the next call refreshes normally; if it did, the
 * next call's refresh is refused and asks for a login.
 */
function outcomeUnknown(
  error: GrantOutcomeUnknown,
  provider: Provider,
  what: string,
  action: string,
  account: string,
): TemporaryError {
  const p = provider.name;
  const login = loginCommand(p, account);
  const next =
    action === 'refresh'
      ? `${p} may have rotated the refresh token: run \`${suggest(['token', p], { account })}\` again, and if it then says a login is needed, \`${login}\``
      : `${p} may have redeemed the code: run \`${login}\` again`;
  return new TemporaryError(`${what} failed: ${error.message} — ${next}`, { cause: error });
}
