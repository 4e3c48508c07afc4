import { Argument, Command } from 'commander';
import type { Shell } from '../completion.js';
import type { Context, Outcome } from '../context.js';

export interface CompletionOptions {
  shell: Shell;
}

export interface CompleteOptions {
  /** The words typed so far. */
  words: string[];
  /** The program whose command tree answers. */
  program: Command;
}

export function completionCommand(
  ctx: Context,
  runF: (opts: CompletionOptions) => Promise<Outcome> = (o) => completionRun(ctx, o),
) {
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
    .action(async (shell: Shell) => {
      await ctx.ready();
      ctx.outcome = await runF({ shell });
    });
}

/** `vault __complete -- <words...>`: what the completion scripts ask on every Tab (hidden). */
export function completeCommand(
  ctx: Context,
  runF: (opts: CompleteOptions) => Promise<Outcome> = (o) => completeRun(ctx, o),
) {
  return new Command('__complete')
    .description('answers the completion scripts: the words typed so far, after --')
    .argument('[words...]')
    .helpOption(false)
    .action(async (words: string[], _flags: object, cmd: Command) => {
      let program = cmd;
      while (program.parent) program = program.parent;
      await ctx.ready();
      ctx.outcome = await runF({ words, program });
    });
}

/** `vault completion <shell>`: prints the script that the shell loads once. */
export async function completionRun(ctx: Context, opts: CompletionOptions): Promise<Outcome> {
  const { completionScript } = await import('../completion.js');
  ctx.io.stdout.write(completionScript(opts.shell));
}

export async function completeRun(ctx: Context, opts: CompleteOptions): Promise<Outcome> {
  const { complete, formatCompletion } = await import('../completion.js');
  const completion = complete(opts.program, opts.words.length ? opts.words : [''], {
    providers: () => {
      try {
        return Object.keys(ctx.config().providers).sort();
      } catch {
        // A malformed config file is reported by the commands that use it, not in the middle of a Tab.
        return [];
      }
    },
  });
  ctx.io.stdout.write(formatCompletion(completion));
}
