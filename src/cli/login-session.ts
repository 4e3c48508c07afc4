import { serverText } from '../core/server-text.js';
import type { Provider } from '../core/config/providers.js';
import { hasGuide } from '../core/usecases/first-run.js';
import { login, type LoginView, type StatusLine } from '../core/usecases/login.js';
import { scopeList } from '../core/provider-edit.js';
import { checkTimerSeconds } from '../infra/oauth/http.js';
import type { DeviceAuthorization } from '../core/ports.js';
import type { Context } from './context.js';
import { firstRun } from './first-run.js';

export interface LoginOptions {
  provider?: string;
  account?: string;
  scope?: string[];
  device?: boolean;
  /** false with --no-browser */
  browser: boolean;
  port?: number;
  timeout: number;
}

/** A single status line on a terminal's stderr; `note` prints a message above it. */
function statusLine(ctx: Context, text: string): StatusLine {
  const out = ctx.io.stderr;
  if (!ctx.io.stderrIsTTY) return { note: (message: string) => out.write(message), clear: () => {} };
  out.write(text);
  return {
    note: (message: string) => out.write(`\r\x1b[2K${message}${text}`),
    clear: () => out.write('\r\x1b[2K'),
  };
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

/** The login's prompts on stderr (stdout belongs to the data a script asked for). */
function terminalView(ctx: Context): LoginView {
  return {
    authorizationUrl(provider: Provider, url: string) {
      ctx.io.stderr.write(`Open this URL in a browser to log in to ${provider.name}:\n\n  ${url}\n\n`);
    },
    async deviceCode(provider: Provider, device: DeviceAuthorization) {
      const lines = [
        `To log in to ${provider.name}, open ${device.verificationUri} and enter the code:`,
        '',
        `  ${device.userCode}`,
        '',
      ];
      // On a line of its own: a terminal that turns URLs into links would take any punctuation after it along.
      if (device.verificationUriComplete)
        lines.push('Or open this link, which carries the code:', '', `  ${device.verificationUriComplete}`, '');
      ctx.io.stderr.write(`${lines.join('\n')}\n`);
      if (device.verificationUriComplete) await showQrCode(ctx, device.verificationUriComplete);
    },
    waiting: (text) => statusLine(ctx, text),
  };
}

/** The configured provider; for an unconfigured preset, the first-run walk-through. */
async function providerFor(ctx: Context, name: string | undefined, opts: LoginOptions): Promise<Provider> {
  if (name !== undefined && !ctx.config().providers[name] && hasGuide(name))
    return firstRun(ctx, name, { device: opts.device, account: ctx.account(opts.account) });
  return ctx.provider(name);
}

/** `vault login`: the flags checked, the login use case run with this process's ports, the result told. */
export async function runLogin(ctx: Context, opts: LoginOptions): Promise<void> {
  const account = ctx.account(opts.account);
  const timeoutSec = checkTimerSeconds(opts.timeout, `--timeout ${opts.timeout}`);
  const provider = await providerFor(ctx, opts.provider, opts);
  const result = await login(
    {
      provider,
      account,
      scopes: scopeList(opts.scope),
      device: opts.device,
      browser: opts.browser,
      port: opts.port ?? 0,
      timeoutSec,
    },
    { ...ctx.ports(), view: terminalView(ctx) },
  );
  const who = result.identity ? ` as ${serverText(result.identity)}` : '';
  ctx.io.stderr.write(`Logged in to ${provider.name}${who}${account === 'default' ? '' : ` (account ${account})`}.\n`);
}
