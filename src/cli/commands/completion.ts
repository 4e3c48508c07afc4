import { Argument, Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';

export function completionCommand(ctx: Context) {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(vault completion bash)                          # in ~/.bashrc
  source <(vault completion zsh)                           # in ~/.zshrc, after compinit
  vault completion fish > ~/.config/fish/completions/vault.fish`,
    )
    .action(
      act(
        ctx,
        async () => (await import('../runs/completion.js')).completionRun,
        (shell: string) => ({ shell }),
      ),
    );
}

/** `vault __complete -- <words...>`: what the completion scripts ask on every Tab (hidden). */
export function completeCommand(ctx: Context) {
  return new Command('__complete')
    .description('answers the completion scripts: the words typed so far, after --')
    .argument('[words...]')
    .helpOption(false)
    .action(
      act(
        ctx,
        async () => (await import('../runs/completion.js')).completeRun,
        (words: string[], _flags: object, cmd: Command) => {
          let program = cmd;
          while (program.parent) program = program.parent;
          return { words, program };
        },
      ),
    );
}
