import { LoginRequiredError, UsageError, loginCommand } from '../../core/errors.js';
import { readLogin } from '../../core/credentials.js';
import { openStore } from '../../infra/stores/index.js';
import { accountOf, loadProvider } from '../context.js';
import type { Deps } from '../../ports.js';

export interface ExportOptions {
  account?: string;
  force?: boolean;
}

/**
 * Prints the stored refresh token alone, for a CI secret (`vault export acme | gh secret set …`).
 * With rotation and reuse detection (RFC 9700 §4.14.2) two copies of one refresh token cannot
 * both live: the first refresh on either side spends the other, and presenting the spent copy
 * revokes the whole login. So once this login has seen a rotation, only --force exports it.
 */
export async function run(deps: Deps, providerName: string | undefined, opts: ExportOptions): Promise<number> {
  const provider = loadProvider(deps, providerName);
  const account = accountOf(deps, opts.account);
  const p = provider.name;
  const login = await readLogin(openStore(deps), p, account);
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
  if (login.rotated && !opts.force) {
    throw new UsageError(
      `${p} rotates refresh tokens: an exported copy and this one would spend each other, and the server revokes the login when the spent one is used. For CI runners that share a login, move it to a fleet store: \`vault store migrate --to redis://HOST ${p}\`. --force exports anyway`,
    );
  }
  deps.io.stdout.write(`${login.refresh_token}\n`);
  deps.io.stderr.write(
    `warning: the refresh token of ${p} now lives in two places, here and wherever you put it. If ${p} rotates refresh tokens, the first refresh on either side spends the other copy: \`vault logout ${p} --no-revoke\` here leaves the exported one the only one.\n`,
  );
  return 0;
}
