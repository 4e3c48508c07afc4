import { serverText } from '../server-text.js';
import { TemporaryError, VaultError } from '../errors.js';
import type { Provider } from '../config/providers.js';
import { refreshLock } from './refresh-lock.js';
import { accessPrefix, loginKey, parseRecord, type LoginRecord } from '../credentials.js';
import type { Locks, SecretStore } from '../ports.js';

export interface LogoutDeps {
  store: SecretStore;
  locks: Locks;
  debug(message: string): void;
  /** A line for the user (stderr). */
  say(line: string): void;
  /** RFC 7009 revocation of `token` at the provider; resolves false when it has no revocation endpoint. */
  revoke(provider: Provider, token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean>;
  /** Why a revocation failed, in one line without a secret. */
  describe(failure: unknown): Promise<string>;
  /** Runs `fn` with SIGINT, SIGTERM and SIGHUP held until it is done (see holdSignals). */
  critical<T>(done: string, fn: () => Promise<T>): Promise<T>;
}

export interface LogoutRequest {
  /** The provider's name as given; `provider` is its configuration, unless it is no longer configured. */
  name: string;
  provider: Provider | undefined;
  account: string;
  /** false with --no-revoke */
  revoke: boolean;
}

/** What became of the credential at the provider. */
type Revocation = { done: true; what: string } | { done: false; reason: string } | { done: false; failure: unknown };

/** The stored login, or why it cannot be read: a corrupt entry must not stand in the way of removing it. */
interface Stored {
  present: boolean;
  login?: LoginRecord;
  unreadable?: string;
}

async function readForLogout(store: SecretStore, key: string): Promise<Stored> {
  const raw = await store.get(key);
  if (raw === null) return { present: false };
  try {
    return { present: true, login: parseRecord<LoginRecord>(raw, store.describe(key), ['obtained_at']) };
  } catch (error) {
    return { present: true, unreadable: (error as Error).message };
  }
}

/**
 * RFC 7009 §2.1: revokes the login's long-lived credential (the refresh token, or a non-expiring
 * access token). Revoking a refresh token also ends the access tokens of its grant at servers that
 * support it (§2.1, "SHOULD"). Never throws: a failure is returned, so the local data still goes.
 */
async function revocation(deps: LogoutDeps, req: LogoutRequest, stored: Stored): Promise<Revocation> {
  if (!req.revoke) return { done: false, reason: '--no-revoke' };
  if (!req.provider)
    return { done: false, reason: `${req.name} is no longer configured, so its revocation endpoint is unknown` };
  if (!stored.login) return { done: false, reason: stored.unreadable ?? 'no login record, only cached access tokens' };
  const token = stored.login.refresh_token ?? stored.login.access_token;
  if (!token) return { done: false, reason: 'no token to revoke was stored' };
  const hint = stored.login.refresh_token ? 'refresh_token' : 'access_token';
  try {
    if (!(await deps.revoke(req.provider, token, hint)))
      return { done: false, reason: `${req.provider.name} has no revocation endpoint` };
    return { done: true, what: hint.replace('_', ' ') };
  } catch (failure) {
    return { done: false, failure };
  }
}

/** Revokes (unless told not to), deletes the entries, and reports what became of both. */
async function removeLogin(deps: LogoutDeps, req: LogoutRequest, who: string, stored: Stored, keys: string[]) {
  const { store } = deps;
  const outcome = await revocation(deps, req, stored);
  let removed = 0;
  for (const k of keys) {
    const deleted = await store.delete(k);
    if (deleted) removed++;
    deps.debug(`store: ${deleted ? 'deleted' : 'no entry'} ${k} in ${store.kind}`);
  }
  const as = stored.login?.identity ? ` as ${serverText(stored.login.identity)}` : '';
  if (outcome.done) deps.say(`Revoked the ${outcome.what} at ${req.name}.`);
  else if ('reason' in outcome) deps.say(`not revoked: ${outcome.reason}`);
  deps.say(`Logged out of ${who}${as}: removed ${removed} entr${removed === 1 ? 'y' : 'ies'} from ${store.location}.`);
  if ('failure' in outcome) {
    const failure =
      outcome.failure instanceof VaultError && outcome.failure.cause !== undefined
        ? outcome.failure.cause
        : outcome.failure;
    // A refusal that configuration can fix (invalid_client: the client secret) says how.
    const fix = (outcome.failure as { fix?: unknown }).fix;
    // RFC 7009 §2.2.1: after a failed revocation (503 included) the token must be assumed to be still valid.
    throw new TemporaryError(
      `revocation at ${req.name} failed: ${await deps.describe(failure)}${typeof fix === 'string' ? ` (${fix})` : ''}; the local login is removed, but the refresh token may stay valid at ${req.name} until it expires (revoke it in the provider's account settings)`,
      { cause: outcome.failure },
    );
  }
}

/**
 * `vault logout`: under the refresh lock, so a concurrent `vault token` neither rotates the
 * refresh token between our read and its revocation nor writes a fresh access token after we
 * deleted them. Resolves false when nothing was stored for the account.
 */
export async function logout(deps: LogoutDeps, req: LogoutRequest): Promise<boolean> {
  const { store } = deps;
  const who = req.account === 'default' ? req.name : `${req.name} (account ${req.account})`;
  const lock = await refreshLock(deps, req.name, req.account);
  try {
    const key = loginKey(req.name, req.account);
    const stored = await readForLogout(store, key);
    const cached = await store.keys(accessPrefix(req.name, req.account));
    if (!stored.present && cached.length === 0) return false;
    if (!req.provider) deps.say(`note: ${req.name} is not configured (any more); removing what is stored for it`);
    // A signal waits until the entries are gone: a login revoked at the provider but left in the
    // store would only fail later, with a message about a rejected token.
    await deps.critical(`the login to ${who} was removed`, () => removeLogin(deps, req, who, stored, [key, ...cached]));
    return true;
  } finally {
    await lock.release();
  }
}
