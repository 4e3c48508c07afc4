import { shQuote } from '../../core/protocols/shell.js';
import type { ErrorKind } from '../../core/errors.js';
import { accessTokenFor } from '../access-token.js';
import { accountOf, loadProvider, parsePort, parseSeconds } from '../context.js';
import { startGceEndpoint, type Obtain } from '../long-job.js';
import type { Deps } from '../../ports.js';

export interface ServeOptions {
  account?: string;
  gce: boolean;
  port?: string;
  minValid: string;
}

/** `vault serve <provider> --gce`: the metadata endpoint of `exec --gce`, in the foreground, until SIGINT or SIGTERM. */
export async function run(deps: Deps, providerName: string | undefined, opts: ServeOptions): Promise<ErrorKind> {
  const minValid = parseSeconds(opts.minValid, '--min-valid');
  const port = parsePort(opts.port);
  const provider = loadProvider(deps, providerName);
  const account = accountOf(deps, opts.account);
  const obtain: Obtain = (scopes) => accessTokenFor(deps, provider, account, minValid, scopes);
  // Not logged in is said now (exit 3), not by every client request later.
  await obtain();
  const endpoint = await startGceEndpoint(deps, provider, account, obtain, port);
  // The handlers stay until the endpoint has closed: proper-lockfile's signal-exit re-raises a
  // signal it finds no other listener for, which would end vault in the middle of a refresh.
  let stop: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let signal: NodeJS.Signals;
  try {
    for (const [name, value] of Object.entries(endpoint.env))
      deps.io.stdout.write(`export ${name}=${shQuote(value)}\n`);
    deps.io.stderr.write(
      `Serving GCE metadata for ${provider.name} on ${endpoint.host} (unset GOOGLE_APPLICATION_CREDENTIALS where you use it); Ctrl-C stops it\n`,
    );
    signal = await stopped;
    await endpoint.stop();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return signal === 'SIGINT' ? 'interrupted' : 'terminated';
}
