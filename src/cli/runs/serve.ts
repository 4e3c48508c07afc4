import { shQuote } from '../../core/protocols/shell.js';
import { UsageError } from '../../core/errors.js';
import { accessTokenFor } from '../access-token.js';
import type { Context, Outcome } from '../context.js';
import { startAzureEndpoint, startGceEndpoint } from '../long-job.js';

export interface ServeOptions {
  provider?: string;
  account?: string;
  gce?: boolean;
  azure?: boolean;
  port?: number;
  minValid: number;
}

/** `vault serve <provider> --gce|--azure`: the endpoint of `exec --gce|--azure`, in the foreground, until SIGINT or SIGTERM. */
export async function serveRun(ctx: Context, opts: ServeOptions): Promise<Outcome> {
  if (Boolean(opts.gce) === Boolean(opts.azure)) throw new UsageError('serve needs one of --gce or --azure');
  const provider = ctx.provider(opts.provider);
  const account = ctx.account(opts.account);
  const obtain = (scopes?: string[]) => accessTokenFor(ctx, provider, account, opts.minValid, scopes);
  // Not logged in is said now (exit 3), not by every client request later.
  await obtain();
  const start = opts.azure ? startAzureEndpoint : startGceEndpoint;
  const endpoint = await start(ctx, provider, account, obtain, opts.port ?? 0);
  // The handlers stay until the endpoint has closed: proper-lockfile's signal-exit re-raises a
  // signal it finds no other listener for, which would end vault in the middle of a refresh.
  let stop: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let signal: NodeJS.Signals;
  try {
    for (const [name, value] of Object.entries(endpoint.env)) ctx.io.stdout.write(`export ${name}=${shQuote(value)}\n`);
    ctx.io.stderr.write(
      opts.azure
        ? `Serving an Azure managed-identity endpoint for ${provider.name} on ${endpoint.host} (unset ${endpoint.unset.join(' ')} where you use it); Ctrl-C stops it\n`
        : `Serving GCE metadata for ${provider.name} on ${endpoint.host} (unset GOOGLE_APPLICATION_CREDENTIALS where you use it); Ctrl-C stops it\n`,
    );
    signal = await stopped;
    await endpoint.stop();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return signal === 'SIGINT' ? 'interrupted' : 'terminated';
}
