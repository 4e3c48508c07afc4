import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';

export function dockerCredentialCommand(ctx: Context) {
  return new Command('docker-credential')
    .argument('<operation>')
    .description('docker credential helper (get, store, erase, list); see `vault setup-docker`')
    .addHelpText(
      'after',
      `
docker, skopeo and podman run it as docker-credential-vault, with the registry on stdin. Registries
are mapped to providers by their registry_hosts.

Examples:
  echo gcr.io | vault docker-credential get
  vault docker-credential list`,
    )
    .action(
      act(
        ctx,
        async () => (await import('../docker-helper.js')).answerDocker,
        (operation: string) => ({ operation }),
      ),
    );
}
