import { LoginRequiredError, RefreshRejectedError, StoreError, UsageError, loginCommand } from './errors.js';
import { serverText } from './server-text.js';
import type { Provider } from './config/providers.js';
import { isFresh, type TokenResult } from './token-set.js';
import {
  accessKey,
  accessPrefix,
  ciLogin,
  ciVariable,
  clientSecretKey,
  loginKey,
  parseRecord,
  readAccess,
  readLogin,
  type AccessRecord,
  type LoginRecord,
} from './credentials.js';
import { acquireLock } from '../infra/lock.js';
import type { Configuration } from '../infra/oauth/index.js';
import { holdSignals } from '../infra/signals.js';
import type { Clock, Release, SecretStore } from '../ports.js';

export interface TokenServiceDeps {
  store: SecretStore;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
  warn: (message: string) => void;
  lockDir: string;
}

export interface TokenRequest {
  provider: Provider;
  account: string;
  /** A subset of the granted scopes (least privilege); cached separately. */
  scopes?: string[];
  /** Seconds the token must still be valid for (capped at half its lifetime). */
  minValid: number;
  forceRefresh?: boolean;
}

/** The client secret of a confidential client: from the store, else VAULT_CLIENT_SECRET. */
export async function readClientSecret(
  store: SecretStore,
  env: NodeJS.ProcessEnv,
  provider: string,
): Promise<string | undefined> {
  const raw = await store.get(clientSecretKey(provider));
  if (raw !== null)
    return parseRecord<{ v: 1; client_secret: string }>(raw, store.describe(clientSecretKey(provider)), [
      'client_secret',
    ]).client_secret;
  return env.VAULT_CLIENT_SECRET || undefined;
}

/**
 * The refresh lock of (provider, account). Provider names have no '.', so the first '.' splits any
 * name back into one pair; vault's other locks (`config`, `file-store`) have no '.' at all.
 */
export function lockName(provider: string, account: string): string {
  return `${provider}.${account}`;
}

/**
 * The refresh lock of (provider, account): the store's own lock when it has one (a store shared
 * across machines), else the per-user lock file beside the store.
 */
export function refreshLock(
  deps: Pick<TokenServiceDeps, 'store' | 'lockDir' | 'debug'>,
  provider: string,
  account: string,
  until?: () => Promise<boolean>,
): Promise<Release> {
  const name = lockName(provider, account);
  return deps.store.lock ? deps.store.lock(name, { until }) : acquireLock(deps.lockDir, name, { debug: deps.debug });
}

/** The cached access token for the request while it is fresh; never refreshes, never locks. */
export async function cachedAccessToken(req: TokenRequest, deps: TokenServiceDeps): Promise<AccessRecord | undefined> {
  if (req.forceRefresh) return undefined;
  const key = accessKey(req.provider.name, req.account, req.scopes);
  // A damaged entry is a miss here; the read under the refresh lock reports it.
  const cached = await readAccess(deps.store, key, () => {});
  return cached && isFresh(cached, deps.clock.now(), req.minValid) ? cached : undefined;
}

/**
 * A valid access token for (provider, account, scopes): from the cache while fresh, else from
 * one refresh grant, single-flight across processes. Under the lock the cache is read again, so
 * the processes that waited use the winner's token instead of spending the refresh token again:
 * with rotation and reuse detection (OAuth 2.0 Security BCP, RFC 9700 §4.14.2) a second use of a
 * rotated refresh token would revoke the whole login.
 */
export async function getAccessToken(request: TokenRequest, deps: TokenServiceDeps): Promise<AccessRecord> {
  let req = request;
  const { store, clock } = deps;
  const key = accessKey(req.provider.name, req.account, req.scopes);
  const cached = await cachedAccessToken(req, deps);
  if (cached) {
    deps.debug(`store: cached access token for ${key} is fresh`);
    return cached;
  }
  for (;;) {
    // Waiting on a fleet's lease, a fresh token written by the holder ends the wait: dozens of
    // machines need not queue for the lease only to read it.
    const until = req.forceRefresh ? undefined : async () => (await cachedAccessToken(req, deps)) !== undefined;
    const release = await refreshLock(deps, req.provider.name, req.account, until);
    try {
      if (!req.forceRefresh) {
        const cached = await readAccess(store, key, (m) => deps.warn(`${m}; refreshing to replace it`));
        if (cached && isFresh(cached, clock.now(), req.minValid)) {
          deps.debug('store: another process refreshed while we waited');
          return cached;
        }
      }
      const record = await refreshLocked(req, key, deps, release);
      if (record) return record;
      // The lock was lost while this process was paused: another process may have refreshed with
      // the same refresh token by now, so start over from the store instead of spending it again.
      deps.debug('lock: lost while paused; starting over');
      req = { ...req, forceRefresh: false };
    } finally {
      await release();
    }
  }
}

