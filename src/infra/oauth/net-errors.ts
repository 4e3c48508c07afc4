import { VaultError } from '../../core/errors.js';
import { proxyFor, proxyRefusal, type ProxySettings } from './proxy.js';

// Network failures of a fetch, classified (before sending, a configuration fault) and described in
// words that name the host or proxy, never a URL's secrets.

/** The error codes along a failure's chain of causes. */
export function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    if (e.cause === e) break;
    e = e.cause as typeof e;
  }
  return codes;
}

/** Failures that happen before any byte of a request is written: no connection, no name, no trusted TLS peer. */
export const BEFORE_SENDING = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
export const TLS_REFUSAL =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

/**
 * Failures that no retry fixes, and that the user fixes in the configuration (exit 2, README "Exit codes"):
 * a host name that does not exist (ENOTFOUND; a temporary lookup failure is EAI_AGAIN) and a proxy
 * that wants other credentials (407, or 401 from proxies such as tinyproxy).
 */
export function isConfigurationFault(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof VaultError) return false;
  const refusal = proxyRefusal(error);
  if (refusal) return /^HTTP 40[17]\b/.test(refusal);
  return codesOf(error).includes('ENOTFOUND');
}

/**
 * A failed request through a proxy says so: the connection refused or the credentials rejected
 * may be the proxy's, not the server's. The proxy is named with its credentials redacted.
 */
export function throughProxy(error: unknown, proxy: ProxySettings, url: string): unknown {
  const via = proxyFor(proxy, url);
  if (!via || !(error instanceof TypeError)) return error;
  const refusal = proxyRefusal(error);
  const what = refusal ? `${via} refused the connection: ${refusal}` : `${describeNetworkError(error)} through ${via}`;
  return new TypeError('fetch failed', { cause: new Error(what, { cause: error }) });
}

/** A failed request names the host and port it was for: "connection refused" alone does not say which server. */
export function atHost(error: unknown, url: string): unknown {
  const e = error as { name?: string };
  if (!(error instanceof TypeError) && e?.name !== 'TimeoutError') return error;
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return new TypeError('fetch failed', {
    cause: new Error(`${describeNetworkError(error)} at ${u.hostname}:${port}`, { cause: error }),
  });
}

// What the usual failure codes of Node's fetch (undici) mean, for people who don't read them daily.
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed before the answer was complete',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** A one-line description of a fetch failure, without the URL's secrets. */
export function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const code = e?.cause?.code;
  if (code) return NETWORK_WORDS[code] ? `${NETWORK_WORDS[code]} (${code})` : code;
  return e?.cause?.message ?? e?.message ?? 'network error';
}
