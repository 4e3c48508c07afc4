import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';

export interface DockerCredentialOptions {
  operation: string;
}

export function dockerCredentialCommand(
  ctx: Context,
  runF: (opts: DockerCredentialOptions) => Promise<Outcome> = (o) => dockerCredentialRun(ctx, o),
) {
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
    .action(async (operation: string) => {
      await ctx.ready();
      ctx.outcome = await runF({ operation });
    });
}

export async function dockerCredentialRun(ctx: Context, opts: DockerCredentialOptions): Promise<Outcome> {
  return (await import('../docker-helper.js')).answerDocker(ctx, opts);
}
