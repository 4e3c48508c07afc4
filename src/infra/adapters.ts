import { acquireLock } from './lock.js';
import { holdSignals } from './signals.js';
import type { Clock, Locks, OAuth, Signals } from '../ports.js';

/** Lock files in `dir` (see acquireLock). */
export function fileLocks(dir: string, debug: (message: string) => void): Locks {
  return { acquire: (name) => acquireLock(dir, name, { debug }) };
}

/** This process's SIGINT, SIGTERM and SIGHUP (see holdSignals). */
export function processSignals(debug: (message: string) => void): Signals {
  return { hold: (done, fn) => holdSignals(done, fn, debug) };
}

/** OAuth through infra/oauth, loaded on the first use: the cached-token path never loads it. */
export function lazyOAuth(deps: { env: NodeJS.ProcessEnv; clock: Clock; debug: (message: string) => void }): OAuth {
  return {
    async client(provider, clientSecret) {
      const oauth = await import('./oauth/index.js');
      const config = await oauth.configure(provider, clientSecret, deps);
      return {
        revocationEndpoint: config.serverMetadata().revocation_endpoint,
        refresh: (account, refreshToken, scopes) =>
          oauth.refreshGrant(config, provider, account, refreshToken, scopes, () => deps.clock.now()),
        revoke: (token, hint) => oauth.revoke(config, provider, token, hint),
      };
    },
  };
}
