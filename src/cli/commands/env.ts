import { Command } from 'commander';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';
import type { EnvOptions } from '../runs/env.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function envCommand(ctx: Context, run?: Run<EnvOptions>) {
  return withOptions(
    new Command('env').argument('[provider]').description("print environment assignments for the provider's token"),
    GRAMMAR.env,
  )
    .addHelpText(
      'after',
      `
Examples:
  eval "$(vault env google)"
  vault env google --format fish | source
  vault env acme --format github-actions`,
    )
    .action(act(ctx, async () => run ?? (await import('../runs/env.js')).envRun));
}
