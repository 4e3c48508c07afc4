import type { Writable } from 'node:stream';

// Query parameters and JSON fields that carry secrets in OAuth traffic (RFC 6749 §4.1.2, §5.1;
// RFC 7636 §4.1; RFC 8628 §3.2). Debug output shows that they were there, never their value.
const SECRET_KEYS = [
  'code',
  'code_verifier',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'device_code',
  'token',
  'password',
  'state',
  'nonce',
  'assertion',
];

/** Replaces secret query parameters of a URL with `***`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '<unparseable url>';
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_KEYS.includes(key.toLowerCase())) url.searchParams.set(key, '***');
  }
  url.username = url.username ? '***' : '';
  url.password = url.password ? '***' : '';
  return url.toString();
}

/** A debug logger writing to stderr when enabled, or a no-op. */
export function debugLogger(enabled: boolean, stderr: Writable): (message: string) => void {
  if (!enabled) return () => {};
  const start = performance.now();
  return (message: string) => {
    stderr.write(`[debug +${Math.round(performance.now() - start)}ms] ${message}\n`);
  };
}
