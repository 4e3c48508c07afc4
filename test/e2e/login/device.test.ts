// `vault login --device` (RFC 8628) against the real oidc-provider; the test plays the user on
// the other device through the server's /device pages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addProvider } from '../../support/vault-sandbox.js';
import { fileStoreEntries, startVault, type LiveVault } from '../../support/login.js';

let server: TestServer;
const sandboxes: Sandbox[] = [];

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
  for (const sb of sandboxes) sb.cleanup();
});

async function loggedInBox(target: TestServer): Promise<Sandbox> {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  await addProvider(sb, target, { scopes: [] });
  return sb;
}

/** What the device flow printed: the verification URIs and the user code. */
async function instructions(vault: LiveVault) {
  const [, uri, code] = await vault.waitForStderr(/To log in to acme, open (\S+) and enter the code:\n\n {2}(\S+)\n/);
  const [, complete] = await vault.waitForStderr(/\nOr open this link, which carries the code:\n\n {2}(\S+)\n/);
  return { uri: uri!, code: code!, complete: complete! };
}

async function assertNotLoggedIn(sb: Sandbox): Promise<void> {
  const token = await runVault(['token', 'acme'], { env: sb.env });
  assert.equal(token.code, 3, token.stderr);
  assert.deepEqual(fileStoreEntries(sb), {});
}

test('device flow: the user code on stderr, approved elsewhere, tokens stored', async () => {
  const sb = await loggedInBox(server);
  const before = server.counts.deviceCode;
  const vault = startVault(['login', 'acme', '--device'], sb.env);
  const { uri, code, complete } = await instructions(vault);
  assert.equal(uri, `${server.issuer}/device`);
  assert.equal(new URL(complete).searchParams.get('user_code'), code);
  await server.approveDevice(code);

  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Logged in to acme as alice\.\n$/);
  assert.equal(server.counts.deviceCode, before + 1);
  const login = JSON.parse(fileStoreEntries(sb)['rt:acme:default']!) as { refresh_token?: string; scope: string };
  assert.ok(login.refresh_token);
  assert.ok(!result.stderr.includes(login.refresh_token));

  const token = await runVault(['token', 'acme', '--force-refresh'], { env: sb.env });
  assert.equal(token.code, 0, token.stderr);
  assert.equal((await server.introspect(token.stdout.trim())).active, true);
});

test('a device code that expires unapproved ends the login with a clear error; nothing stored', async () => {
  const short = await startTestServer({ deviceCodeTtl: 2 });
  try {
    const sb = await loggedInBox(short);
    const result = await runVault(['login', 'acme', '--device'], { env: sb.env });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    // vault's own timer (at expires_in) and the server's `expired_token` answer to a poll race at
    // the same instant; either way the user reads the same one line.
    assert.match(
      result.stderr,
      /^error: the device code for acme expired (after 2s )?before the login was approved: run the login again\n$/m,
    );
    await assertNotLoggedIn(sb);
  } finally {
    await short.close();
  }
});

test('--timeout shorter than the device code: exit 1; Ctrl-C: exit 130; nothing stored', async () => {
  const sb = await loggedInBox(server);
  const timedOut = await runVault(['login', 'acme', '--device', '--timeout', '1'], { env: sb.env });
  assert.equal(timedOut.code, 1, timedOut.stderr);
  assert.match(timedOut.stderr, /error: login timed out after 1s waiting for the device code to be approved\n$/);

  const vault = startVault(['login', 'acme', '--device'], sb.env);
  await instructions(vault);
  vault.child.kill('SIGINT');
  const interrupted = await vault.exited;
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stderr, /error: login cancelled\n$/);
  await assertNotLoggedIn(sb);
});

test('--device at a provider without a device endpoint: exit 2', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  const add = await runVault(
    [
      'provider',
      'add',
      'corp',
      '--authorization-endpoint',
      `${server.issuer}/auth`,
      '--token-endpoint',
      `${server.issuer}/token`,
      '--client-id',
      server.publicClientId,
    ],
    { env: sb.env },
  );
  assert.equal(add.code, 0, add.stderr);
  const result = await runVault(['login', 'corp', '--device'], { env: sb.env });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /error: corp has no device authorization endpoint: log in without --device/);
});
