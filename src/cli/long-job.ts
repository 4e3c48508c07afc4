import type { Provider } from '../core/config/providers.js';
import { freshUntil } from '../core/token-set.js';
import type { AccessRecord } from '../core/credentials.js';
import { metadataEndpoint, type Obtain } from '../core/usecases/metadata-endpoint.js';
import { startMetadataServer } from '../infra/metadata-server.js';
import { createTokenFile } from '../infra/token-file.js';
import type { Context } from './context.js';

/** Something `vault exec` runs beside the command for its whole life: what it adds to the command's environment, and how to end it. */
export interface Sidecar {
  env: Record<string, string>;
  /** Variables removed from the command's environment (they would shadow this route). */
  unset: string[];
  /** Ends it, after any refresh in flight has stored its result. */
  stop(): Promise<void>;
}

export type { Obtain };

// setTimeout takes at most 2^31-1 ms; a later refresh is simply re-planned when that fires.
const MAX_DELAY = 2 ** 31 - 1;
const RETRY_DELAY = 10_000;

/**
 * Keeps a 0600 file holding a valid token for as long as the command runs: rewritten atomically
 * when the token it holds gets within `minValid` of its expiry (the margin rule of `vault token`),
 * removed with its private directory afterwards. A failed refresh is reported on stderr and
 * retried; the file keeps the old token meanwhile, which is still valid until its expiry.
 */
export async function keepTokenFile(
  ctx: Context,
  obtain: Obtain,
  first: AccessRecord,
  minValid: number,
  variable: string,
): Promise<Sidecar> {
  const file = createTokenFile(ctx.env);
  // A crash (an uncaught error) still removes the token; a signal ends vault only after the child, through stop().
  const removeOnExit = () => file.remove();
  process.once('exit', removeOnExit);
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  let held = first;

  const plan = (delay: number) => {
    timer = setTimeout(() => void (inFlight = renew()), Math.min(Math.max(delay, 1000), MAX_DELAY));
    timer.unref();
  };
  const renew = async () => {
    try {
      const next = await obtain();
      if (stopped) return;
      if (next.access_token !== held.access_token) {
        file.write(next.access_token);
        ctx.debug(`exec: token file rewritten`);
      }
      held = next;
      plan(freshUntil(next, minValid) - ctx.clock.now());
    } catch (error) {
      if (stopped) return;
      ctx.io.stderr.write(
        `warning: cannot refresh the token in $${variable}: ${(error as Error).message}; retrying in ${RETRY_DELAY / 1000} s\n`,
      );
      plan(RETRY_DELAY);
    }
  };

  file.write(first.access_token);
  plan(freshUntil(first, minValid) - ctx.clock.now());
  return {
    env: { [variable]: file.path },
    unset: [],
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      file.remove();
      process.off('exit', removeOnExit);
    },
  };
}

/** What Google's libraries (GCE_METADATA_HOST, GCE_METADATA_IP) and gcloud (GCE_METADATA_ROOT) read to find a metadata server. */
export function metadataEnv(host: string): Record<string, string> {
  return { GCE_METADATA_HOST: host, GCE_METADATA_IP: host, GCE_METADATA_ROOT: host };
}

/** The token source an endpoint serves, around this context's store (see metadataEndpoint). */
function endpointSource(ctx: Context, provider: Provider, account: string, obtain: Obtain) {
  const warn = (message: string) => ctx.io.stderr.write(`warning: ${message}\n`);
  const deps = {
    store: ctx.store(),
    env: ctx.env,
    clock: ctx.clock,
    warn,
    provider: (name: string) => ctx.provider(name),
  };
  return metadataEndpoint(deps, provider, account, obtain);
}

/** A GCE metadata endpoint for the login (provider, account): the tokens are vault's, through `obtain`. */
export async function startGceEndpoint(
  ctx: Context,
  provider: Provider,
  account: string,
  obtain: Obtain,
  port?: number,
): Promise<Sidecar & { host: string }> {
  const source = endpointSource(ctx, provider, account, obtain);
  const server = await startMetadataServer(source, port, ctx.debug, () => ctx.clock.now());
  ctx.debug(`gce: metadata endpoint on ${server.host}`);
  return {
    host: server.host,
    env: metadataEnv(server.host),
    // Google's libraries prefer a credentials file to the metadata server.
    unset: ['GOOGLE_APPLICATION_CREDENTIALS'],
    stop: () => server.close(),
  };
}

/**
 * What Azure's SDKs would try before IDENTITY_ENDPOINT, or take it for another protocol:
 * EnvironmentCredential's and WorkloadIdentityCredential's settings come first in
 * DefaultAzureCredential, IDENTITY_SERVER_THUMBPRINT turns it into Service Fabric's protocol,
 * IMDS_ENDPOINT into Azure Arc's, MSI_ENDPOINT/MSI_SECRET into App Service's older one.
 */
const AZURE_SHADOWS = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'AZURE_FEDERATED_TOKEN_FILE',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
];

/** An App Service managed-identity endpoint for the login (provider, account), behind a per-run secret. */
export async function startAzureEndpoint(
  ctx: Context,
  provider: Provider,
  account: string,
  obtain: Obtain,
  port?: number,
): Promise<Sidecar & { host: string }> {
  const { startAzureServer } = await import('../infra/azure-server.js');
  const source = endpointSource(ctx, provider, account, obtain);
  const server = await startAzureServer(source, port, ctx.debug);
  ctx.debug(`azure: managed-identity endpoint on ${server.host}`);
  return {
    host: server.host,
    env: { IDENTITY_ENDPOINT: server.endpoint, IDENTITY_HEADER: server.secret },
    unset: AZURE_SHADOWS,
    stop: () => server.close(),
  };
}
