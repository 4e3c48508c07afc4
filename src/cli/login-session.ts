import { serverText } from '../core/server-text.js';
import { VaultError } from '../core/errors.js';
import { METADATA_PARAMS } from '../core/protocols/gce-metadata.js';
import { listenForCallback } from '../core/login-flow.js';
import type { Provider } from '../core/config/providers.js';
import { readClientSecret } from '../core/usecases/client-secret.js';
import { saveLogin } from '../core/usecases/save-login.js';
import type { TokenResult } from '../core/token-set.js';
import { checkTimerSeconds } from '../infra/oauth/http.js';
import type { Configuration } from '../infra/oauth/index.js';
import { holdSignals } from '../infra/signals.js';
import { scopeList } from '../core/provider-edit.js';
import type { LoginOptions } from './commands/login.js';
import type { Context } from './context.js';
import { GUIDES, firstRun } from './first-run.js';

type OAuth = typeof import('../infra/oauth/index.js');

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

/**
 * Authorization request parameters besides PKCE, state and nonce: the provider's, plus
 * `prompt=consent` with `offline_access` (OIDC Core §11: servers may otherwise drop the scope and
 * issue no refresh token; oidc-provider does). Presets carry their providers' own rules instead.
 */
export function authorizationParams(provider: Provider, scopes: readonly string[]): Record<string, string> {
  const params = { ...(provider.params ?? {}) };
  for (const key of METADATA_PARAMS) delete params[key];
  if (!provider.preset && scopes.includes('offline_access') && params.prompt === undefined) params.prompt = 'consent';
  return params;
}

/**
 * Ends the wait on Ctrl-C (exit 130), SIGTERM (exit 143), a closed terminal (SIGHUP, exit 129) or
 * after `seconds` with `expired`; `cleanup` releases all of them.
 */
function interruptions(seconds: number, expired: string) {
  let cancel!: (error: VaultError) => void;
  const promise = new Promise<never>((_, reject) => (cancel = reject));
  const onSigint = () => cancel(new VaultError('login cancelled', 'interrupted'));
  const onSigterm = () => cancel(new VaultError('login terminated', 'terminated'));
  const onSighup = () => cancel(new VaultError('login cancelled: the terminal hung up', 'hangup'));
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  process.once('SIGHUP', onSighup);
  const timer = setTimeout(() => cancel(new VaultError(expired, 'failure')), seconds * 1000);
  const controller = new AbortController();
  promise.catch(() => controller.abort());
  return {
    promise,
    signal: controller.signal,
    cleanup() {
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('SIGHUP', onSighup);
    },
  };
}

/** A single status line on a terminal's stderr; `note` prints a message above it. */
function statusLine(ctx: Context, text: string) {
  const out = ctx.io.stderr;
  if (!ctx.io.stderrIsTTY) return { note: (message: string) => out.write(message), clear: () => {} };
  out.write(text);
  return {
    note: (message: string) => out.write(`\r\x1b[2K${message}${text}`),
    clear: () => out.write('\r\x1b[2K'),
  };
}

/** What is left to do once the user has approved: the code exchange (run with signals held, see run). */
type Exchange = () => Promise<TokenResult>;

