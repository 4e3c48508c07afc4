import { suggest } from '../suggest.js';
import { LoginRequiredError, UsageError, loginCommand } from '../errors.js';
import { readLogin } from '../credentials.js';
import type { SecretStore } from '../../ports.js';

/**
 * The stored refresh token, for a CI secret (`vault export acme | gh secret set …`). With rotation
 * and reuse detection (RFC 9700 §4.14.2) two copies of one refresh token cannot both live: the
 * first refresh on either side spends the other, and presenting the spent copy revokes the whole
 * login. So once this login has seen a rotation, only `force` exports it.
 */
export async function exportRefreshToken(
  store: SecretStore,
  provider: string,
  account: string,
  force: boolean,
): Promise<string> {
  const p = provider;
  const login = await readLogin(store, p, account);
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
  if (login.rotated && !force) {
    throw new UsageError(
      `${p} rotates refresh tokens: an exported copy and this one would spend each other, and the server revokes the login when the spent one is used. For CI runners that share a login, move it to a fleet store: \`${suggest(['store', 'migrate', '--to', 'redis://HOST', p], { account })}\`. --force exports anyway`,
    );
  }
  return login.refresh_token;
}
