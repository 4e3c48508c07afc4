import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption, portOption, scopeOption, secondsOption } from '../options.js';

export interface LoginOptions {
  provider?: string;
  account?: string;
  scope?: string[];
  device?: boolean;
  /** false with --no-browser */
  browser: boolean;
  port?: number;
  timeout: number;
}

export function loginCommand(ctx: Context, runF: (opts: LoginOptions) => Promise<Outcome> = (o) => loginRun(ctx, o)) {
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
    .action(async (provider: string | undefined, flags: Omit<LoginOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

export async function loginRun(ctx: Context, opts: LoginOptions): Promise<Outcome> {
  const { runLogin } = await import('../login-session.js');
  await runLogin(ctx, opts);
}
