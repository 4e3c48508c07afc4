import { serverText } from '../server-text.js';
import { UsageError, VaultError, loginCommand, type ErrorKind } from '../errors.js';
import { METADATA_PARAMS } from '../protocols/gce-metadata.js';
import { refreshTokenHints } from '../config/presets.js';
import type { Provider } from '../config/providers.js';
import { loginResource } from '../config/mcp.js';
import type { TokenResult } from '../token-set.js';
import { readClientSecret } from './client-secret.js';
import { saveLogin, type SaveLoginDeps } from './save-login.js';
import type {
  Browser,
  DeviceAuthorization,
  Interrupts,
  LoginClient,
  Loopback,
  OAuthLogin,
  Signals,
  TerminationSignal,
} from '../ports.js';

/** A status line while the login waits; `note` prints a message above it. */
export interface StatusLine {
  note(message: string): void;
  clear(): void;
}

/** What the user is shown while a login waits for them (cli/login-session.ts on a terminal). */
export interface LoginView {
  /** The URL to open: shown before any browser is launched, so a failed launch still leaves it. */
  authorizationUrl(provider: Provider, url: string): void;
  /** Where to enter the user code, and the code (RFC 8628 §3.3). */
  deviceCode(provider: Provider, device: DeviceAuthorization): Promise<void>;
  waiting(text: string): StatusLine;
}

export interface LoginDeps extends Omit<SaveLoginDeps, 'revoke'> {
  oauth: OAuthLogin;
  signals: Signals;
  interrupts: Interrupts;
  browser: Browser;
  loopback: Loopback;
  /** Where VAULT_CLIENT_SECRET is read from (see readClientSecret). */
  env: NodeJS.ProcessEnv;
  view: LoginView;
}

export interface LoginRequest {
  provider: Provider;
  account: string;
  /** --scope; absent or empty: see loginScopes. */
  scopes?: readonly string[];
  /** The device authorization grant (RFC 8628) instead of the browser. */
  device?: boolean;
  /** false: only print the authorization URL (--no-browser). */
  browser: boolean;
  /** The loopback redirect port; 0: any free port. */
  port: number;
  timeoutSec: number;
}

/**
 * Scopes to request: --scope, else the provider's, else for an issuer `openid` plus
 * `offline_access` when the server lists it (OIDC Core §11: that is how a refresh token is asked for).
 */
export function loginScopes(
  provider: Provider,
  flags: readonly string[] | undefined,
  supported: readonly string[],
): string[] {
  if (flags?.length) return [...flags];
  if (provider.scopes?.length) return provider.scopes;
  return supported.includes('offline_access') ? ['openid', 'offline_access'] : ['openid'];
}

/**
 * Authorization request parameters besides PKCE, state and nonce: the provider's, plus
 * `prompt=consent` with `offline_access` (OIDC Core §11: servers may otherwise drop the scope and
 * issue no refresh token; oidc-provider does). Presets carry their providers' own rules instead.
 */
export function authorizationParams(provider: Provider, scopes: readonly string[]): Record<string, string> {
  const params = { ...(provider.params ?? {}) };
  for (const key of METADATA_PARAMS) delete params[key];
  if (!provider.preset && scopes.includes('offline_access') && params.prompt === undefined) params.prompt = 'consent';
  const resource = loginResource(provider);
  if (resource) params.resource = resource;
  return params;
}

// Each ends the login with its exit code (shell convention: 128 + the signal's number).
const CANCELLED: Record<TerminationSignal, [ErrorKind, string]> = {
  SIGINT: ['interrupted', 'login cancelled'],
  SIGTERM: ['terminated', 'login terminated'],
  SIGHUP: ['hangup', 'login cancelled: the terminal hung up'],
};

/**
 * Ends the wait on Ctrl-C, SIGTERM, a closed terminal or after `seconds` with `expired`; `signal`
 * aborts with it, and `cleanup` stops listening.
 */
function interruptions(interrupts: Interrupts, seconds: number, expired: string) {
  let cancel!: (error: VaultError) => void;
  const promise = new Promise<never>((_, reject) => (cancel = reject));
  const stopWatching = interrupts.watch((signal) => cancel(new VaultError(...CANCELLED[signal])));
  const timer = setTimeout(() => cancel(new VaultError('failure', expired)), seconds * 1000);
  const controller = new AbortController();
  promise.catch(() => controller.abort());
  return {
    promise,
    signal: controller.signal,
    cleanup() {
      clearTimeout(timer);
      stopWatching();
    },
  };
}

/** What is left to do once the user has approved: the code exchange (run with signals held, see login). */
type Exchange = () => Promise<TokenResult>;

