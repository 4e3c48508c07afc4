import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';

export function setupGitCommand(ctx: Context) {
  return new Command('setup-git')
    .argument('[provider]')
    .description("configure git to use vault for the provider's git hosts (all providers' without one)")
    .option('--remove', 'remove the entries that run this vault, and nothing else')
    .addHelpText(
      'after',
      `
Adds credential.https://<host>.helper to the global git config for each git host (and the
http:// one for loopback hosts). Other helpers are kept; running it again changes nothing.

Examples:
  vault setup-git github
  vault setup-git
  git config --global --get-regexp '^credential\\.'     # what it configured`,
    )
    .action(act(ctx, async () => (await import('../runs/setup-git.js')).setupGitRun));
}
