import { TemporaryError, VaultError } from '../../core/errors.js';
import { redactUrl } from '../debug.js';

// Reading an HTTP answer for the OAuth library: the whole body, bounded, inside the attempt's
// timeout, with GitHub's errors-in-200 re-labelled.

export const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/**
 * GitHub's token endpoint answers errors (and the device flow's authorization_pending and
 * slow_down) with HTTP 200 and an `error` member. RFC 6749 §5.2 says 400; openid-client follows
 * the RFC, so such a response is re-labelled 400 before it sees it.
 */
export function normaliseErrorIn200(response: Response, body: Buffer): Response {
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
export async function buffered(response: Response, url: string): Promise<{ response: Response; body: Buffer }> {
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