async function loopbackLogin(req: LoginRequest, deps: LoginDeps, client: LoginClient, scopes: string[]) {
  const { provider, timeoutSec } = req;
  const params = { ...authorizationParams(provider, scopes), scope: scopes.join(' ') };
  const authorization = await client.authorize(params, scopes.includes('openid'));
  // The listener is ready before the browser is sent to it.
  const listener = await deps.loopback.listen(req.port, authorization.state);
  const stop = interruptions(
    deps.interrupts,
    timeoutSec,
    `login timed out after ${timeoutSec}s waiting for the browser`,
  );
  try {
    const url = authorization.url(listener.redirectUri);
    deps.view.authorizationUrl(provider, url);
    const status = deps.view.waiting('Waiting for the browser… Ctrl-C to cancel');
    let callbackUrl: URL;
    try {
      if (req.browser) {
        const launched = await deps.browser.open(listener.launchUrl(url), (why) =>
          status.note(`The browser command ${why}; open the URL above yourself.\n`),
        );
        if (!launched) status.note('Could not open a browser; open the URL above yourself.\n');
      }
      callbackUrl = await Promise.race([listener.callback, stop.promise]);
    } finally {
      status.clear();
    }
    await listener.close();
    const error = callbackUrl.searchParams.get('error');
    if (error) {
      const description = callbackUrl.searchParams.get('error_description');
      const text = `${serverText(error)}${description ? ` (${serverText(description)})` : ''}`;
      throw new VaultError('failure', `login to ${provider.name} failed: the provider answered ${text}`);
    }
    const exchange: Exchange = () => authorization.exchange(callbackUrl);
    return exchange;
  } finally {
    stop.cleanup();
    await listener.close();
  }
}

async function deviceLogin(req: LoginRequest, deps: LoginDeps, client: LoginClient, scopes: string[]) {
  const { provider, timeoutSec } = req;
  const device = await client.startDevice(scopes.join(' '));
  // RFC 8628 §3.2: the device code dies after expires_in; waiting longer is pointless.
  const expiresIn = device.expiresIn;
  const stop =
    expiresIn > 0 && expiresIn <= timeoutSec
      ? interruptions(
          deps.interrupts,
          expiresIn,
          `the device code for ${provider.name} expired after ${expiresIn}s before the login was approved: run the login again`,
        )
      : interruptions(
          deps.interrupts,
          timeoutSec,
          `login timed out after ${timeoutSec}s waiting for the device code to be approved`,
        );
  // Ctrl-C is handled from here on, before the user is told what to do.
  try {
    await deps.view.deviceCode(provider, device);
    const status = deps.view.waiting('Waiting for approval… Ctrl-C to cancel');
    try {
      // The last poll is the exchange itself; a signal during the polling must still cancel it.
      const result = await Promise.race([device.poll(stop.signal), stop.promise]);
      const exchange: Exchange = async () => result;
      return exchange;
    } finally {
      status.clear();
    }
  } finally {
    stop.cleanup();
  }
}

function noRefreshToken(provider: Provider, scopes: readonly string[]): VaultError {
  const hint =
    refreshTokenHints(provider, 'param')?.missing ??
    (scopes.includes('offline_access')
      ? 'the server did not grant `offline_access`; allow the refresh_token grant for this client at the provider'
      : 'ask for the `offline_access` scope (--scope offline_access), or allow the refresh_token grant for this client at the provider');
  return new VaultError(
    'failure',
    `login to ${provider.name} returned no refresh token, and its access token expires: ${hint}`,
  );
}

/**
 * `vault login`: the browser (RFC 8252 loopback + PKCE) or device (RFC 8628) flow, then the login
 * stored (see saveLogin). Resolves with the tokens the server issued.
 */
export async function login(req: LoginRequest, deps: LoginDeps): Promise<TokenResult> {
  const { provider } = req;
  if (provider.exchange_from !== undefined)
    throw new UsageError(
      `${provider.name} has no login of its own: its tokens come by exchange from the login to ${provider.exchange_from} (run \`${loginCommand(provider.exchange_from, req.account)}\`)`,
    );
  const secret = await readClientSecret(deps.store, deps.env, provider.name);
  const client = await deps.oauth.client(provider, secret);
  const scopes = loginScopes(provider, req.scopes, client.scopesSupported);
  const exchange = req.device
    ? await deviceLogin(req, deps, client, scopes)
    : await loopbackLogin(req, deps, client, scopes);
  // Once the code is exchanged the server has issued a grant: a signal waits until it is stored.
  return deps.signals.hold(`the login to ${provider.name} was stored`, async () => {
    const result = await exchange();
    if (!result.refresh_token && result.expires_at !== null) throw noRefreshToken(provider, scopes);
    const revoke = client.revocationEndpoint ? (token: string) => client.revoke(token, 'refresh_token') : undefined;
    await saveLogin(provider, req.account, result, scopes, { ...deps, revoke });
    return result;
  });
}
