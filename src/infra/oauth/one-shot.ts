import { subscribe } from 'node:diagnostics_channel';
import { VaultError } from '../../core/errors.js';
import { BEFORE_SENDING, TLS_REFUSAL, codesOf } from './net-errors.js';
import { proxyRefusal } from './proxy.js';

// The rules for grants whose request carries a one-time secret (a refresh token, a code): when
// such a request may have reached the server, and what its unknown outcome is called.

/**
 * Grants whose request must not be sent twice blindly: a refresh token that the server rotated on
 * the first request, or a code (authorization or device) it redeemed, is spent, and presenting it
 * again is reuse (RFC 9700 §4.14.2, RFC 6749 §4.1.2): the server may revoke the whole grant.
 */
const ONE_SHOT_GRANTS = new Set([
  'refresh_token',
  'authorization_code',
  'urn:ietf:params:oauth:grant-type:device_code',
]);

/** The grant type of a token request that must not be re-sent blindly, else undefined. */
export function oneShotGrant(init: RequestInit): string | undefined {
  if ((init.method ?? 'GET').toUpperCase() !== 'POST') return undefined;
  const body = init.body;
  const form =
    body instanceof URLSearchParams ? body : typeof body === 'string' ? new URLSearchParams(body) : undefined;
  const type = form?.get('grant_type');
  return type && ONE_SHOT_GRANTS.has(type) ? type : undefined;
}

/**
 * Once a grant request is written, its answer is awaited at least this long, whatever
 * VAULT_HTTP_TIMEOUT says: it carries the only copy of the rotated refresh token.
 */
export const GRANT_ANSWER_WAIT_MS = 60_000;

/** How long a written grant's answer is awaited, given the per-request timeout. */
export function grantAnswerWaitMs(timeoutMs: number): number {
  return Math.max(timeoutMs, GRANT_ANSWER_WAIT_MS);
}

/**
 * The outcome of a grant is unknown: its request may have reached the server (written, then no
 * complete answer, or a 5xx other than 503), so the refresh token or code it carried may be spent.
 * The caller says what that means for the login.
 */
export class GrantOutcomeUnknown extends VaultError {
  constructor(
    /** What happened, without the URL's secrets: "timed out", "HTTP 502 Bad Gateway", ... */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('temporary', `${detail}, after the request was sent`, options);
  }
}

// Requests being written now, by path: undici reports each request it writes on this channel,
// for Node's own fetch and for the undici package (the proxy's fetch) alike.
const writing = new Map<number, { path: string; written: () => void }>();
let nextWatch = 0;
let subscribed = false;
function onSendHeaders(message: unknown): void {
  const request = (message as { request?: { method?: unknown; path?: unknown } } | undefined)?.request;
  // Any POST to the same path counts: taking another request's write for ours only makes vault
  // more careful, never less.
  if (request?.method !== 'POST') return;
  for (const watch of writing.values()) if (request.path === watch.path) watch.written();
}

/** Calls `written` when undici starts writing a POST to `url`'s path; the returned function stops watching. */
export function watchWrite(url: string, written: () => void): () => void {
  if (!subscribed) {
    subscribe('undici:client:sendHeaders', onSendHeaders);
    subscribed = true;
  }
  const u = new URL(url);
  const id = nextWatch++;
  writing.set(id, { path: `${u.pathname}${u.search}`, written });
  return () => writing.delete(id);
}

/**
 * Whether a failed grant attempt provably never reached the server: undici never started writing
 * it, and the failure is one that happens before writing (our own timeout while connecting, a
 * refused or unreachable connection, a failed name lookup, a TLS handshake refused, a proxy that
 * refused the tunnel). Anything else is an unknown outcome.
 */
export function notSent(failure: unknown, written: boolean): boolean {
  if (written) return false;
  const e = failure as { name?: string };
  if (e?.name === 'TimeoutError') return true;
  if (proxyRefusal(failure)) return true;
  return codesOf(failure).some((code) => BEFORE_SENDING.has(code) || TLS_REFUSAL.test(code));
}