/**
 * Writes a login record under its refresh lock: fenced when the lock offers it, so a holder that
 * lost the lock cannot overwrite what a later holder stored. False: a later holder wrote first.
 */
async function writeUnderLock(store: SecretStore, lock: Release, key: string, value: string): Promise<boolean> {
  if (lock.fencedSet) return lock.fencedSet(key, value);
  await store.set(key, value);
  return true;
}

async function refreshLocked(
  req: TokenRequest,
  key: string,
  deps: TokenServiceDeps,
  lock: Release,
): Promise<AccessRecord | undefined> {
  const { store, provider } = { ...deps, provider: req.provider };
  let login = await readLogin(store, provider.name, req.account);
  if (!login && req.account === 'default') login = ciLogin(deps.env, provider.name);
  if (!login) {
    throw new LoginRequiredError(
      `not logged in to ${provider.name}${req.account === 'default' ? '' : ` as account ${req.account}`} — run \`${loginCommand(provider.name, req.account)}\``,
    );
  }
  if (!login.refresh_token) {
    if (login.access_token && !req.scopes?.length) {
      // A non-expiring access token (GitHub OAuth apps) is the long-lived credential itself.
      return {
        v: 1,
        access_token: login.access_token,
        token_type: login.token_type ?? 'Bearer',
        expires_at: null,
        issued_at: login.obtained_at,
        scope: login.scope,
      };
    }
    if (login.access_token) {
      // Narrowing scopes takes a refresh grant (RFC 6749 §6); logging in again would not help.
      throw new UsageError(
        `--scope needs a refresh token, and the login to ${provider.name} has only a non-expiring access token (scopes: ${serverText(login.scope) || 'none'}): leave out --scope`,
      );
    }
    throw new LoginRequiredError(
      `no refresh token stored for ${provider.name} — run \`${loginCommand(provider.name, req.account)}\``,
    );
  }
  if (!login.from_env) {
    // A rotating server spends the stored refresh token the moment it answers (RFC 9700 §4.14.2):
    // prove the store takes a write before asking (disk full, read-only, quota), so such a fault
    // costs this call and not the login. A lock file has no fence: a holder that lost it while
    // paused must not write back a refresh token that a later holder may have rotated since.
    if (lock.stillHeld && !lock.stillHeld()) return undefined;
    if (!(await writeUnderLock(store, lock, loginKey(provider.name, req.account), JSON.stringify(login))))
      return undefined;
  } else {
    // The same proof for a CI refresh token: its rotated successor goes to the store. The probe
    // is taken back at once, so the variable stays the only copy until the server rotates it.
    const probe = loginKey(provider.name, req.account);
    if (!(await writeUnderLock(store, lock, probe, JSON.stringify(login)))) return undefined;
    await store.delete(probe);
  }
  const oauth = await import('../infra/oauth/index.js');
  const secret = await readClientSecret(store, deps.env, provider.name);
  const config = await oauth.configure(provider, secret, deps);
  if (!(await lock.held())) return undefined;
  deps.debug(`refresh: ${provider.name}/${req.account}${req.scopes?.length ? ` scope=${req.scopes.join(' ')}` : ''}`);
  const refreshToken = login.refresh_token;
  // From the grant on, a signal waits until the new tokens are stored (see holdSignals).
  return holdSignals(
    `the new tokens for ${provider.name} were stored`,
    () => refreshAndStore(req, key, deps, { ...login, refresh_token: refreshToken }, oauth, config, lock),
    deps.debug,
  );
}

type OAuth = typeof import('../infra/oauth/index.js');

/**
 * The refresh grant and the store writes that follow it, the rotated refresh token first.
 * Undefined: a later holder of the lock wrote the login meanwhile; the caller starts over.
 */
