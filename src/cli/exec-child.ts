import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { UsageError } from '../core/errors.js';
import { childEnv, execProviders, exitCodeOf, EXEC_PROVIDERS_VAR } from '../core/protocols/exec-env.js';
import { checkEnvName } from '../core/config/names.js';
import { envNames } from '../core/config/providers.js';
import { accessTokenFor, targetNames } from './access-token.js';
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

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Whether we are in the foreground process group of our controlling terminal (proc(5): fields
 * pgrp and tpgid of /proc/self/stat). The child shares our group, so a Ctrl-C typed there has
 * reached it already; forwarding it too would deliver a second SIGINT, which tools like terraform
 * take as "exit now, skip the graceful shutdown". Without /proc, a terminal on stdin stands in.
 */
function terminalSignalsReachChild(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // The command name in parentheses may contain spaces; the fields after it are fixed.
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(tpgid) > 0 && tpgid === pgrp;
  } catch {
    return Boolean(process.stdin.isTTY);
  }
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
  // The handlers go in before the child starts, or a signal arriving as it starts would kill vault
  // (node's default), orphan the child and leave a token file behind. Node dispatches signals from
  // the event loop, so by the time a handler runs, `child` is set, or the start is called off.
  let child: ChildProcess | undefined;
  let early: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && terminalSignalsReachChild()) return;
    ctx.debug(`exec: forwarding ${signal}`);
    if (child) child.kill(signal);
    else early ??= signal;
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  const sidecars: Sidecar[] = [];
  try {
    if (tokenFileVar) sidecars.push(await keepTokenFile(ctx, obtain, first, minValid, tokenFileVar));
    if (opts.gce) sidecars.push(await startGceEndpoint(ctx, provider, account, obtain));
    if (opts.azure) sidecars.push(await startAzureEndpoint(ctx, provider, account, obtain));
    if (early) return exitCodeOf(null, early, constants.signals);
    const unset = [
      ...(refreshing && !opts.name?.length ? envNames(provider) : []),
      ...sidecars.flatMap((s) => s.unset),
    ];
    const set = Object.assign({}, ...sidecars.map((s) => s.env)) as Record<string, string>;
    const started = (child = spawn(file, args, {
      stdio: 'inherit',
      env: childEnv(ctx.env, { provider: provider.name, names, token: first.access_token, set, unset }),
    }));
    return await new Promise<number>((resolve) => {
      started.once('error', (error: NodeJS.ErrnoException) => {
        // Shell convention: 127 for a command that is not there, 126 for one that cannot run.
        const notFound = error.code === 'ENOENT';
        ctx.io.stderr.write(
          `error: cannot run ${JSON.stringify(file)}: ${notFound ? 'command not found' : error.message}\n`,
        );
        resolve(notFound ? 127 : 126);
      });
      started.once('exit', (code, signal) => resolve(exitCodeOf(code, signal, constants.signals)));
    });
  } finally {
    for (const sidecar of sidecars) await sidecar.stop();
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}
