import { redactUrl } from './debug.js';

export interface HttpOptions {
  /** Per-request timeout in ms (VAULT_HTTP_TIMEOUT, seconds, default 10). */
  timeoutMs: number;
  /** Retries after the first attempt for network errors, timeouts, 5xx and 429. */
  retries: number;
  debug: (message: string) => void;
  /** Longest Retry-After we are willing to sleep for; a longer one ends the retries at once. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function httpOptionsFromEnv(env: NodeJS.ProcessEnv, debug: (m: string) => void): HttpOptions {
  const sec = Number(env.VAULT_HTTP_TIMEOUT);
  return { timeoutMs: Number.isFinite(sec) && sec > 0 ? sec * 1000 : 10_000, retries: 2, debug };
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/** Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
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
async function normaliseErrorIn200(response: Response): Promise<Response> {
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('json')) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  const isError = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' && !('access_token' in body);
  return new Response(text, { status: isError ? 400 : 200, statusText: isError ? 'Bad Request' : response.statusText, headers: response.headers });
}

/**
 * A fetch with a timeout per attempt, bounded retries with exponential backoff and Retry-After,
 * and debug lines that never carry a secret (URLs redacted, no bodies, no headers).
 */
export function makeFetch(options: HttpOptions): (url: string, init?: RequestInit) => Promise<Response> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  return async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await fetch(url, { ...init, signal });
        if (method === 'POST') response = await normaliseErrorIn200(response);
        options.debug(`HTTP ${method} ${redactUrl(url)} → ${response.status} (${Math.round(performance.now() - started)}ms)`);
      } catch (error) {
        if (init.signal?.aborted) throw error;
        failure = error;
        options.debug(`HTTP ${method} ${redactUrl(url)} → ${describeNetworkError(error)} (${Math.round(performance.now() - started)}ms)`);
      }
      if (response && !RETRYABLE_STATUS(response.status)) return response;
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
      await response?.body?.cancel().catch(() => {});
      options.debug(`HTTP retry ${attempt + 1}/${options.retries} in ${Math.round(delay)}ms`);
      await sleep(delay);
    }
  };
}

/** A one-line description of a fetch failure, without the URL's secrets. */
export function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? 'network error';
}
