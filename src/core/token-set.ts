import type { AccessRecord } from './credentials.js';
import { VaultError } from './errors.js';

/** A token endpoint response (login or refresh) reduced to what vault stores. */
export interface TokenResult {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  /** ms since the epoch, or null when the token does not expire. */
  expires_at: number | null;
  scope?: string;
  /** email, else sub, from the ID token when there is one. */
  identity?: string;
  /** The ID token, when the answer had one: an RFC 8693 exchange may take it as its subject. */
  id_token?: string;
  /**
   * When the request was sent (ms since the epoch), taken before it was written: the server began
   * the token's lifetime no earlier, so expires_at is counted from here, and so is its lifetime.
   */
  issued_at?: number;
}

/**
 * The access record of a grant's answer that arrived at `arrived`: its lifetime is counted from
 * when the request was sent (issued_at), never from later than the answer's arrival.
 */
export function accessRecordOf(result: TokenResult, arrived: number, scope: string): AccessRecord {
  return {
    v: 1,
    access_token: result.access_token,
    token_type: result.token_type,
    expires_at: result.expires_at,
    issued_at: Math.min(result.issued_at ?? arrived, arrived),
    scope,
  };
}

/**
 * Whether `value` may be a token: RFC 6749 Appendix A.12 and A.17 allow only VSCHAR (0x20-0x7E)
 * in access and refresh tokens, and an access token goes into a header as RFC 6750 §2.1's
 * b64token, which has no space: so 0x21-0x7E. Anything else
 * (line breaks that forge a second header line, escape sequences for the terminal, NUL) is not
 * handed to a header, a terminal or a program.
 */
export function isTokenText(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value);
}

/** The error for a token whose text is not a token's (see isTokenText): a server error, exit 1. */
export function invalidTokenError(what: 'access token' | 'refresh token'): VaultError {
  return new VaultError(
    'failure',
    `the server sent an invalid ${what} (characters outside visible ASCII); it was not used or stored`,
  );
}

/**
 * Whether a cached token can be handed out now. The margin (`minValidSec`) is capped at half the
 * token's lifetime, so a provider issuing 60-second tokens does not make every call refresh.
 */
export function isFresh(record: AccessRecord, now: number, minValidSec: number): boolean {
  return now < freshUntil(record, minValidSec);
}

/** The moment (ms since the epoch) a token stops being fresh by isFresh's rule; Infinity if it never expires. */
export function freshUntil(record: AccessRecord, minValidSec: number): number {
  if (record.expires_at === null) return Infinity;
  const lifetime = Math.max(0, record.expires_at - record.issued_at);
  return record.expires_at - Math.min(minValidSec * 1000, lifetime / 2);
}

/**
 * openid-client lower-cases token_type; the type is case-insensitive (RFC 6749 §7.1), but scripts
 * build headers from it, so the registered spellings (RFC 6750 "Bearer", RFC 9449 "DPoP") are used.
 */
export function tokenTypeOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'Bearer';
  const lower = value.toLowerCase();
  return lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : value;
}

/**
 * The longest lifetime believed (10 years): a server's absurd `expires_in` (1e20) is clamped to it,
 * so every expiry stays a date that can be printed.
 */
export const MAX_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

/** RFC 3339 / ISO 8601 of a stored time, clamped to the range a Date holds (a damaged or old record never makes this throw). */
export function isoTime(ms: number): string {
  const limit = 8.64e15;
  return new Date(Number.isFinite(ms) ? Math.max(-limit, Math.min(limit, ms)) : limit).toISOString();
}

/** Seconds left, never negative; null for non-expiring tokens. */
export function expiresIn(record: AccessRecord, now: number): number | null {
  return record.expires_at === null ? null : Math.max(0, Math.floor((record.expires_at - now) / 1000));
}
