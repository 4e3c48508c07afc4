import { StoreError, loginCommand } from '../errors.js';
import type { Provider } from '../config/providers.js';
import { accessRecordOf, type TokenResult } from '../token-set.js';
import { accessKey, accessPrefix, loginKey, readAccess, readLogin, type LoginRecord } from '../credentials.js';
import { withRefreshLock, type RefreshLockDeps } from './refresh-lock.js';
import type { Clock, StoreEntry } from '../ports.js';

export interface SaveLoginDeps extends RefreshLockDeps {
  clock: Clock;
  debug: (message: string) => void;
  warn: (message: string) => void;
  /** RFC 7009 revocation of a refresh token at the provider; absent when it has no endpoint. */
  revoke?: (refreshToken: string) => Promise<void>;
}

/**
 * Stores a fresh login for (provider, account) under the refresh lock, replacing the old one only
 * now that the new credentials exist. Cached tokens of the old grant (every scope set) go too, in
 * the same commit as the new login and its access token. Then the replaced refresh token is
 * revoked, where the provider allows that without harm to the new login.
 */
export async function saveLogin(
  provider: Provider,
  account: string,
  result: TokenResult,
  requestedScopes: readonly string[],
  deps: SaveLoginDeps,
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
  const access = accessRecordOf(result, now, scope);
  const replaced = await withRefreshLock(deps, provider.name, account, async (lock) => {
    // A damaged old entry is what a new login repairs: it replaces nothing worth revoking.
    const replaced = (await readLogin(store, provider.name, account).catch(() => undefined))?.refresh_token;
    const entries: StoreEntry[] = [
      { key: loginKey(provider.name, account), value: JSON.stringify(login) },
      ...(await store.keys(accessPrefix(provider.name, account))).map((key) => ({ key, value: null })),
      { key: accessKey(provider.name, account), value: JSON.stringify(access), expiresAt: access.expires_at },
    ];
    if (!(await lock.commit(entries))) {
      throw new StoreError(
        `the login for ${provider.name} was replaced in ${store.location} while this one was being saved: run \`${loginCommand(provider.name, account)}\` again`,
      );
    }
    deps.debug(`store: login saved for ${provider.name}/${account} in ${store.kind}`);
    return replaced !== login.refresh_token ? replaced : undefined;
  });
  // Only where the provider revokes the one token sent (`revoke_replaced`): where a revocation ends
  // the whole grant (Google), the new login shares that grant and would end with it.
  if (replaced && provider.revoke_replaced && deps.revoke) {
    try {
      await deps.revoke(replaced);
      deps.debug(`revocation: the refresh token this login replaced at ${provider.name} was revoked`);
    } catch (error) {
      deps.warn(`the replaced refresh token was not revoked at ${provider.name}: ${(error as Error).message}`);
    }
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
  deps: RefreshLockDeps & { debug: (message: string) => void },
): Promise<boolean> {
  return withRefreshLock(deps, provider, account, async () => {
    let dropped = false;
    for (const key of await deps.store.keys(accessPrefix(provider, account))) {
      const record = await readAccess(deps.store, key);
      if (record?.access_token === token && (await deps.store.delete(key))) {
        deps.debug(`store: dropped cached access token ${key}`);
        dropped = true;
      }
    }
    return dropped;
  });
}
