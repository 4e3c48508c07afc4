/**
 * What vault keeps in a secret store, and how: the typed keys, the versioned JSON records behind
 * them, and the listing of logins. The CI source (`VAULT_<NAME>_REFRESH_TOKEN`) is read here too,
 * as a login record of its own: it is where a login may come from, not a store anything is kept in;
 * so is its access-token pass-through (`VAULT_<NAME>_ACCESS_TOKEN`).
 */
import { StoreError } from './errors.js';
import { envStem } from './config/names.js';
import type { SecretStore } from './ports.js';

/** Version of the stored records; a newer one is refused rather than misread. */
const RECORD_VERSION = 1;

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
  /** The ID token of the refresh that just issued it, handed to the caller only: never stored. */
  id_token?: string;
}

/** A login's identity in the store: provider and account names never contain `:` (config/names.ts). */
export interface LoginId {
  provider: string;
  account: string;
}

const LOGIN = 'rt:';

export function loginKey(provider: string, account: string): string {
  return `${LOGIN}${provider}:${account}`;
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

/** `rt:<provider>:<account>` → its parts; undefined for any other key. */
function parseLoginKey(key: string): LoginId | undefined {
  const m = /^rt:([^:]+):([^:]+)$/.exec(key);
  return m ? { provider: m[1]!, account: m[2]! } : undefined;
}

/** The logins a store holds, in key order: all of them, one provider's, or one account's of a provider's. */
export async function listLogins(
  store: SecretStore,
  filter: { provider?: string; account?: string },
): Promise<LoginId[]> {
  const keys = await store.keys(filter.provider ? loginKey(filter.provider, '') : LOGIN);
  return keys
    .map(parseLoginKey)
    .filter((id): id is LoginId => id !== undefined && (filter.account === undefined || id.account === filter.account));
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

/** The login record stored for (provider, account), if any; a damaged one is a StoreError naming it. */
export async function readLogin(
  store: SecretStore,
  provider: string,
  account: string,
): Promise<LoginRecord | undefined> {
  const key = loginKey(provider, account);
  const raw = await store.get(key);
  return raw === null ? undefined : parseRecord<LoginRecord>(raw, store.describe(key), ['obtained_at']);
}

/**
 * Reads a cached access token. With `onDamaged`, a damaged entry (corrupt, or from another format)
 * is reported through it and read as a miss: the cache is disposable, and a refresh replaces the
 * entry — refusing to work over it would leave only `vault logout`, which costs the login.
 */
export async function readAccess(
  store: SecretStore,
  key: string,
  onDamaged?: (message: string) => void,
): Promise<AccessRecord | undefined> {
  const raw = await store.get(key);
  if (raw === null) return undefined;
  try {
    return parseRecord<AccessRecord>(raw, store.describe(key), ['access_token', 'expires_at', 'issued_at']);
  } catch (error) {
    if (!onDamaged || !(error instanceof StoreError)) throw error;
    onDamaged(error.message.replace(/: (remove it|upgrade).*$/, ''));
    return undefined;
  }
}

/** Where CI refresh tokens come from, for messages (never a value). */
export const CI_SOURCE = 'environment (VAULT_<NAME>_REFRESH_TOKEN)';

/** The variable CI hands a provider's refresh token in. */
export function ciVariable(provider: string): string {
  return `VAULT_${envStem(provider)}_REFRESH_TOKEN`;
}

/**
 * The login CI hands in through `VAULT_<NAME>_REFRESH_TOKEN`, read-only: a refresh token and
 * nothing else (no identity, no scopes known). Callers decide which account it stands for.
 */
export function ciLogin(env: NodeJS.ProcessEnv, provider: string): LoginRecord | undefined {
  // A CI secret pasted from `vault export` may keep the newline that ended the output.
  const value = env[ciVariable(provider)]?.trim();
  return value ? { v: 1, refresh_token: value, scope: '', obtained_at: 0, from_env: true } : undefined;
}

/** The variable CI (or an enclosing `vault exec`) hands a provider's access token in. */
export function ciAccessVariable(provider: string): string {
  return `VAULT_${envStem(provider)}_ACCESS_TOKEN`;
}

/** `VAULT_<NAME>_ACCESS_TOKEN`: a token handed in by CI, passed through as is (like GH_TOKEN). */
export function passThroughToken(env: NodeJS.ProcessEnv, provider: string, now: number): AccessRecord | undefined {
  const token = env[ciAccessVariable(provider)];
  return token
    ? { v: 1, access_token: token, token_type: 'Bearer', expires_at: null, issued_at: now, scope: '' }
    : undefined;
}
