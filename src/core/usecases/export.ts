import { suggest } from '../suggest.js';
import { LoginRequiredError, StoreError, UsageError, loginCommand } from '../errors.js';
import { accessPrefix, loginKey, readLogin } from '../credentials.js';
import { rotatesRefreshTokens, type Provider } from '../config/providers.js';
import { refreshLock, type RefreshLockDeps } from './refresh-lock.js';

export interface ExportDeps extends RefreshLockDeps {
  debug(message: string): void;
  /** Hands the refresh token to the reader (stdout); resolves once the output took it, rejects if it did not. */
  print(refreshToken: string): Promise<void>;
  /** Runs `fn` with SIGINT, SIGTERM and SIGHUP held until it is done (see holdSignals). */
  critical<T>(done: string, fn: () => Promise<T>): Promise<T>;
}

export interface ExportRequest {
  provider: Provider;
  account: string;
  /** --keep: leave the local login in place. */
  keep: boolean;
  /** --force: with --keep, keep both copies even though the provider rotates refresh tokens. */
  force: boolean;
}

/**
 * What became of the local login: `moved` (removed here, the printed token is the only copy), or
 * `kept` because the provider does not rotate refresh tokens or because --keep --force said so.
 */
export type ExportOutcome = { kept: false } | { kept: true; rotating: boolean };

/**
 * `vault export`: the stored refresh token, for a CI secret (`vault export acme | gh secret set …`).
 * With rotation and reuse detection (RFC 9700 §4.14.2) two copies of one refresh token cannot both
 * live: the first refresh on either side spends the other, and presenting the spent copy revokes
 * the whole login. A rotating provider shows itself only at the first refresh, too late for a copy
 * made before it, so unless the provider is declared not to rotate (`rotates_refresh_tokens =
 * false`) the login is moved: printed, then removed here. Under the refresh lock, so no refresh
 * here rotates the token between the read and the removal.
 */
export async function exportLogin(deps: ExportDeps, req: ExportRequest): Promise<ExportOutcome> {
  const p = req.provider.name;
  const { account } = req;
  const lock = await refreshLock(deps, p, account);
  try {
    const login = await readLogin(deps.store, p, account);
    const relogin = loginCommand(p, account);
    if (!login)
      throw new LoginRequiredError(
        `not logged in to ${p}${account === 'default' ? '' : ` as account ${account}`} — run \`${relogin}\``,
      );
    if (!login.refresh_token) {
      throw new UsageError(
        `the login to ${p} holds no refresh token (its access token does not expire): nothing to export`,
      );
    }
    if (login.rejected_at !== undefined) {
      throw new LoginRequiredError(`${p} rejected the stored refresh token — run \`${relogin}\` first`);
    }
    // A rotation seen here overrides a declaration that the provider does not rotate.
    const rotating = login.rotated === true || rotatesRefreshTokens(req.provider);
    if (rotating && req.keep && !req.force) {
      throw new UsageError(
        `${p} rotates refresh tokens: a copy kept here and the exported one would spend each other, and ${p} revokes the login when the spent one is used. Without --keep, export moves the login (this copy is removed); for CI runners that share a login, use a fleet store: \`${suggest(['store', 'migrate', '--to', 'redis://HOST', p], { account })}\`. \`--keep --force\` keeps both anyway`,
      );
    }
    await deps.print(login.refresh_token);
    if (!rotating || req.keep) return { kept: true, rotating };
    // The token has reached its reader: from here on this copy is the second one. The cached
    // access tokens go with the login, so `vault token` here no longer answers for it.
    const key = loginKey(p, account);
    const cached = await deps.store.keys(accessPrefix(p, account));
    await deps.critical(`the login to ${p} was removed`, async () => {
      try {
        for (const k of [key, ...cached])
          deps.debug(`store: ${(await deps.store.delete(k)) ? 'deleted' : 'no entry'} ${k}`);
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        throw new StoreError(
          `${error.message} — the refresh token was printed but the local login is still in ${deps.store.location}: remove it with \`${suggest(['logout', p, '--no-revoke'], { account })}\`, or the two copies will spend each other`,
          { cause: error },
        );
      }
    });
    return { kept: false };
  } finally {
    await lock.release();
  }
}
