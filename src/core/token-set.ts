import { StoreError } from './errors.js';

/** Version of the stored records; a newer one is refused rather than misread. */
export const RECORD_VERSION = 1;

/** The long-lived credential of one login: the refresh token, or a non-expiring access token. */
export interface LoginRecord {
  v: 1;
  refresh_token?: string;
  /** Only for providers whose access tokens never expire and who issue no refresh token (GitHub OAuth apps). */
  access_token?: string;
  token_type?: string;
  /** Space-separated scopes granted at login. */
  scope: string;
  /** Email or subject of the logged-in user, for `status` and messages. */
  identity?: string;
  /** When the record was written, ms since the epoch. */
  obtained_at: number;
  /** Set when the refresh token came from VAULT_<NAME>_REFRESH_TOKEN. */
  from_env?: boolean;
  /** Set once a refresh returned a new refresh token: this provider rotates them, so a copy elsewhere is spent by the next refresh. */
  rotated?: boolean;
  /** When the server refused this refresh token (invalid_grant), ms since the epoch; a new login clears it. */
  rejected_at?: number;
}

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
}

/** One cached access token (per scope set). */
export interface AccessRecord {
  v: 1;
  access_token: string;
  token_type: string;
  /** ms since the epoch, or null for a token that does not expire. */
  expires_at: number | null;
  /** ms since the epoch: with expires_at, the token's lifetime. */
  issued_at: number;
  scope: string;
}

export function loginKey(provider: string, account: string): string {
  return `rt:${provider}:${account}`;
}

/** Scope sets are cached separately; `*` is the full grant. */
export function accessKey(provider: string, account: string, scopes?: readonly string[]): string {
  return `at:${provider}:${account}:${scopes && scopes.length ? [...new Set(scopes)].sort().join(' ') : '*'}`;
}

export function accessPrefix(provider: string, account: string): string {
  return `at:${provider}:${account}:`;
}

export function clientSecretKey(provider: string): string {
  return `cs:${provider}`;
}

/**
 * Parses a stored record, or throws an error naming where it is. A corrupt entry is reported,
 * never silently treated as "nothing stored" (that would make the user log in over it).
 */
export function parseRecord<T extends { v: number }>(raw: string, where: string, required: readonly (keyof T)[]): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new StoreError(`${where} is corrupt (not JSON): remove it with \`vault logout\` and log in again`);
  }
  if (typeof value !== 'object' || value === null) {
    throw new StoreError(`${where} is corrupt (not an object): remove it with \`vault logout\` and log in again`);
  }
  const v = (value as { v?: unknown }).v;
  if (typeof v === 'number' && v > RECORD_VERSION) {
    throw new StoreError(`${where} was written by a newer vault (format v${v}): upgrade vault`);
  }
  if (v !== RECORD_VERSION) {
    throw new StoreError(
      `${where} is corrupt (unknown format ${JSON.stringify(v)}): remove it with \`vault logout\` and log in again`,
    );
  }
  for (const field of required) {
    if (!(field in value))
      throw new StoreError(
        `${where} is corrupt (no "${String(field)}"): remove it with \`vault logout\` and log in again`,
      );
  }
  return value as T;
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
