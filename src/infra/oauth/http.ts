import { TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import { redactUrl } from '../debug.js';
import { atHost, describeNetworkError, isConfigurationFault, throughProxy } from './net-errors.js';
import { GrantOutcomeUnknown, grantAnswerWaitMs, notSent, oneShotGrant, watchWrite } from './one-shot.js';
import { describeProxies, proxiedFetch, proxyFromEnv, type ProxySettings } from './proxy.js';
import { RETRYABLE_STATUS, buffered, normaliseErrorIn200 } from './response.js';

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

function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. */
function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
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
