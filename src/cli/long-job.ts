import { serviceAccountName, type MetadataIdentity } from '../core/protocols/gce-metadata.js';
import type { Provider } from '../core/config/providers.js';
import { expiresIn, freshUntil } from '../core/token-set.js';
import { ciLogin, readLogin, type AccessRecord } from '../core/credentials.js';
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

/** Obtains a token valid for the job's margin (through the one single-flight refresh path); `scopes` narrows it. */
export type Obtain = (scopes?: string[]) => Promise<AccessRecord>;

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

// A token that does not expire (a CI pass-through, a GitHub OAuth app's) is announced as living
// five minutes: clients then ask again now and then, which costs a local round trip.
const UNKNOWN_LIFETIME = 300;

/**
 * A GCE metadata endpoint for the login (provider, account): the tokens are vault's, through
 * `obtain` (the single-flight refresh path), and requests for the same scopes that arrive while
 * one is being obtained wait for it rather than start another.
 */
export async function startGceEndpoint(
  ctx: Context,
  provider: Provider,
  account: string,
  obtain: Obtain,
  port?: number,
): Promise<Sidecar & { host: string }> {
  const store = ctx.store();
  const inFlight = new Map<string, Promise<AccessRecord>>();
  const identity = async (): Promise<MetadataIdentity> => {
    const login = (await readLogin(store, provider.name, account)) ?? ciLogin(ctx.env, provider.name);
    return {
      name: serviceAccountName(login?.identity, account),
      scopes: (login?.scope ?? '').split(' ').filter(Boolean),
      projectId: provider.params?.project_id ?? (ctx.env.GOOGLE_CLOUD_PROJECT || undefined),
      projectNumber: provider.params?.project_number,
    };
  };
  const server = await startMetadataServer(
    {
      identity,
      async token(scopes) {
        const key = scopes?.join(' ') ?? '';
        let pending = inFlight.get(key);
        if (!pending) {
          pending = obtain(scopes).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        const record = await pending;
        return { accessToken: record.access_token, expiresIn: expiresIn(record, ctx.clock.now()) ?? UNKNOWN_LIFETIME };
      },
      report: (message) => ctx.io.stderr.write(`warning: ${message}\n`),
    },
    port,
    ctx.debug,
  );
  ctx.debug(`gce: metadata endpoint on ${server.host}`);
  return {
    host: server.host,
    env: metadataEnv(server.host),
    // Google's libraries prefer a credentials file to the metadata server.
    unset: ['GOOGLE_APPLICATION_CREDENTIALS'],
    stop: () => server.close(),
  };
}
