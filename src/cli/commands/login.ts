import { Command } from 'commander';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import type { LoginOptions } from '../login-session.js';
import { accountOption, portOption, scopeOption, secondsOption } from '../options.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function loginCommand(ctx: Context, run?: Run<LoginOptions>) {
  return new Command('login')
    .argument('[provider]')
    .description('log in through the browser (RFC 8252 loopback + PKCE) or the device flow')
    .addOption(accountOption())
    .addOption(scopeOption("scope to request (repeatable; default: the provider's scopes)"))
    .option('--device', 'use the device authorization grant (RFC 8628), for machines without a browser')
    .option('--no-browser', 'print the URL instead of opening a browser')
    .addOption(portOption('loopback port for the redirect (default: any free port)'))
    .addOption(secondsOption('--timeout <sec>', 'give up after this many seconds', 300))
    .addHelpText(
      'after',
      `
Examples:
  vault login google
  vault login github --device
  vault login acme -a work --no-browser`,
    )
    .action(act(ctx, async () => run ?? (await import('../login-session.js')).runLogin));
}
