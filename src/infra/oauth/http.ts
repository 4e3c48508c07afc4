import { subscribe } from 'node:diagnostics_channel';
import { TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import { redactUrl } from '../debug.js';
import { describeProxies, proxiedFetch, proxyFor, proxyFromEnv, proxyRefusal, type ProxySettings } from './proxy.js';

export interface HttpOptions {
  /** Per-request timeout in ms (VAULT_HTTP_TIMEOUT, seconds, default 10). */
  timeoutMs: number;
  /** Retries after the first attempt for network errors, timeouts, 5xx and 429. */
  retries: number;
  debug: (message: string) => void;
  /** Longest Retry-After we are willing to sleep for; a longer one ends the retries at once. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or lower case), when a proxy is set. */
  proxy?: ProxySettings;
  /**
   * The provider's `rotation_grace` in ms: how long it keeps honouring a refresh token it has just
   * rotated. Inside it, a grant whose outcome is unknown may be sent once more.
   */
  rotationGraceMs?: number;
  /** Called with the time (ms since the epoch) just before each grant request is sent. */
  onGrantSent?: (at: number) => void;
}

/** The longest wait a Node timer holds (2^31-1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Refuses a wait no timer can hold, with the setting that asked for it. */
export function checkTimerSeconds(seconds: number, what: string): number {
  if (seconds > MAX_TIMER_SECONDS)
    throw new UsageError(`${what} is longer than vault can wait: at most ${MAX_TIMER_SECONDS} seconds (about 24 days)`);
  return seconds;
}

export function httpOptionsFromEnv(env: NodeJS.ProcessEnv, debug: (m: string) => void): HttpOptions {
  const proxy = proxyFromEnv(env);
  const raw = env.VAULT_HTTP_TIMEOUT;
  if (raw === undefined || raw === '') return { timeoutMs: 10_000, retries: 2, debug, ...(proxy && { proxy }) };
  const sec = Number(raw);
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || !(sec > 0))
    throw new UsageError(`VAULT_HTTP_TIMEOUT expects a positive number of seconds, got ${JSON.stringify(raw)}`);
  return {
    timeoutMs: Math.ceil(checkTimerSeconds(sec, `VAULT_HTTP_TIMEOUT=${raw.trim()}`) * 1000),
    retries: 2,
    debug,
    ...(proxy && { proxy }),
  };
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/** Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. */
function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * GitHub's token endpoint answers errors (and the device flow's authorization_pending and
 * slow_down) with HTTP 200 and an `error` member. RFC 6749 §5.2 says 400; openid-client follows
 * the RFC, so such a response is re-labelled 400 before it sees it.
 */
function normaliseErrorIn200(response: Response, body: Buffer): Response {
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('json')) return response;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return response;
  }
  const isError =
    typeof parsed === 'object' &&
    parsed !== null &&
    typeof (parsed as { error?: unknown }).error === 'string' &&
    !('access_token' in parsed);
  return isError ? new Response(body, { status: 400, statusText: 'Bad Request', headers: response.headers }) : response;
}

// Statuses whose responses carry no body (RFC 9110 §6.4.1); `new Response` refuses one for them.
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** The largest response body read (docs/reliability.md, hostile answers): token responses are a few KiB. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the whole body inside the attempt, under its timeout: a connection dropped or stalled
 * after the headers is then a network failure like any other (retried, exit 4), instead of an
 * error deep inside the OAuth library about a body it could not read. At most MAX_BODY_BYTES are
 * read: past that the stream is cancelled (the connection closes), so memory stays bounded
 * whatever the server sends, and the request fails (temporarily for a 5xx or 429, as those are).
 */
async function buffered(response: Response, url: string): Promise<{ response: Response; body: Buffer }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        const message = `the answer from ${redactUrl(url)} (HTTP ${response.status}) is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB; not read`;
        throw RETRYABLE_STATUS(response.status)
          ? Object.assign(new TemporaryError(message), { status: response.status })
          : new VaultError('failure', message);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    const e = error as { name?: string; cause?: unknown };
    if (error instanceof VaultError || e?.name === 'TimeoutError' || e?.name === 'AbortError') throw error;
    // The shape undici gives every other network failure, which the callers already classify.
    throw new TypeError('fetch failed', { cause: e?.cause ?? error });
  }
  const body = Buffer.concat(chunks);
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  return { response: new Response(NULL_BODY_STATUS.has(response.status) ? null : body, init), body };
}

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
function oneShotGrant(init: RequestInit): string | undefined {
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
function watchWrite(url: string, written: () => void): () => void {
  if (!subscribed) {
    subscribe('undici:client:sendHeaders', onSendHeaders);
    subscribed = true;
  }
  const u = new URL(url);
  const id = nextWatch++;
  writing.set(id, { path: `${u.pathname}${u.search}`, written });
  return () => writing.delete(id);
}

/** The error codes along a failure's chain of causes. */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    if (e.cause === e) break;
    e = e.cause as typeof e;
  }
  return codes;
}

/** Failures that happen before any byte of a request is written: no connection, no name, no trusted TLS peer. */
const BEFORE_SENDING = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const TLS_REFUSAL =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

/**
 * Whether a failed grant attempt provably never reached the server: undici never started writing
 * it, and the failure is one that happens before writing (our own timeout while connecting, a
 * refused or unreachable connection, a failed name lookup, a TLS handshake refused, a proxy that
 * refused the tunnel). Anything else is an unknown outcome.
 */
