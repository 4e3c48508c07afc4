import { freshUntil, type AccessRecord } from '../core/token-set.js';
import type { Deps } from '../infra/io.js';
import { createTokenFile } from '../infra/token-file.js';

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
export async function keepTokenFile(deps: Deps, obtain: Obtain, first: AccessRecord, minValid: number, variable: string): Promise<Sidecar> {
  const file = createTokenFile(deps.env);
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
        deps.debug(`exec: token file rewritten`);
      }
      held = next;
      plan(freshUntil(next, minValid) - deps.clock.now());
    } catch (error) {
      if (stopped) return;
      deps.io.stderr.write(`warning: cannot refresh the token in $${variable}: ${(error as Error).message}; retrying in ${RETRY_DELAY / 1000} s\n`);
      plan(RETRY_DELAY);
    }
  };

  file.write(first.access_token);
  plan(freshUntil(first, minValid) - deps.clock.now());
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
