import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Provider } from '../../core/config/providers.js';
import { UsageError } from '../../core/errors.js';
import { editCredHelpers } from '../../core/protocols/docker-credential.js';
import type { Context, Outcome } from '../context.js';

export interface SetupDockerOptions {
  provider?: string;
  remove?: boolean;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: where docker, skopeo and podman look. */
function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || '', '.docker'), 'config.json');
}

function readDockerConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    // Reported below, with the file named; it is left as it is.
  }
  throw new UsageError(`${file} is not a JSON object: fix or move it, then run setup-docker again`);
}

/** `vault setup-docker [provider] [--remove]`: docker's `credHelpers` entries for the providers' registry hosts. */
export async function setupDockerRun(ctx: Context, opts: SetupDockerOptions): Promise<Outcome> {
  const providerName = opts.provider;
  const providers: Provider[] = providerName
    ? [ctx.provider(providerName)]
    : Object.entries(ctx.config().providers).map(([name, cfg]) => ({ name, ...cfg }));
  const patterns = [...new Set(providers.flatMap((p) => p.registry_hosts ?? []))];
  // credHelpers names each registry: a pattern cannot go there.
  const hosts = patterns.filter((h) => !h.startsWith('*'));
  const file = dockerConfigFile(ctx.env);
  if (!opts.remove && !hosts.length && !patterns.length) {
    const which = providerName ? `provider ${providerName} has no` : 'no provider has';
    throw new UsageError(
      `${which} registry hosts: add one with \`vault provider set ${providerName ?? 'NAME'} --registry-host registry.example.com\``,
    );
  }
  const { doc, changed } = editCredHelpers(
    readDockerConfig(file),
    opts.remove && !providerName ? undefined : hosts,
    Boolean(opts.remove),
  );
  if (changed.length) ctx.ports().writeFile(file, `${JSON.stringify(doc, null, '\t')}\n`);
  for (const host of changed)
    ctx.io.stderr.write(`${opts.remove ? 'Removed' : 'Configured'}: ${host} in credHelpers of ${file}\n`);
  if (!changed.length) ctx.io.stderr.write(`Nothing to change in ${file}\n`);
  if (opts.remove) return;
  for (const pattern of patterns.filter((h) => h.startsWith('*'))) {
    ctx.io.stderr.write(
      `note: ${pattern} is a pattern, and docker's credHelpers names each registry: add the ones you use to the provider's registry hosts (\`vault provider set … --registry-host\`, the whole list) and run setup-docker again\n`,
    );
  }
  const onPath = (ctx.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir && existsSync(join(dir, 'docker-credential-vault')));
  if (!onPath)
    ctx.io.stderr.write(
      'warning: docker-credential-vault is not on PATH, where docker looks for it: install vault with npm, or link bin/docker-credential-vault.js there\n',
    );
}
