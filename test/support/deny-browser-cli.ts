// A browser command that refuses the login, for VAULT_BROWSER:
//   node --import tsx test/support/deny-browser-cli.ts <authorization-url>
// Opens the authorization URL on a test server with autoLogin: false, follows the login page's
// "[ Cancel ]" link (oidc-provider's devInteractions abort, which answers error=access_denied)
// and delivers that callback to the CLI's listener. Nothing on stdout; exit 1 with the reason
// on stderr when the flow goes elsewhere.
import { FetchBrowser, launchedAt } from './fetch-browser.js';

const [launch] = process.argv.slice(2);
try {
  if (!launch) throw new Error('usage: deny-browser-cli.ts <authorization-url>');
  const url = await launchedAt(launch);
  const redirect = new URL(new URL(url).searchParams.get('redirect_uri') ?? '');
  const browser = new FetchBrowser();
  const interaction = await browser.navigate(url, (next) => next.pathname.startsWith('/interaction/'));
  if (!(interaction instanceof URL))
    throw new Error(`no login page: ended at ${interaction.url.href} (HTTP ${interaction.status})`);
  const abort = new URL(`${interaction.pathname}/abort`, interaction);
  const callback = await browser.navigate(
    abort,
    (next) => next.origin === redirect.origin && next.pathname === redirect.pathname,
  );
  if (!(callback instanceof URL)) throw new Error(`cancel did not return to the client: ended at ${callback.url.href}`);
  const response = await fetch(callback, { redirect: 'manual' });
  await response.body?.cancel();
} catch (error) {
  process.stderr.write(`deny-browser-cli: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
