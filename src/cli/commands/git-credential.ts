import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';

export function gitCredentialCommand(ctx: Context) {
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
    .action(
      act(
        ctx,
        async () => (await import('../git-helper.js')).answerGit,
        (operation: string) => ({ operation }),
      ),
    );
}