async function loopbackLogin(
  ctx: Context,
  oauth: OAuth,
  config: Configuration,
  provider: Provider,
  scopes: string[],
  opts: LoginOptions,
  port: number,
  timeoutSec: number,
): Promise<Exchange> {
  const withNonce = scopes.includes('openid');
  const secrets = await oauth.loginSecrets(withNonce);
  // The listener is ready before the browser is sent to it.
  const listener = await listenForCallback({ port, expectedState: secrets.state, debug: ctx.debug });
  const stop = interruptions(timeoutSec, `login timed out after ${timeoutSec}s waiting for the browser`);
  try {
    const url = oauth.authorizationUrl(config, {
      ...authorizationParams(provider, scopes),
      redirect_uri: listener.redirectUri,
      scope: scopes.join(' '),
      code_challenge: secrets.challenge,
      code_challenge_method: 'S256',
      state: secrets.state,
      ...(secrets.nonce && { nonce: secrets.nonce }),
    });
    // The URL goes out before any launch attempt, so a failed launch still leaves a usable URL.
    ctx.io.stderr.write(`Open this URL in a browser to log in to ${provider.name}:\n\n  ${url.href}\n\n`);
    const status = statusLine(ctx, 'Waiting for the browser… Ctrl-C to cancel');
    let callbackUrl: URL;
    try {
      if (opts.browser) {
        const launched = await ctx.browser.open(url.href, (why) =>
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
      throw new VaultError(`login to ${provider.name} failed: the provider answered ${text}`, 'failure');
    }
    return () =>
      oauth.exchangeCode(config, provider, callbackUrl, { ...secrets, idTokenExpected: withNonce }, () =>
        ctx.clock.now(),
      );
  } finally {
    stop.cleanup();
    await listener.close();
  }
}

async function deviceLogin(
  ctx: Context,
  oauth: OAuth,
  config: Configuration,
  provider: Provider,
  scopes: string[],
  timeoutSec: number,
): Promise<Exchange> {
  const device = await oauth.startDevice(config, provider, { scope: scopes.join(' ') });
  // RFC 8628 §3.2: the device code dies after expires_in; waiting longer is pointless.
  const expiresIn = device.expires_in;
  const stop =
    expiresIn > 0 && expiresIn <= timeoutSec
      ? interruptions(
          expiresIn,
          `the device code for ${provider.name} expired after ${expiresIn}s before the login was approved: run the login again`,
        )
      : interruptions(timeoutSec, `login timed out after ${timeoutSec}s waiting for the device code to be approved`);
  // Ctrl-C is handled from here on, before the user is told what to do.
  const lines = [
    `To log in to ${provider.name}, open ${device.verification_uri} and enter the code:`,
    '',
    `  ${device.user_code}`,
    '',
  ];
  if (device.verification_uri_complete) lines.push(`(or open ${device.verification_uri_complete})`, '');
  ctx.io.stderr.write(`${lines.join('\n')}\n`);
  if (device.verification_uri_complete) await showQrCode(ctx, device.verification_uri_complete);
  const status = statusLine(ctx, 'Waiting for approval… Ctrl-C to cancel');
  try {
    // The last poll is the exchange itself; a signal during the polling must still cancel it.
    const result = await Promise.race([
      oauth.pollDevice(config, provider, device, stop.signal, () => ctx.clock.now()),
      stop.promise,
    ]);
    return async () => result;
  } finally {
    status.clear();
    stop.cleanup();
  }
}

/**
 * The complete verification URI (RFC 8628 §3.3.1) as a QR code, so a phone finishes the login
 * without typing: only for a person at a terminal (not with --quiet, not into a pipe or a log).
 */
async function showQrCode(ctx: Context, uri: string): Promise<void> {
  if (!ctx.io.stderrIsTTY || ctx.env.TERM === 'dumb') return;
  const { renderUnicodeCompact } = await import('uqr');
  ctx.io.stderr.write(`Or scan this with a phone:\n\n${renderUnicodeCompact(uri, { border: 2 })}\n\n`);
}

function noRefreshToken(provider: Provider, scopes: readonly string[]): VaultError {
  const hint =
    provider.params?.access_type === 'offline' || provider.preset === 'google'
      ? "Google sends one only with access_type=offline and prompt=consent (check the provider's params)"
      : scopes.includes('offline_access')
        ? 'the server did not grant `offline_access`; allow the refresh_token grant for this client at the provider'
        : 'ask for the `offline_access` scope (--scope offline_access), or allow the refresh_token grant for this client at the provider';
  return new VaultError(
    `login to ${provider.name} returned no refresh token, and its access token expires: ${hint}`,
    'failure',
  );
}

/** The configured provider; for an unconfigured preset, the first-run walk-through. */
async function providerFor(ctx: Context, name: string | undefined, opts: LoginOptions): Promise<Provider> {
  if (name !== undefined && !ctx.config().providers[name] && Object.hasOwn(GUIDES, name))
    return firstRun(ctx, name, { device: opts.device });
  return ctx.provider(name);
}

/** `vault login`: the browser or device flow, then the login stored (see saveLogin). */
export async function runLogin(ctx: Context, opts: LoginOptions): Promise<void> {
  const account = ctx.account(opts.account);
  const timeoutSec = checkTimerSeconds(opts.timeout, `--timeout ${opts.timeout}`);
  const port = opts.port ?? 0;
  const provider = await providerFor(ctx, opts.provider, opts);
  const td = ctx.tokenDeps();
  const oauth = await ctx.oauth();
  const secret = await readClientSecret(td.store, ctx.env, provider.name);
  const config = await oauth.configure(provider, secret, ctx);
  const scopes = loginScopes(provider, scopeList(opts.scope), config);
  const exchange = opts.device
    ? await deviceLogin(ctx, oauth, config, provider, scopes, timeoutSec)
    : await loopbackLogin(ctx, oauth, config, provider, scopes, opts, port, timeoutSec);
  // Once the code is exchanged the server has issued a grant: a signal waits until it is stored.
  const result = await holdSignals(
    `the login to ${provider.name} was stored`,
    async () => {
      const result = await exchange();
      if (!result.refresh_token && result.expires_at !== null) throw noRefreshToken(provider, scopes);
      const revoke = config.serverMetadata().revocation_endpoint
        ? (token: string) => oauth.revoke(config, provider, token)
        : undefined;
      await saveLogin(provider, account, result, scopes, { ...td, revoke });
      return result;
    },
    ctx.debug,
  );
  const who = result.identity ? ` as ${serverText(result.identity)}` : '';
  ctx.io.stderr.write(`Logged in to ${provider.name}${who}${account === 'default' ? '' : ` (account ${account})`}.\n`);
}
