import { suggest } from '../../core/suggest.js';
import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption } from '../options.js';

export interface ExportOptions {
  provider?: string;
  account?: string;
  keep?: boolean;
  force?: boolean;
}

export function exportCommand(
  ctx: Context,
  runF: (opts: ExportOptions) => Promise<Outcome> = (o) => exportRun(ctx, o),
) {
  return new Command('export')
    .argument('[provider]')
    .description('move the login out as its refresh token, for a CI secret (VAULT_<NAME>_REFRESH_TOKEN)')
    .addOption(accountOption())
    .option('--keep', 'keep the login here too (a rotating provider also needs --force)')
    .option('--force', 'with --keep: keep both copies even though the provider rotates refresh tokens')
    .addHelpText(
      'after',
      `
Prints the refresh token alone on stdout, then removes the login here: a provider that rotates refresh
tokens lets only one copy live (the first refresh on either side spends the other, and using the spent
one revokes the login). A provider with rotates_refresh_tokens = false (the google preset) keeps the
login here as well. --keep --force keeps both copies anyway; to share one login between machines, use
a fleet store (\`vault store migrate --to redis://HOST\`).

Examples:
  vault export acme | gh secret set ACME_REFRESH_TOKEN
  vault export acme -a ci | glab variable set ACME_REFRESH_TOKEN --masked
  vault export google | gh secret set GOOGLE_REFRESH_TOKEN   # kept here too: Google does not rotate`,
    )
    .action(async (provider: string | undefined, flags: Omit<ExportOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

export async function exportRun(ctx: Context, opts: ExportOptions): Promise<Outcome> {
  const { exportLogin } = await import('../../core/usecases/export.js');
  const { ciVariable } = await import('../../core/credentials.js');
  const { loginCommand } = await import('../../core/errors.js');
  const { holdSignals } = await import('../../infra/signals.js');
  const { lockDir } = await import('../../infra/paths.js');
  const { fileLocks } = await import('../../infra/adapters.js');
  const provider = ctx.provider(opts.provider);
  const p = provider.name;
  const account = ctx.account(opts.account);
  const store = ctx.store();
  const outcome = await exportLogin(
    {
      store,
      locks: fileLocks(lockDir(ctx.env), ctx.debug),
      debug: ctx.debug,
      // The login is removed only once stdout took the token: a reader that went away keeps it here.
      print: (token) =>
        new Promise<void>((resolve, reject) =>
          ctx.io.stdout.write(`${token}\n`, (error) => (error ? reject(error) : resolve())),
        ),
      critical: (done, fn) => holdSignals(done, fn, ctx.debug),
    },
    { provider, account, keep: Boolean(opts.keep), force: Boolean(opts.force) },
  );
  const say = (line: string) => ctx.io.stderr.write(`${line}\n`);
  if (!outcome.kept) {
    say(
      `Moved the login to ${p}${account === 'default' ? '' : ` (account ${account})`} out of ${store.location}: the printed refresh token is now its only copy (${p} rotates refresh tokens, so two copies would spend each other). Put it in the CI secret ${ciVariable(p)}. To use ${p} here again: \`${loginCommand(p, account)}\`; to keep both copies next time: \`${suggest(['export', p, '--keep', '--force'], { account })}\`; to share one login: \`${suggest(['store', 'migrate', '--to', 'redis://HOST', p], { account })}\`.`,
    );
  } else if (outcome.rotating) {
    say(
      `warning: the refresh token of ${p} now lives in two places, here and wherever you put it, and ${p} rotates refresh tokens: the first refresh on either side spends the other copy, and using the spent one revokes the login. \`${suggest(['logout', p, '--no-revoke'], { account })}\` here leaves the exported one the only one.`,
    );
  } else {
    say(
      `note: ${p} does not rotate refresh tokens (rotates_refresh_tokens = false), so the login stays here and the exported copy works beside it; \`${suggest(['logout', p], { account })}\` revokes both.`,
    );
  }
}
