import { Command, Option } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption, minValidOption, scopeOption } from '../options.js';

export interface TokenOptions {
  provider?: string;
  account?: string;
  scope?: string[];
  minValid: number;
  forceRefresh?: boolean;
  json?: boolean;
  header?: boolean;
  /** headers-json: `{"Authorization":"Bearer …"}`, what MCP clients' headers helpers print. */
  format?: 'headers-json';
}

export function tokenCommand(ctx: Context, runF: (opts: TokenOptions) => Promise<Outcome> = (o) => tokenRun(ctx, o)) {
  return new Command('token')
    .argument('[provider]')
    .description('print a valid access token, refreshing it when needed')
    .addOption(accountOption())
    .addOption(scopeOption('ask for a subset of the granted scopes (repeatable)'))
    .addOption(minValidOption(60, 'seconds the token must stay valid (capped at half its lifetime)'))
    .option('--force-refresh', 'refresh even if the cached token is still valid')
    .addOption(new Option('--json', 'print JSON with the expiry and scopes').conflicts('header'))
    .option('--header', 'print "Authorization: Bearer <token>"')
    .addOption(
      new Option('--format <format>', 'headers-json: print {"Authorization":"Bearer <token>"} (headers helpers)')
        .choices(['headers-json'])
        .conflicts(['json', 'header']),
    )
    .addHelpText(
      'after',
      `
Examples:
  curl -H @<(vault token google --header) https://www.googleapis.com/oauth2/v3/userinfo
  vault token acme --scope api:read --min-valid 300
  vault token github --json
  vault token notes --format headers-json   # Claude Code's headersHelper`,
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
