import { suggest } from '../suggest.js';
import { StoreError, TemporaryError, VaultError, loginCommand } from '../errors.js';
import { accessRecordOf, invalidTokenError, isTokenText, type TokenResult } from '../token-set.js';
import { ciVariable, loginKey, readLogin, type AccessRecord, type LoginRecord } from '../credentials.js';
import type { RefreshLock, SecretStore, StoreEntry } from '../ports.js';
import type { TokenDeps, TokenRequest } from './get-token.js';

/**
 * Stores what a refresh grant returned: a rotated refresh token and the new access token in one
 * commit, so the rotated token is stored before any access token is handed out. Undefined: a later
 * holder of the lock wrote the login meanwhile; the caller starts over.
 *
 * An access token that cannot be handed out is neither cached nor returned, but a rotated refresh
 * token in the same answer is still stored (the old one is spent): one whose text is not a token's
 * (exit 1), and one already expired when it arrives, its lifetime counted from when the request
 * was sent (exit 4: a slow answer; the next call refreshes again).
 */
export async function storeRefreshed(
  req: TokenRequest,
  key: string,
  deps: TokenDeps,
  login: LoginRecord & { refresh_token: string },
  result: TokenResult,
  lock: RefreshLock,
): Promise<AccessRecord | undefined> {
  const { store, clock, provider } = { ...deps, provider: req.provider };
  const { record, unusable } = received(
    result,
    clock.now(),
    result.scope ?? (req.scopes?.length ? req.scopes.join(' ') : login.scope),
    provider.name,
  );
  // Handed to this process's caller (an RFC 8693 exchange with an ID token subject), never stored:
  // the cache entry must stay small (a Windows credential holds 2560 bytes).
  const handed = result.id_token ? { ...record, id_token: result.id_token } : record;
  const access: StoreEntry[] = unusable ? [] : [{ key, value: JSON.stringify(record), expiresAt: record.expires_at }];
  if (!result.refresh_token || result.refresh_token === login.refresh_token) {
    if (unusable) throw unusable;
    await store.commit(access);
    deps.debug(`store: access token cached as ${key}`);
    return handed;
  }
  // The old refresh token is spent: losing the new one would cost a login.
  const next: LoginRecord = { ...login, refresh_token: result.refresh_token, obtained_at: clock.now(), rotated: true };
  delete next.from_env;
  delete next.rejected_at;
  try {
    const entries = [{ key: loginKey(provider.name, req.account), value: JSON.stringify(next) }, ...access];
    if (!(await lock.commit(entries))) return undefined;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    // A store that writes entry by entry (the keychain) may have kept the login and failed on the
    // access token: then nothing is lost, and the error is only that one.
    if (await holds(store, provider.name, req.account, result.refresh_token)) throw error;
    throw new StoreError(
      `${error.message} — and ${provider.name} has already rotated the refresh token, so this login is lost: run \`${loginCommand(provider.name, req.account)}\` once the store works again`,
      { cause: error },
    );
  }
  deps.debug(`store: rotated refresh token written for ${provider.name}/${req.account}`);
  if (login.from_env) {
    deps.warn(
      `the refresh token in ${ciVariable(provider.name)} was rotated by ${provider.name} and is now spent; the new one is kept in ${store.location}. Update the CI secret from a fresh \`vault login\` and \`${suggest(['export', provider.name])}\`, or share one login through a fleet store (VAULT_STORE=redis://…).`,
    );
  }
  if (unusable) throw unusable;
  deps.debug(`store: access token cached as ${key}`);
  return handed;
}

/** Whether the store holds `refreshToken` for the login: false also when it cannot be read. */
async function holds(store: SecretStore, provider: string, account: string, refreshToken: string): Promise<boolean> {
  try {
    return (await readLogin(store, provider, account))?.refresh_token === refreshToken;
  } catch {
    return false;
  }
}

/**
 * The access record of a grant's answer that arrived at `arrived`, and why it cannot be handed out,
 * if so: its text is not a token's (exit 1), or it had expired when it arrived, its lifetime counted
 * from when the request was sent (exit 4: a slow answer; the next call asks again).
 */
export function received(
  result: TokenResult,
  arrived: number,
  scope: string,
  provider: string,
): { record: AccessRecord; unusable: VaultError | undefined } {
  const record = accessRecordOf(result, arrived, scope);
  const unusable: VaultError | undefined = !isTokenText(result.access_token)
    ? invalidTokenError('access token')
    : record.expires_at !== null && record.expires_at <= arrived
      ? new TemporaryError(
          `the access token from ${provider} had expired when it arrived: it was valid for ${Math.round((record.expires_at - record.issued_at) / 1000)}s from the request, and the answer took ${Math.round((arrived - record.issued_at) / 1000)}s (temporary; try again)`,
        )
      : undefined;
  return { record, unusable };
}
