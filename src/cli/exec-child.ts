import { UsageError } from '../core/errors.js';
import { childEnv, execProviders, EXEC_PROVIDERS_VAR } from '../core/protocols/exec-env.js';
import { checkEnvName } from '../core/config/names.js';
import { envNames } from '../core/config/providers.js';
import { accessTokenFor, targetNames } from './access-token.js';
import { superviseChild } from './child.js';
import type { Context } from './context.js';
import { keepTokenFile, startAzureEndpoint, startGceEndpoint, type Obtain, type Sidecar } from './long-job.js';

export interface ExecOptions {
  provider?: string;
  /** The command and its arguments. */
  command: string[];
  account?: string;
  name?: string[];
  minValid: number;
  allowNested?: boolean;
  tokenFile?: string;
  gce?: boolean;
  azure?: boolean;
}

/**
 * `vault exec`: starts the command with the token in its environment (and the sidecars that keep
 * it fresh), forwards signals to it, and resolves its exit status.
 */
export async function runWithToken(ctx: Context, opts: ExecOptions): Promise<number> {
  const { minValid, command } = opts;
  const provider = ctx.provider(opts.provider);
  const account = ctx.account(opts.account);
  const tokenFileVar = opts.tokenFile === undefined ? undefined : checkEnvName(opts.tokenFile);
  const refreshing = tokenFileVar !== undefined || Boolean(opts.gce) || Boolean(opts.azure);
  // With a route that refreshes, a snapshot of the token under the provider's env names would
  // shadow it (gcloud prefers CLOUDSDK_AUTH_ACCESS_TOKEN to its token file, Terraform
  // GOOGLE_OAUTH_ACCESS_TOKEN to the metadata server) and expire mid-job: set only the names asked for.
  const names = refreshing && !opts.name?.length ? [] : targetNames(provider, opts.name);
  if (!opts.allowNested && execProviders(ctx.env).includes(provider.name)) {
    throw new UsageError(
      `already inside \`vault exec ${provider.name}\` (${EXEC_PROVIDERS_VAR}=${ctx.env[EXEC_PROVIDERS_VAR]}); its token is in the environment. Pass --allow-nested to replace it anyway`,
    );
  }
  const obtain: Obtain = (scopes) => accessTokenFor(ctx, provider, account, minValid, scopes);
  const first = await obtain();
  const [file, ...args] = command as [string, ...string[]];
  ctx.debug(`exec: ${file} with ${names.join(', ') || 'no token variable'} set`);
  const supervisor = superviseChild(ctx.debug);
  const sidecars: Sidecar[] = [];
  try {
    if (tokenFileVar) sidecars.push(await keepTokenFile(ctx, obtain, first, minValid, tokenFileVar));
    if (opts.gce) sidecars.push(await startGceEndpoint(ctx, provider, account, obtain));
    if (opts.azure) sidecars.push(await startAzureEndpoint(ctx, provider, account, obtain));
    const unset = [
      ...(refreshing && !opts.name?.length ? envNames(provider) : []),
      ...sidecars.flatMap((s) => s.unset),
    ];
    const set = Object.assign({}, ...sidecars.map((s) => s.env)) as Record<string, string>;
    const env = childEnv(ctx.env, { provider: provider.name, names, token: first.access_token, set, unset });
    return await supervisor.run(file, args, env, (text) => ctx.io.stderr.write(text));
  } finally {
    for (const sidecar of sidecars) await sidecar.stop();
    supervisor.stop();
  }
}
