import { checkProviderName } from '../../core/config/names.js';
import type { Provider } from '../../core/config/providers.js';
import { readClientSecret } from '../../core/usecases/client-secret.js';
import { logout, type LogoutDeps } from '../../core/usecases/logout.js';
import type { Context, Outcome } from '../context.js';

export interface LogoutOptions {
  provider?: string;
  account?: string;
  /** false with --no-revoke */
  revoke: boolean;
}

/**
 * A provider named on the command line that config.toml no longer has (removed by hand, or by
 * `provider remove` while a login was in progress) may still have entries in the store: logout
 * must be able to remove them, or they would stay there for good.
 */
function configured(ctx: Context, name: string | undefined): Provider | undefined {
  if (name !== undefined && ctx.config().providers[checkProviderName(name)] === undefined) return undefined;
  return ctx.provider(name);
}

/** The logout use case's ports: the revocation is the OAuth client's (RFC 7009), with the stored client secret. */
function logoutDeps(ctx: Context): LogoutDeps {
  const ports = ctx.ports();
  return {
    ...ports,
    say: (line) => ctx.io.stderr.write(`${line}\n`),
    async revoke(provider, token, hint) {
      const client = await ports.oauth.client(provider, await readClientSecret(ports.store, ports.env, provider.name));
      if (!client.revocationEndpoint) return false;
      ports.debug(`revocation: ${provider.name} ${hint} at ${client.revocationEndpoint}`);
      await client.revoke(token, hint);
      return true;
    },
    describe: (failure) => ports.oauth.describe(failure),
  };
}

export async function logoutRun(ctx: Context, opts: LogoutOptions): Promise<Outcome> {
  const provider = configured(ctx, opts.provider);
  const name = provider?.name ?? opts.provider!;
  const account = ctx.account(opts.account);
  if (await logout(logoutDeps(ctx), { name, provider, account, revoke: opts.revoke })) return;
  // Nothing stored under a name nobody configured: the usual unknown-provider error (exit 2).
  if (!provider) ctx.provider(opts.provider);
  const unreachable = ctx.ports().keychainNote();
  const who = account === 'default' ? name : `${name} (account ${account})`;
  ctx.io.stderr.write(`Not logged in to ${who}: nothing to remove.${unreachable ? ` But ${unreachable}.` : ''}\n`);
}
