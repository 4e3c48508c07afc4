import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { accountOption } from '../options.js';

export function exportCommand(ctx: Context) {
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
    .action(act(ctx, async () => (await import('../runs/export.js')).exportRun));
}
