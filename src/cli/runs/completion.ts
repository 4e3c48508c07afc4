import type { Command } from 'commander';
import { complete, completionScript, formatCompletion, type Shell } from '../completion.js';
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

/** `vault completion <shell>`: prints the script that the shell loads once. */
export async function completionRun(ctx: Context, opts: CompletionOptions): Promise<Outcome> {
  ctx.io.stdout.write(completionScript(opts.shell));
}

export async function completeRun(ctx: Context, opts: CompleteOptions): Promise<Outcome> {
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
