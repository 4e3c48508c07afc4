import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';

export function setupDockerCommand(ctx: Context) {
  return new Command('setup-docker')
    .argument('[provider]')
    .description("make docker ask vault for the provider's registry hosts (credHelpers in $DOCKER_CONFIG/config.json)")
    .option('--remove', "remove the entries naming vault (for the provider's hosts, or all of them)")
    .addHelpText(
      'after',
      `
Every other key of the docker config, and other helpers' entries, are kept.

Examples:
  vault setup-docker google
  vault setup-docker --remove`,
    )
    .action(act(ctx, async () => (await import('../runs/setup-docker.js')).setupDockerRun));
}
