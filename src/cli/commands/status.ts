import { Command, Option } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { jsonOption } from '../options.js';

export function statusCommand(ctx: Context) {
  return new Command('status')
    .argument('[provider]')
    .description('show logins, scopes and expiry (never a secret)')
    .addOption(new Option('-a, --account <name>', 'only this account'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Reads the store only: no refresh, no network. Exits 3 when the named provider has no login.

Examples:
  vault status
  vault status google -a work
  vault status --json | jq -r '.accounts[] | select(.refresh_token_stored) | .provider'`,
    )
    .action(act(ctx, async () => (await import('../runs/status.js')).statusRun));
}