async function refreshAndStore(
  req: TokenRequest,
  key: string,
  deps: TokenServiceDeps,
  login: LoginRecord & { refresh_token: string },
  oauth: OAuth,
  config: Configuration,
  lock: Release,
): Promise<AccessRecord | undefined> {
  const { store, clock, provider } = { ...deps, provider: req.provider };
  let result;
  try {
    result = await oauth.refreshGrant(config, provider, req.account, login.refresh_token, req.scopes, () =>
      clock.now(),
    );
  } catch (error) {
    if (error instanceof RefreshRejectedError) throw await rejected(login, req, deps, error);
    throw error;
  }
  if (result.refresh_token && result.refresh_token !== login.refresh_token) {
    // The rotated refresh token goes to the store before anything else happens: the old one is
    // spent, and losing the new one would cost a login.
    const next: LoginRecord = {
      ...login,
      refresh_token: result.refresh_token,
      obtained_at: clock.now(),
      rotated: true,
    };
    delete next.from_env;
    delete next.rejected_at;
    try {
      if (!(await writeUnderLock(store, lock, loginKey(provider.name, req.account), JSON.stringify(next))))
        return undefined;
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      throw new StoreError(
        `${error.message} — and ${provider.name} has already rotated the refresh token, so this login is lost: run \`${loginCommand(provider.name, req.account)}\` once the store works again`,
        { cause: error },
      );
    }
    deps.debug(`store: rotated refresh token written for ${provider.name}/${req.account}`);
    if (login.from_env) {
      deps.warn(
        `the refresh token in ${ciVariable(provider.name)} was rotated by ${provider.name} and is now spent; the new one is kept in ${store.location}. Update the CI secret from a fresh \`vault login\` and \`vault export ${provider.name}\`, or share one login through a fleet store (VAULT_STORE=redis://…).`,
      );
    }
  }
  const record: AccessRecord = {
    v: 1,
    access_token: result.access_token,
    token_type: result.token_type,
    expires_at: result.expires_at,
    issued_at: clock.now(),
    scope: result.scope ?? (req.scopes?.length ? req.scopes.join(' ') : login.scope),
  };
  await store.set(key, JSON.stringify(record), { expiresAt: record.expires_at });
  deps.debug(`store: access token cached as ${key}`);
  return record;
}

/**
 * The error for a refresh token the server refused. A stored one is marked, so that `status` shows
 * it as rejected until the next login; one from `VAULT_<NAME>_REFRESH_TOKEN` is CI's secret, which
 * `vault login` cannot renew there: the message names the variable and `vault export`.
 */
async function rejected(
  login: LoginRecord,
  req: TokenRequest,
  deps: TokenServiceDeps,
  error: RefreshRejectedError,
): Promise<LoginRequiredError> {
  const name = req.provider.name;
  if (login.from_env) {
    return new LoginRequiredError(
      `${name} rejected the refresh token in ${ciVariable(name)} (invalid_grant: revoked, expired or already spent): replace that CI secret with a fresh one from \`vault export ${name}\` on a machine logged in to ${name}`,
      { cause: error },
    );
  }
  try {
    await deps.store.set(loginKey(name, req.account), JSON.stringify({ ...login, rejected_at: deps.clock.now() }));
  } catch (storeError) {
    deps.debug(`store: cannot mark the login of ${name}/${req.account} as rejected: ${(storeError as Error).message}`);
  }
  return error;
}

/**
 * Stores a fresh login for (provider, account) under the refresh lock, replacing the old one only
 * now that the new credentials exist. Cached tokens of the old grant (every scope set) go too.
 */
export async function saveLogin(
  provider: Provider,
  account: string,
  result: TokenResult,
  requestedScopes: readonly string[],
  deps: TokenServiceDeps,
): Promise<LoginRecord> {
  const { store, clock } = deps;
  const now = clock.now();
  const scope = result.scope ?? requestedScopes.join(' ');
  const login: LoginRecord = {
    v: 1,
    ...(result.refresh_token
      ? { refresh_token: result.refresh_token }
      : { access_token: result.access_token, token_type: result.token_type }),
    scope,
    ...(result.identity && { identity: result.identity }),
    obtained_at: now,
  };
  const release = await refreshLock(deps, provider.name, account);
  try {
    if (!(await writeUnderLock(store, release, loginKey(provider.name, account), JSON.stringify(login)))) {
      throw new StoreError(
        `the login for ${provider.name} was replaced in ${store.location} while this one was being saved: run \`${loginCommand(provider.name, account)}\` again`,
      );
    }
    for (const key of await store.keys(accessPrefix(provider.name, account))) await store.delete(key);
    const access: AccessRecord = {
      v: 1,
      access_token: result.access_token,
      token_type: result.token_type,
      expires_at: result.expires_at,
      issued_at: now,
      scope,
    };
    await store.set(accessKey(provider.name, account), JSON.stringify(access), { expiresAt: access.expires_at });
    deps.debug(`store: login saved for ${provider.name}/${account} in ${store.kind}`);
  } finally {
    await release();
  }
  return login;
}

/**
 * Drops the cached access token equal to `token` for (provider, account), in every scope set, so
 * the next request refreshes instead of handing it out again (git's `erase` after the server
 * refused it, e.g. because it was revoked before it expired). Resolves true when one was dropped.
 */
export async function forgetAccessToken(
  provider: string,
  account: string,
  token: string,
  deps: TokenServiceDeps,
): Promise<boolean> {
  const release = await refreshLock(deps, provider, account);
  try {
    let dropped = false;
    for (const key of await deps.store.keys(accessPrefix(provider, account))) {
      const record = await readAccess(deps.store, key);
      if (record?.access_token === token && (await deps.store.delete(key))) {
        deps.debug(`store: dropped cached access token ${key}`);
        dropped = true;
      }
    }
    return dropped;
  } finally {
    await release();
  }
}
