import { Command } from 'commander';
import { checkProviderName } from '../../core/config/names.js';
import type { Provider } from '../../core/config/providers.js';
import type { LogoutDeps } from '../../core/usecases/logout.js';
import type { Context, Outcome } from '../context.js';
import { accountOption } from '../options.js';

export interface LogoutOptions {
  provider?: string;
  account?: string;
  /** false with --no-revoke */
  revoke: boolean;
}

export function logoutCommand(
  ctx: Context,
  runF: (opts: LogoutOptions) => Promise<Outcome> = (o) => logoutRun(ctx, o),
) {
  return new Command('logout')
    .argument('[provider]')
    .description('revoke the refresh token (RFC 7009) and delete everything stored for the account')
    .addOption(accountOption())
    .option('--no-revoke', 'delete locally without revoking at the provider')
    .addHelpText(
      'after',
      `
The local login is removed even when the provider cannot be reached (then it exits 4).
The provider's client secret stays: \`vault provider remove\` removes it.

Examples:
  vault logout google
  vault logout acme -a work
  vault logout github --no-revoke`,
    )
    .action(async (provider: string | undefined, flags: Omit<LogoutOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
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

async function logoutDeps(ctx: Context): Promise<LogoutDeps> {
  const { readClientSecret } = await import('../../core/usecases/client-secret.js');
  const { holdSignals } = await import('../../infra/signals.js');
  const { lockDir } = await import('../../infra/paths.js');
  const { fileLocks } = await import('../../infra/adapters.js');
  return {
    store: ctx.store(),
    locks: fileLocks(lockDir(ctx.env), ctx.debug),
    debug: ctx.debug,
    say: (line) => ctx.io.stderr.write(`${line}\n`),
    async revoke(provider, token, hint) {
      const oauth = await ctx.oauth();
      const secret = await readClientSecret(ctx.store(), ctx.env, provider.name);
      const config = await oauth.configure(provider, secret, ctx);
      const endpoint = config.serverMetadata().revocation_endpoint;
      if (!endpoint) return false;
      ctx.debug(`revocation: ${provider.name} ${hint} at ${endpoint}`);
      await oauth.revoke(config, provider, token, hint);
      return true;
    },
    describe: async (failure) => (await ctx.oauth()).describe(failure),
    critical: (done, fn) => holdSignals(done, fn, ctx.debug),
  };
}

export async function logoutRun(ctx: Context, opts: LogoutOptions): Promise<Outcome> {
  const { logout } = await import('../../core/usecases/logout.js');
  const provider = configured(ctx, opts.provider);
  const name = provider?.name ?? opts.provider!;
  const account = ctx.account(opts.account);
  if (await logout(await logoutDeps(ctx), { name, provider, account, revoke: opts.revoke })) return;
  // Nothing stored under a name nobody configured: the usual unknown-provider error (exit 2).
  if (!provider) ctx.provider(opts.provider);
  const { unreachableKeychainNote } = await import('../../infra/stores/keychain-reach.js');
  const unreachable = unreachableKeychainNote(ctx.env);
  const who = account === 'default' ? name : `${name} (account ${account})`;
  ctx.io.stderr.write(`Not logged in to ${who}: nothing to remove.${unreachable ? ` But ${unreachable}.` : ''}\n`);
}
