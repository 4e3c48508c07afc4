import { Command } from 'commander';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';
import type { TokenOptions } from '../token-output.js';

/** The options the cached-token path reads too. */
export type { TokenOptions } from '../token-output.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function tokenCommand(ctx: Context, run?: Run<TokenOptions>) {
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
  vault token github --json
  vault token notes --format headers-json   # Claude Code's headersHelper`,
    )
    .action(act(ctx, async () => run ?? (await import('../runs/token.js')).tokenRun));
}
