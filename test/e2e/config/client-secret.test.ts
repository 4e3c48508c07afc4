// A provider's client secret as a user meets it against the real server: stored only when given
// (and said so when it came from VAULT_CLIENT_SECRET), removed with `provider set --no-client-secret`
// or a `provider add --replace` that does not give it again, and an invalid_client that names the
// fix in the direction that applies (store one, or remove one).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { sandbox, type Sandbox, vault } from '../../support/cli.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { onTerminal } from '../../support/login.js';
import { addProvider, login, providerAddArgs } from '../../support/vault-sandbox.js';
import { assertNoSecret, confidentialProvider, fileEntries, ok, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';

let server: TestServer;
const sandboxes: Sandbox[] = [];
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
  for (const sb of sandboxes) sb.cleanup();
});

function box(): Sandbox {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  return sb;
}

const tryLogin = (sb: Sandbox) => vault(sb, ['login', 'acme'], { VAULT_BROWSER: FETCH_BROWSER });
const secretStored = (sb: Sandbox) => 'cs:acme' in fileEntries(sb);
const ERROR_LINE = /^error: .*$/m;

test('VAULT_CLIENT_SECRET stores a secret and says so; a public client then fails with the way to remove it; --no-client-secret removes it', async () => {
  const sb = box();
  const secret = `env-secret-${process.pid}`;
  const add = await vault(sb, providerAddArgs(server, LIFECYCLE_PROVIDER), { VAULT_CLIENT_SECRET: secret });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stderr, /^Stored a client secret for acme from VAULT_CLIENT_SECRET in .*credentials\.json\.$/m);
  assertNoSecret(add.stderr + add.stdout, [secret], 'provider add output');
  assert.ok(secretStored(sb));

  // The server's public client authenticates with none: a sent secret is refused.
  const refused = await tryLogin(sb);
  assert.equal(refused.code, 1, refused.stderr);
  const error = ERROR_LINE.exec(refused.stderr)?.[0] ?? '';
  assert.match(error, /invalid_client/);
  assert.match(error, /a client secret was sent/);
  assert.match(error, /if the client is public, remove it with `vault provider set acme --no-client-secret`/);
  assertNoSecret(refused.stderr, [secret], 'login output');

  const removed = ok(await vault(sb, ['provider', 'set', 'acme', '--no-client-secret']), 'set --no-client-secret');
  assert.match(removed.stderr, /^Removed the client secret of acme from .*credentials\.json\.$/m);
  assert.ok(!secretStored(sb), 'the secret is gone from the store');
  await login(sb);

  const again = ok(await vault(sb, ['provider', 'set', 'acme', '--no-client-secret']), 'again');
  assert.equal(again.stderr, 'No client secret was stored for acme: nothing to remove.\n');
});

test('a confidential client without its secret: the hint says to store one; storing it fixes the login', async () => {
  const sb = box();
  await addProvider(sb, server, { ...LIFECYCLE_PROVIDER, clientId: server.confidentialClientId });
  const refused = await tryLogin(sb);
  assert.equal(refused.code, 1, refused.stderr);
  const error = ERROR_LINE.exec(refused.stderr)?.[0] ?? '';
  assert.match(error, /invalid_client.*no client secret was sent/);
  assert.match(error, /store it with `printf %s "\$SECRET" \| vault provider set acme --client-secret-stdin`/);
  assert.doesNotMatch(error, /--no-client-secret/, 'nothing is stored: nothing to remove');

  const stored = ok(
    await vault(sb, ['provider', 'set', 'acme', '--client-secret-stdin'], {}, server.confidentialClientSecret),
    'set --client-secret-stdin',
  );
  assert.doesNotMatch(
    stored.stderr,
    /VAULT_CLIENT_SECRET/,
    'a secret from stdin is not announced as from the variable',
  );
  await login(sb);
});

test('an empty stdin is refused naming --no-client-secret; both flags at once are refused', async () => {
  const sb = box();
  await addProvider(sb, server, confidentialProvider(server));
  const empty = await vault(sb, ['provider', 'set', 'acme', '--client-secret-stdin'], {}, '');
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /standard input was empty.*`vault provider set acme --no-client-secret`/);
  const both = await vault(sb, ['provider', 'set', 'acme', '--client-secret-stdin', '--no-client-secret'], {}, 'x');
  assert.equal(both.code, 2, both.stderr);
  assert.ok(secretStored(sb), 'a refused command removed nothing');
});

test('add --replace drops a stored secret it is not given again, and says so', async () => {
  const sb = box();
  await addProvider(sb, server, confidentialProvider(server));
  assert.ok(secretStored(sb));
  const replaced = ok(
    await vault(sb, [...providerAddArgs(server, LIFECYCLE_PROVIDER), '--replace']),
    'provider add --replace',
  );
  assert.match(replaced.stderr, /^Removed the client secret of acme from .*credentials\.json \(--replace/m);
  assert.ok(!secretStored(sb));
  // The public client the replacement names works without it.
  await login(sb);

  // Given again, it stays.
  ok(
    await vault(
      sb,
      [...providerAddArgs(server, confidentialProvider(server)), '--replace'],
      {},
      server.confidentialClientSecret,
    ),
    'replace with the secret',
  );
  assert.ok(secretStored(sb));
});

test('logout with a wrong secret: revocation fails with the fix, the local login is removed (exit 4)', async () => {
  const sb = box();
  await addProvider(sb, server, confidentialProvider(server));
  await login(sb);
  ok(await vault(sb, ['provider', 'set', 'acme', '--client-secret-stdin'], {}, 'not-the-secret'), 'set wrong secret');
  const r = await vault(sb, ['logout', 'acme']);
  assert.equal(r.code, 4, r.stderr);
  const error = ERROR_LINE.exec(r.stderr)?.[0] ?? '';
  assert.match(error, /^error: revocation at acme failed: invalid_client/);
  assert.match(error, /store it with `printf %s "\$SECRET" \| vault provider set acme --client-secret-stdin`/);
  assert.match(error, /the local login is removed/);
  assert.deepEqual(
    Object.keys(fileEntries(sb)).filter((k) => !k.startsWith('cs:')),
    [],
    'the login is gone from the store',
  );
});

test('provider add names the next step (vault login) on a terminal only', async () => {
  const sb = box();
  const piped = ok(await vault(sb, providerAddArgs(server, LIFECYCLE_PROVIDER)), 'add, piped');
  assert.doesNotMatch(piped.stderr, /Next:/);
  const terminal = onTerminal([...providerAddArgs(server, { ...LIFECYCLE_PROVIDER, name: 'corp' })], sb.env);
  assert.equal(await terminal.exited, 0, terminal.screen());
  assert.match(terminal.screen(), /Added provider corp in .*config\.toml\. Next: vault login corp\n/);
});
