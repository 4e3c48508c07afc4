import { Command, Option } from 'commander';
import { ENV_FORMATS } from '../../core/protocols/env-format.js';
import { act, type Run } from '../act.js';
import type { Context } from '../context.js';
import { accountOption, minValidOption, nameOption } from '../options.js';
import type { EnvOptions } from '../runs/env.js';

/** `run` stands in for the command's run function in flag-parsing tests. */
export function envCommand(ctx: Context, run?: Run<EnvOptions>) {
  return new Command('env')
    .argument('[provider]')
    .description("print environment assignments for the provider's token")
    .addOption(accountOption())
    .addOption(nameOption())
    .addOption(minValidOption(60))
    .addOption(new Option('--format <format>', 'output format').choices(ENV_FORMATS).default('sh'))
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
