import { ExitCode, VaultError, UsageError } from '../../core/errors.js';
import { listenForCallback } from '../../core/login-flow.js';
import type { Provider } from '../../core/providers.js';
import { readClientSecret, saveLogin, type LoginResult } from '../../core/token-service.js';
import { openBrowser } from '../../infra/browser.js';
import type { Deps } from '../../infra/io.js';
import type { Configuration } from '../../infra/oauth-client.js';
import { accountOf, loadProvider, parseSeconds, scopeList, tokenDeps } from '../context.js';

export interface LoginOptions {
  account?: string;
  scope?: string[];
  device?: boolean;
  browser: boolean;
  port?: string;
  timeout: string;
}

type OAuth = typeof import('../../infra/oauth-client.js');

/**
 * Scopes to request: --scope, else the provider's, else for an issuer `openid` plus
 * `offline_access` when the server lists it (OIDC Core §11: that is how a refresh token is asked for).
 */
export function loginScopes(provider: Provider, flags: string[] | undefined, config: Configuration): string[] {
  if (flags?.length) return flags;
  if (provider.scopes?.length) return provider.scopes;
  const supported = config.serverMetadata().scopes_supported ?? [];
  return supported.includes('offline_access') ? ['openid', 'offline_access'] : ['openid'];
}

/** Ends the wait on Ctrl-C (exit 130) or after `timeoutSec`; `cleanup` releases both. */
function interruptions(timeoutSec: number, what: string) {
  let cancel!: (error: VaultError) => void;
  const promise = new Promise<never>((_, reject) => (cancel = reject));
  const onSigint = () => cancel(new VaultError('login cancelled', ExitCode.interrupted, 'interrupted'));
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const timer = setTimeout(() => cancel(new VaultError(`login timed out after ${timeoutSec}s ${what}`, ExitCode.failure, 'timeout')), timeoutSec * 1000);
  const controller = new AbortController();
  promise.catch(() => controller.abort());
  return {
    promise,
    signal: controller.signal,
    cleanup() {
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}

function waitingLine(deps: Deps, text: string): () => void {
  if (!deps.io.stderrIsTTY) return () => {};
  deps.io.stderr.write(`${text}`);
  return () => deps.io.stderr.write('\r\x1b[2K');
}

async function loopbackLogin(deps: Deps, oauth: OAuth, config: Configuration, provider: Provider, scopes: string[], opts: LoginOptions, timeoutSec: number): Promise<LoginResult> {
  const port = opts.port === undefined ? 0 : parseSeconds(opts.port, '--port');
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const withNonce = scopes.includes('openid');
  const secrets = await oauth.loginSecrets(withNonce);
  const listener = await listenForCallback({ port, expectedState: secrets.state, debug: deps.debug });
  const stop = interruptions(timeoutSec, 'waiting for the browser');
  try {
    const url = oauth.authorizationUrl(config, {
      ...(provider.params ?? {}),
      redirect_uri: listener.redirectUri,
      scope: scopes.join(' '),
      code_challenge: secrets.challenge,
      code_challenge_method: 'S256',
      state: secrets.state,
      ...(secrets.nonce && { nonce: secrets.nonce }),
    });
    // The URL goes out before any launch attempt, so a failed launch still leaves a usable URL.
    deps.io.stderr.write(`Open this URL in a browser to log in to ${provider.name}:\n\n  ${url.href}\n\n`);
    if (opts.browser) {
      const launched = await openBrowser(url.href, deps);
      if (!launched) deps.io.stderr.write('Could not open a browser; open the URL above yourself.\n');
    }
    const clear = waitingLine(deps, 'Waiting for the browser… Ctrl-C to cancel');
    let callbackUrl: URL;
    try {
      callbackUrl = await Promise.race([listener.callback, stop.promise]);
    } finally {
      clear();
    }
    await listener.close();
    const error = callbackUrl.searchParams.get('error');
    if (error) {
      const description = callbackUrl.searchParams.get('error_description');
      const text = `${error}${description ? ` (${description.replace(/\s+/g, ' ').slice(0, 200)})` : ''}`;
      throw new VaultError(`login to ${provider.name} failed: the provider answered ${text}`, ExitCode.failure, error);
    }
    return await oauth.exchangeCode(config, provider, callbackUrl, { ...secrets, idTokenExpected: withNonce }, () => deps.clock.now());
  } finally {
    stop.cleanup();
    await listener.close();
  }
}

async function deviceLogin(deps: Deps, oauth: OAuth, config: Configuration, provider: Provider, scopes: string[], timeoutSec: number): Promise<LoginResult> {
  const device = await oauth.startDevice(config, provider, { scope: scopes.join(' ') });
  const lines = [`To log in to ${provider.name}, open ${device.verification_uri} and enter the code:`, '', `  ${device.user_code}`, ''];
  if (device.verification_uri_complete) lines.push(`(or open ${device.verification_uri_complete})`, '');
  deps.io.stderr.write(`${lines.join('\n')}\n`);
  const stop = interruptions(Math.min(timeoutSec, device.expires_in || timeoutSec), 'waiting for the device code to be approved');
  const clear = waitingLine(deps, 'Waiting for approval… Ctrl-C to cancel');
  try {
    return await Promise.race([oauth.pollDevice(config, provider, device, stop.signal, () => deps.clock.now()), stop.promise]);
  } finally {
    clear();
    stop.cleanup();
  }
}

export async function run(deps: Deps, providerName: string, opts: LoginOptions): Promise<number> {
  const provider = loadProvider(deps, providerName);
  const account = accountOf(deps, opts.account);
  const timeoutSec = parseSeconds(opts.timeout, '--timeout');
  const td = tokenDeps(deps);
  const oauth = await import('../../infra/oauth-client.js');
  const secret = await readClientSecret(td.store, deps.env, provider.name);
  const config = await oauth.configure(provider, secret, deps);
  const scopes = loginScopes(provider, scopeList(opts.scope), config);
  const result = opts.device ? await deviceLogin(deps, oauth, config, provider, scopes, timeoutSec) : await loopbackLogin(deps, oauth, config, provider, scopes, opts, timeoutSec);
  if (!result.refresh_token && result.expires_at !== null) {
    const hint = provider.params?.access_type === 'offline' || provider.preset === 'google'
      ? "Google sends one only with access_type=offline and prompt=consent (check the provider's params)"
      : 'ask for the `offline_access` scope (--scope offline_access), or allow the refresh_token grant for this client at the provider';
    throw new VaultError(`login to ${provider.name} returned no refresh token, and its access token expires: ${hint}`, ExitCode.failure, 'no_refresh_token');
  }
  await saveLogin(provider, account, result, scopes, td);
  const who = result.identity ? ` as ${result.identity}` : '';
  deps.io.stderr.write(`Logged in to ${provider.name}${who}${account === 'default' ? '' : ` (account ${account})`}.\n`);
  return 0;
}
