import { suggest } from '../../core/suggest.js';
import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption } from '../options.js';

export interface ExportOptions {
  provider?: string;
  account?: string;
  force?: boolean;
}

export function exportCommand(
  ctx: Context,
  runF: (opts: ExportOptions) => Promise<Outcome> = (o) => exportRun(ctx, o),
) {
  return new Command('export')
    .argument('[provider]')
    .description('print the refresh token, for a CI secret (VAULT_<NAME>_REFRESH_TOKEN)')
    .addOption(accountOption())
    .option('--force', 'export even though the provider rotates refresh tokens (see below)')
    .addHelpText(
      'after',
      `
Prints the refresh token alone on stdout; it then lives in two places. Once the provider has been seen
rotating refresh tokens, export refuses without --force: prefer a fleet store (\`vault store migrate\`).

Examples:
  vault export acme | gh secret set ACME_REFRESH_TOKEN
  vault export acme -a ci | glab variable set ACME_REFRESH_TOKEN --masked`,
    )
    .action(async (provider: string | undefined, flags: Omit<ExportOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

export async function exportRun(ctx: Context, opts: ExportOptions): Promise<Outcome> {
  const { exportRefreshToken } = await import('../../core/usecases/export.js');
  const p = ctx.provider(opts.provider).name;
  const account = ctx.account(opts.account);
  ctx.io.stdout.write(`${await exportRefreshToken(ctx.store(), p, account, Boolean(opts.force))}\n`);
  ctx.io.stderr.write(
    `warning: the refresh token of ${p} now lives in two places, here and wherever you put it. If ${p} rotates refresh tokens, the first refresh on either side spends the other copy: \`${suggest(['logout', p, '--no-revoke'], { account })}\` here leaves the exported one the only one.\n`,
  );
}
