// `vault login` with a real browser: Debian's Chromium, driven by playwright-core, logs in and
// consents on oidc-provider's own login pages. VAULT_BROWSER only records the URL it is started on
// (the listener's one-time address); the test's Chromium page opens it, as a user's browser would.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addProvider } from '../../support/vault-sandbox.js';
import {
  callbackPort,
  portRefuses,
  printedUrl,
  rawRequest,
  recordedUrl,
  startVault,
  urlRecorder,
} from '../../support/login.js';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: TestServer;
let browser: BrowserContext;
let profile: string;
let sb: Sandbox;

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'vault-chromium-'));
  [server, browser] = await Promise.all([
    startTestServer({ autoLogin: false }),
    // A fresh profile (--user-data-dir): no cookies or sessions from anywhere else.
    chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
    }),
  ]);
  // Only the test server and the CLI's listener live here; the login page's web font must not leak out.
  await browser.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  // The keychain, as a user's login would use it.
  sb = sandbox({ VAULT_STORE: 'keychain' });
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(profile, { recursive: true, force: true });
  sb?.cleanup();
});

test('Chromium logs in on the server pages; stray requests on the way do not end the login', async () => {
  await addProvider(sb, server, {
    scopes: [],
    extra: ['--scope', 'openid', '--scope', 'email', '--scope', 'offline_access'],
  });
  const launched = join(sb.dir, 'browser-url');
  const vault = startVault(['login', 'acme'], { ...sb.env, VAULT_BROWSER: urlRecorder(sb.dir, launched) });
  const url = await recordedUrl(launched, vault);
  const port = callbackPort(await printedUrl(vault));
  // The browser is started on the listener's one-time address, which redirects to the printed URL.
  assert.match(url.href, new RegExp(`^http://127\\.0\\.0\\.1:${port}/[\\w-]{43}$`));

  // None of these is the browser coming back with the right state: each is turned away and the
  // login keeps waiting for the real one.
  const strays: [string, string, number][] = [
    ['GET', '/', 404],
    ['GET', '/favicon.ico', 404],
    ['POST', '/callback', 404],
    ['GET', '/callback', 400],
    ['GET', '/callback?state=wrong&code=x', 400],
    ['GET', '/callback?error=access_denied&state=wrong', 400],
  ];
  for (const [method, path, status] of strays) {
    const answer = await rawRequest(port, { method, path, ...(method === 'POST' && { body: 'code=x&state=y' }) });
    assert.equal(answer.status, status, `${method} ${path}`);
  }
  assert.equal(vault.child.exitCode, null);

  const page = await browser.newPage();
  await page.goto(url.href);
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.origin === `http://127.0.0.1:${port}` && u.pathname === '/callback');
  assert.equal(await page.locator('h1').textContent(), 'Logged in');
  assert.equal(await page.locator('p').textContent(), 'You can close this tab and return to the terminal.');
  await page.close();

  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  // The ID token carries only the subject; with the email scope granted, UserInfo supplies the email.
  assert.match(result.stderr, /Logged in to acme as alice@example\.test\.\n$/);
  assert.equal(await portRefuses(port), true);

  const token = await runVault(['token', 'acme'], { env: sb.env });
  assert.equal(token.code, 0, token.stderr);
  const introspection = await server.introspect(token.stdout.trim());
  assert.equal(introspection.active, true);
  assert.equal(introspection.sub, 'alice');
  assert.equal(introspection.scope, 'openid email offline_access');

  const refreshed = await runVault(['token', 'acme', '--force-refresh'], { env: sb.env });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.notEqual(refreshed.stdout, token.stdout);
  assert.equal(server.counts.refresh, 1);
});
