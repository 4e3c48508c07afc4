import { suggest } from '../suggest.js';
import {
  LoginRequiredError,
  RefreshRejectedError,
  ScopeRejectedError,
  UsageError,
  VaultError,
  loginCommand,
} from '../errors.js';
import { serverText } from '../server-text.js';
import type { Provider } from '../config/providers.js';
import { isFresh } from '../token-set.js';
import {
  accessKey,
  ciLogin,
  ciVariable,
  loginKey,
  readAccess,
  readLogin,
  type AccessRecord,
  type LoginRecord,
} from '../credentials.js';
import { readClientSecret } from './client-secret.js';
import { getExchangedToken } from './exchange.js';
import { proveWritable, refreshLock } from './refresh-lock.js';
import { storeRefreshed } from './store-refreshed.js';
import type { Clock, Locks, OAuth, RefreshLock, SecretStore, Signals } from '../ports.js';

export interface TokenDeps {
  store: SecretStore;
  locks: Locks;
  oauth: OAuth;
  signals: Signals;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
  warn: (message: string) => void;
  /** The configured provider of that name: the source of an exchanged provider (exchange.ts). */
  provider?: (name: string) => Provider;
}

export interface TokenRequest {
  provider: Provider;
  account: string;
  /** A subset of the granted scopes (least privilege); cached separately. */
  scopes?: string[];
  /** Seconds the token must still be valid for (capped at half its lifetime). */
  minValid: number;
  forceRefresh?: boolean;
  /**
   * An access token a resource server refused (HTTP 401): any other cached token is used, else the
   * login is refreshed even though that one still looks fresh. Unlike forceRefresh, callers that
   * saw the same refusal at once share one refresh.
   */
  refused?: string;
}

/** The cached access token for the request while it is fresh; never refreshes, never locks. */
export async function cachedAccessToken(
  req: TokenRequest,
  deps: Pick<TokenDeps, 'store' | 'clock'>,
): Promise<AccessRecord | undefined> {
  if (req.forceRefresh) return undefined;
  const key = accessKey(req.provider.name, req.account, req.scopes);
  // A damaged entry is a miss here; the read under the refresh lock reports it.
  const cached = await readAccess(deps.store, key, () => {});
  return cached && isFresh(cached, deps.clock.now(), req.minValid) && cached.access_token !== req.refused
    ? cached
    : undefined;
}

/**
 * A valid access token for (provider, account, scopes): from the cache while fresh, else from
 * one refresh grant, single-flight across processes. Under the lock the cache is read again, so
 * the processes that waited use the winner's token instead of spending the refresh token again:
 * with rotation and reuse detection (OAuth 2.0 Security BCP, RFC 9700 §4.14.2) a second use of a
 * rotated refresh token would revoke the whole login.
 */
export async function getAccessToken(request: TokenRequest, deps: TokenDeps): Promise<AccessRecord> {
  if (request.provider.exchange_from !== undefined)
    return getExchangedToken(request, deps, (req) => getAccessToken(req, deps));
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
    const lock = await refreshLock(deps, req.provider.name, req.account, until);
    try {
      if (!req.forceRefresh) {
        const cached = await readAccess(store, key, (m) => deps.warn(`${m}; refreshing to replace it`));
        if (cached && isFresh(cached, clock.now(), req.minValid) && cached.access_token !== req.refused) {
          deps.debug('store: another process refreshed while we waited');
          return cached;
        }
      }
      const record = await refreshLocked(req, key, deps, lock);
      if (record) return record;
      // The lock was lost while this process was paused: another process may have refreshed with
      // the same refresh token by now, so start over from the store instead of spending it again.
      deps.debug('lock: lost while paused; starting over');
      req = { ...req, forceRefresh: false };
    } finally {
      await lock.release();
    }
  }
}

async function refreshLocked(
  req: TokenRequest,
  key: string,
  deps: TokenDeps,
  lock: RefreshLock,
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
  // From a CI variable the login is not in the store: a written probe is taken back at once, so
  // the variable stays the only copy until the server rotates it.
  const stored = !login.from_env;
  if (!(await proveWritable(store, lock, loginKey(provider.name, req.account), JSON.stringify(login), stored)))
    return undefined;
  const secret = await readClientSecret(store, deps.env, provider.name);
  const client = await deps.oauth.client(provider, secret);
  if (!(await lock.commitToGrant())) return undefined;
  deps.debug(`refresh: ${provider.name}/${req.account}${req.scopes?.length ? ` scope=${req.scopes.join(' ')}` : ''}`);
  const refreshToken = login.refresh_token;
  // From the grant on, a signal waits until the new tokens are stored (see Signals).
  return deps.signals.hold(`the new tokens for ${provider.name} were stored`, async () => {
    let result;
    try {
      result = await client.refresh(req.account, refreshToken, req.scopes);
    } catch (error) {
      if (error instanceof RefreshRejectedError) throw await rejected(login, req, deps, error);
      if (error instanceof ScopeRejectedError && req.scopes?.length) throw scopeRejected(login, req, error);
      throw error;
    }
    return storeRefreshed(req, key, deps, { ...login, refresh_token: refreshToken }, result, lock);
  });
}

/**
 * `--scope` asked for more than the login was granted (RFC 6749 §6: a refresh may only narrow the
 * grant): names the scopes, and the login that asks for them too.
 */
function scopeRejected(login: LoginRecord, req: TokenRequest, error: ScopeRejectedError): VaultError {
  const p = req.provider.name;
  const granted = login.scope.split(/\s+/).filter(Boolean).map(serverText);
  const missing = req.scopes!.filter((s) => !granted.includes(s));
  const asked = missing.length ? missing : req.scopes!;
  const all = [...new Set([...granted, ...asked])];
  return new VaultError(
    'failure',
    `${error.message}: the login to ${p} was not granted ${asked.join(' ')} (granted: ${granted.join(' ') || 'none'}); log in asking for it: \`${suggest(['login', p, ...all.flatMap((s) => ['--scope', s])], { account: req.account })}\``,
    { cause: error },
  );
}

/**
 * The error for a refresh token the server refused. A stored one is marked, so that `status` shows
 * it as rejected until the next login; one from `VAULT_<NAME>_REFRESH_TOKEN` is CI's secret, which
 * `vault login` cannot renew there: the message names the variable and `vault export`.
 */
async function rejected(
  login: LoginRecord,
  req: TokenRequest,
  deps: TokenDeps,
  error: RefreshRejectedError,
): Promise<LoginRequiredError> {
  const name = req.provider.name;
  if (login.from_env) {
    return new LoginRequiredError(
      `${name} rejected the refresh token in ${ciVariable(name)} (invalid_grant: revoked, expired or already spent): replace that CI secret with a fresh one from \`${suggest(['export', name])}\` on a machine logged in to ${name}`,
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
