import { Command } from 'commander';
import { shQuote } from '../../core/protocols/shell.js';
import { UsageError } from '../../core/errors.js';
import type { Context, Outcome } from '../context.js';
import { accountOption, minValidOption, portOption } from '../options.js';

export interface ServeOptions {
  provider?: string;
  account?: string;
  gce?: boolean;
  azure?: boolean;
  port?: number;
  minValid: number;
}

export function serveCommand(ctx: Context, runF: (opts: ServeOptions) => Promise<Outcome> = (o) => serveRun(ctx, o)) {
  return new Command('serve')
    .argument('[provider]')
    .description('serve a local GCE metadata or Azure managed-identity endpoint for the login until interrupted')
    .addOption(accountOption())
    .option('--gce', 'speak the GCE metadata protocol (Google client libraries, gcloud)')
    .option('--azure', 'speak the App Service managed-identity protocol (Azure SDKs)')
    .addOption(portOption('port on 127.0.0.1 (default: any free port)'))
    .addOption(minValidOption(300, 'seconds each token handed out stays valid'))
    .addHelpText(
      'after',
      `
Prints the variables that point the clients at it (sh), then serves until SIGINT or SIGTERM.
--gce answers only requests with Metadata-Flavor: Google and Host 127.0.0.1:PORT; --azure only
requests carrying the secret it exports as IDENTITY_HEADER.

Examples:
  vault serve google --gce --port 8173 &   # then export GCE_METADATA_HOST=127.0.0.1:8173 (and _IP, _ROOT)
  eval "$(vault serve azure --azure &)"    # IDENTITY_ENDPOINT and IDENTITY_HEADER for Azure SDKs
  vault exec google --gce -- ./job.sh      # the same, for one command's lifetime`,
    )
    .action(async (provider: string | undefined, flags: Omit<ServeOptions, 'provider'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider });
    });
}

/** `vault serve <provider> --gce|--azure`: the endpoint of `exec --gce|--azure`, in the foreground, until SIGINT or SIGTERM. */
export async function serveRun(ctx: Context, opts: ServeOptions): Promise<Outcome> {
  if (Boolean(opts.gce) === Boolean(opts.azure)) throw new UsageError('serve needs one of --gce or --azure');
  const { accessTokenFor } = await import('../access-token.js');
  const { startAzureEndpoint, startGceEndpoint } = await import('../long-job.js');
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
