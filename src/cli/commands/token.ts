import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

export interface TokenOptions {
  provider?: string;
  account?: string;
  scope?: string[];
  minValid: number;
  forceRefresh?: boolean;
  json?: boolean;
  header?: boolean;
}

export function tokenCommand(ctx: Context, runF: (opts: TokenOptions) => Promise<Outcome> = (o) => tokenRun(ctx, o)) {
  return withOptions(
    new Command('token').argument('[provider]').description('print a valid access token, refreshing it when needed'),
    GRAMMAR.token,
  )
    .addHelpText(
      'after',
      `
Examples:
  curl -H @<(vault token google --header) https://www.googleapis.com/oauth2/v3/userinfo
  vault token acme --scope api:read --min-valid 300
  vault token github --json`,
    )
    .action(async (provider: string | undefined, flags: Omit<TokenOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

export async function tokenRun(ctx: Context, opts: TokenOptions): Promise<Outcome> {
  const { getAccessToken } = await import('../../core/usecases/get-token.js');
  const { tokenOutput } = await import('../token-output.js');
  ctx.io.stdout.write((await tokenOutput(ctx, opts, (req) => getAccessToken(req, ctx.tokenDeps())))!);
}
