import { acquireLock } from './lock.js';
import { holdSignals, watchSignals } from './signals.js';
import type { OAuthService } from '../core/bundle.js';
import type { Clock, Interrupts, Locks, Loopback, Signals } from '../core/ports.js';

/** Lock files in `dir` (see acquireLock). */
export function fileLocks(dir: string, debug: (message: string) => void): Locks {
  return { acquire: (name) => acquireLock(dir, name, { debug }) };
}

/** This process's SIGINT, SIGTERM and SIGHUP (see holdSignals). */
export function processSignals(debug: (message: string) => void): Signals {
  return { hold: (done, fn) => holdSignals(done, fn, debug) };
}

/** OAuth through infra/oauth, loaded on the first use: the cached-token path never loads it. */
export function lazyOAuth(deps: {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
}): OAuthService {
  return {
    async client(provider, clientSecret) {
      const oauth = await import('./oauth/index.js');
      const config = await oauth.configure(provider, clientSecret, deps);
      return {
        revocationEndpoint: config.serverMetadata().revocation_endpoint,
        refresh: (account, refreshToken, scopes) =>
          oauth.refreshGrant(config, provider, account, refreshToken, scopes, () => deps.clock.now()),
        revoke: (token, hint) => oauth.revoke(config, provider, token, hint),
        exchange: (grantType, params, subjectOf) =>
          oauth.exchangeGrant(config, provider, grantType, params, subjectOf, () => deps.clock.now()),
        ...oauth.loginGrants(config, provider, () => deps.clock.now()),
      };
    },
    async discover(issuer) {
      const metadata = await (await import('./oauth/index.js')).discoverMetadata(issuer, deps);
      deps.debug(`discovery: ${metadata.issuer} token endpoint ${metadata.token_endpoint}`);
    },
    discoverMcp: async (url) => (await import('./oauth/index.js')).discoverMcpServer(url, deps),
    registerClient: async (found) => (await import('./oauth/index.js')).registerNativeClient(found, deps),
    describe: async (failure) => (await import('./oauth/index.js')).describe(failure),
  };
}

/** This process's termination signals, as the end of a wait (see watchSignals). */
export const processInterrupts: Interrupts = { watch: watchSignals };

/** The loopback redirect listener on 127.0.0.1 (see listenForCallback). */
export function loopbackListener(debug: (message: string) => void): Loopback {
  return {
    listen: async (port, expectedState) =>
      (await import('./loopback.js')).listenForCallback({ port, expectedState, debug }),
  };
}