function notSent(failure: unknown, written: boolean): boolean {
  if (written) return false;
  const e = failure as { name?: string };
  if (e?.name === 'TimeoutError') return true;
  if (proxyRefusal(failure)) return true;
  return codesOf(failure).some((code) => BEFORE_SENDING.has(code) || TLS_REFUSAL.test(code));
}

function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/**
 * A fetch with a timeout per attempt, bounded retries with exponential backoff and Retry-After,
 * and debug lines that never carry a secret (URLs redacted, no bodies, no headers).
 *
 * A one-shot grant (refresh, code exchange, device code) is retried only when the server provably
 * did not process it: a failure before its request was written, or 429 / 503 (refused before
 * processing, RFC 9110 §15.6.4). Once written, its answer is awaited for
 * max(timeout, GRANT_ANSWER_WAIT_MS). A timeout after that, a connection cut before the answer
 * was complete, or another 5xx is an unknown outcome: GrantOutcomeUnknown, with no second request
 * carrying the same token, except once inside the provider's rotation grace.
 */
export function makeFetch(options: HttpOptions): (url: string, init?: RequestInit) => Promise<Response> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  let transport: Promise<typeof fetch> | undefined;
  const send = (url: string, init: RequestInit) => {
    if (!options.proxy) return fetch(url, init);
    if (!transport) {
      options.debug(describeProxies(options.proxy));
      transport = proxiedFetch(options.proxy);
    }
    return transport.then((f) => f(url, init));
  };
  return async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const grant = oneShotGrant(init);
    let graceLeft = grant !== undefined && (options.rotationGraceMs ?? 0) > 0;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const timer = new AbortController();
      let timeout = setTimeout(() => timer.abort(timeoutReason()), options.timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal;
      let written = false;
      const unwatch = grant
        ? watchWrite(url, () => {
            if (written) return;
            written = true;
            // From here the server may act on it: its answer is worth the wait.
            clearTimeout(timeout);
            timeout = setTimeout(() => timer.abort(timeoutReason()), grantAnswerWaitMs(options.timeoutMs));
          })
        : () => {};
      const sentAt = Date.now();
      if (grant) options.onGrantSent?.(sentAt);
      let response: Response | undefined;
      let failure: unknown;
      try {
        const read = await buffered(await send(url, { ...init, signal }), url);
        response = method === 'POST' ? normaliseErrorIn200(read.response, read.body) : read.response;
        options.debug(
          `HTTP ${method} ${redactUrl(url)} → ${response.status} (${Math.round(performance.now() - started)}ms)`,
        );
      } catch (error) {
        // A refused answer (too large) would be the same on a second try; only temporary ones are retried.
        if (init.signal?.aborted || (error instanceof VaultError && !(error instanceof TemporaryError))) throw error;
        failure =
          error instanceof VaultError
            ? error
            : options.proxy
              ? throughProxy(error, options.proxy, url)
              : atHost(error, url);
        options.debug(
          `HTTP ${method} ${redactUrl(url)} → ${describeNetworkError(failure)} (${Math.round(performance.now() - started)}ms)`,
        );
      } finally {
        clearTimeout(timeout);
        unwatch();
      }
      if (response && !RETRYABLE_STATUS(response.status)) return response;
      if (!response && isConfigurationFault(failure)) throw failure;
      if (grant) {
        // A status whose body was too large to read (see buffered) is judged by the status.
        const status = response?.status ?? (failure as { status?: unknown } | undefined)?.status;
        const unknown = typeof status === 'number' ? status !== 429 && status !== 503 : !notSent(failure, written);
        if (unknown) {
          const detail = response
            ? `HTTP ${response.status} ${response.statusText}`.trim()
            : describeNetworkError(failure);
          const withinGrace = graceLeft && Date.now() - sentAt < options.rotationGraceMs!;
          graceLeft = false;
          if (!withinGrace) {
            options.debug(`HTTP ${method} ${redactUrl(url)}: outcome unknown (${detail}); not sent again`);
            throw new GrantOutcomeUnknown(detail, { cause: failure ?? response });
          }
          options.debug(`HTTP retry inside the provider's rotation grace (${options.rotationGraceMs! / 1000}s)`);
          continue;
        }
      }
      if (attempt >= options.retries) {
        if (response) return response;
        throw failure;
      }
      let delay = 250 * 2 ** attempt * (0.75 + Math.random() * 0.5);
      const after = response ? retryAfterMs(response.headers.get('retry-after')) : undefined;
      if (after !== undefined) {
        if (after > maxRetryAfter) return response!;
        delay = Math.max(delay, after);
      }
      options.debug(`HTTP retry ${attempt + 1}/${options.retries} in ${Math.round(delay)}ms`);
      await sleep(delay);
    }
  };
}

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
function throughProxy(error: unknown, proxy: ProxySettings, url: string): unknown {
  const via = proxyFor(proxy, url);
  if (!via || !(error instanceof TypeError)) return error;
  const refusal = proxyRefusal(error);
  const what = refusal ? `${via} refused the connection: ${refusal}` : `${describeNetworkError(error)} through ${via}`;
  return new TypeError('fetch failed', { cause: new Error(what, { cause: error }) });
}

/** A failed request names the host and port it was for: "connection refused" alone does not say which server. */
function atHost(error: unknown, url: string): unknown {
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
