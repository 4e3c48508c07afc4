import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';

export interface GitCredentialOptions {
  operation: string;
}

export function gitCredentialCommand(
  ctx: Context,
  runF: (opts: GitCredentialOptions) => Promise<Outcome> = (o) => gitCredentialRun(ctx, o),
) {
  return new Command('git-credential')
    .argument('<operation>')
    .description('git credential helper (get, store, erase); see `vault setup-git`')
    .addHelpText(
      'after',
      `
git runs it with the request on stdin; you rarely do. Hosts are mapped to providers by their git_hosts.

Examples:
  git config --global credential.https://github.com.helper '!vault git-credential'
  printf 'protocol=https\\nhost=github.com\\n\\n' | vault git-credential get
  GIT_TRACE=1 git fetch     # shows git calling the helper`,
    )
    .action(async (operation: string) => {
      await ctx.ready();
      ctx.outcome = await runF({ operation });
    });
}

export async function gitCredentialRun(ctx: Context, opts: GitCredentialOptions): Promise<Outcome> {
  return (await import('../git-helper.js')).answerGit(ctx, opts);
}
