import { Command, Option } from 'commander';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import { accountOption, minValidOption, scopeOption } from '../options.js';
import type { TokenOptions } from '../token-output.js';

/** The options the cached-token path reads too. */
export type { TokenOptions } from '../token-output.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function tokenCommand(ctx: Context, run?: Run<TokenOptions>) {
  return new Command('token')
    .argument('[provider]')
    .description('print a valid access token, refreshing it when needed')
    .addOption(accountOption())
    .addOption(scopeOption('ask for a subset of the granted scopes (repeatable)'))
    .addOption(minValidOption(60, 'seconds the token must stay valid (capped at half its lifetime)'))
    .option('--force-refresh', 'refresh even if the cached token is still valid')
    .addOption(new Option('--json', 'print JSON with the expiry and scopes').conflicts('header'))
    .option('--header', 'print "Authorization: Bearer <token>"')
    .addHelpText(
      'after',
      `
Examples:
  curl -H @<(vault token google --header) https://www.googleapis.com/oauth2/v3/userinfo
  vault token acme --scope api:read --min-valid 300
  vault token github --json`,
    )
    .action(act(ctx, async () => run ?? (await import('../runs/token.js')).tokenRun));
}
