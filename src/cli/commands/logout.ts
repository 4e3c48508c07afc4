import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { accountOption } from '../options.js';

export function logoutCommand(ctx: Context) {
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
    .action(act(ctx, async () => (await import('../runs/logout.js')).logoutRun));
}
