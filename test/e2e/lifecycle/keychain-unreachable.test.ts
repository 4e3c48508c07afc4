// A login kept in the OS keychain, seen from a shell without a D-Bus session (SSH, cron): every
// "not logged in" answer and `status` say that the keychain could not be asked and how to reach
// it, instead of only `vault login` (which would start a second, plaintext login); following the
// advice finds the keychain login.
import assert from 'node:assert/strict';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runVault, sandbox, type Sandbox, vault } from '../../support/cli.js';
import { addProvider, login } from '../../support/vault-sandbox.js';
import { ok, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';

let server: TestServer;
let sb: Sandbox;
let noBus: NodeJS.ProcessEnv;
let desktopBus: string;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  // The default store choice, as on a desktop: the keychain answers.
  sb = sandbox({ VAULT_STORE: 'auto' });
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  await login(sb);
  // Where a systemd desktop session keeps its bus socket: $XDG_RUNTIME_DIR/bus.
  const address = /^unix:path=([^,]+)/.exec(process.env.DBUS_SESSION_BUS_ADDRESS ?? '')?.[1];
  assert.ok(address, 'the tests run inside a D-Bus session with a socket path (scripts/with-keyring.sh)');
  desktopBus = join(sb.env.XDG_RUNTIME_DIR!, 'bus');
  symlinkSync(address, desktopBus);
  noBus = { ...sb.env };
  delete noBus.DBUS_SESSION_BUS_ADDRESS;
});
after(async () => {
  sb?.cleanup();
  await server?.close();
});

const NOTE =
  /the OS keychain could not be asked \(DBUS_SESSION_BUS_ADDRESS is unset: no D-Bus session, as under SSH or cron\), so a login kept there is not visible here/;

test('with the session bus: status names the keychain it consulted', async () => {
  const status = ok(await vault(sb, ['status']), 'status');
  assert.match(status.stdout, /^acme\s+default\s+alice@example\.test\s.*\skeychain$/m);
  assert.match(
    status.stderr,
    /^Stores consulted: OS keychain \(service "vault-test-[^"]+"\), environment \(VAULT_<NAME>_REFRESH_TOKEN\)\.$/m,
  );
  assert.doesNotMatch(status.stderr, /could not be asked/);
});

test('without it: every "not logged in" says the keychain was unreachable and how to reach it', async () => {
  const reach = `export DBUS_SESSION_BUS_ADDRESS=unix:path=${desktopBus}`;
  for (const args of [
    ['token', 'acme'],
    ['env', 'acme'],
    ['exec', 'acme', '--', 'true'],
    ['kube-credential', 'acme'],
    ['status', 'acme'],
  ]) {
    const result = await runVault(args, { env: noBus });
    assert.equal(result.code, 3, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line: ${result.stderr}`);
    assert.match(lines[0]!, /^error: not logged in to acme — run `vault login acme`\. But /);
    assert.match(lines[0]!, NOTE);
    assert.ok(lines[0]!.includes(reach), `${args.join(' ')} names the bus to reach: ${lines[0]}`);
    assert.match(lines[0]!, /to keep logins in the file store instead, set VAULT_STORE=file$/);
  }

  const status = ok(await runVault(['status'], { env: noBus }), 'status without a bus');
  assert.equal(status.stdout, '');
  assert.match(status.stderr, /^No logins\./m);
  assert.match(
    status.stderr,
    new RegExp(
      `^Stores consulted: file store ${sb.env.VAULT_DATA_DIR}/credentials\\.json, environment \\(VAULT_<NAME>_REFRESH_TOKEN\\)\\.$`,
      'm',
    ),
  );
  assert.match(status.stderr, new RegExp(`^warning: ${NOTE.source}`, 'm'));
  const json = ok(await runVault(['status', '--json'], { env: noBus }), 'status --json without a bus');
  assert.equal(json.stdout, '{"accounts":[]}\n');
  assert.match(json.stderr, NOTE);

  const logout = ok(await runVault(['logout', 'acme'], { env: noBus }), 'logout without a bus');
  assert.match(logout.stderr, /^Not logged in to acme: nothing to remove\. But the OS keychain could not be asked/);
  assert.equal(existsSync(join(sb.env.VAULT_DATA_DIR!, 'credentials.json')), false, 'no file store was created');
});

test('following the advice reaches the keychain login; nothing went to a file store', async () => {
  const reached = { ...noBus, DBUS_SESSION_BUS_ADDRESS: `unix:path=${desktopBus}` };
  const token = ok(await vault(sb, ['token', 'acme'], reached), 'token through the desktop bus');
  assert.ok(token.stdout.trim().length > 0);
  const status = ok(await vault(sb, ['status'], reached), 'status through the desktop bus');
  assert.match(status.stdout, /^acme\s+default\s.*\skeychain$/m);
  assert.equal(existsSync(join(sb.env.VAULT_DATA_DIR!, 'credentials.json')), false, 'no file store was created');
});
