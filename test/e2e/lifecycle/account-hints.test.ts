// Every command vault suggests for a login of a non-default account carries `-a ACCOUNT`: following
// a hint that dropped it would act on the default login instead. The main hint-producing paths are
// driven for account `ci` against the real server, and every `vault …` in their stderr is checked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { sandbox, type RunResult, type Sandbox, vault } from '../../support/cli.js';
import { plantEntry } from '../../support/cli-setup.js';
import { addProvider, login } from '../../support/vault-sandbox.js';
import { fileEntries, ok, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';

let server: TestServer;
let sb: Sandbox;
const hints: { args: string[]; command: string }[] = [];

before(async () => {
  server = await startTestServer();
  sb = sandbox({ VAULT_STORE: 'file' });
});
after(async () => {
  await server.close();
  sb.cleanup();
});

/** Runs vault and keeps every backticked `vault …` command its stderr suggests. */
async function run(args: string[], expected: number | 'any'): Promise<RunResult> {
  const r = await vault(sb, args);
  if (expected !== 'any') assert.equal(r.code, expected, `vault ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  for (const [, command] of r.stderr.matchAll(/`(vault [^`]+)`/g)) hints.push({ args, command: command! });
  return r;
}

test('the hints of login, token, status, provider, migrate, logout and export name the account', async () => {
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  // Login required.
  await run(['token', 'acme', '-a', 'ci'], 3);
  await run(['status', 'acme', '-a', 'ci'], 3);
  await login(sb, 'ci');
  // A scope the login was not granted.
  const scope = await run(['token', 'acme', '-a', 'ci', '--scope', 'api:read'], 1);
  assert.match(scope.stderr, /was not granted api:read/);
  // Logins issued to another client; a provider that still has logins.
  await run(['provider', 'set', 'acme', '--client-id', server.confidentialClientId], 0);
  await run(['provider', 'set', 'acme', '--client-id', server.publicClientId], 0);
  await run(['provider', 'remove', 'acme'], 2);
  // Migrate advice (a copy lives in two places).
  await run(['store', 'migrate', '--to', 'keychain', 'acme', '-a', 'ci', '--keep'], 0);
  ok(await vault(sb, ['logout', 'acme', '-a', 'ci', '--no-revoke'], { VAULT_STORE: 'keychain' }), 'keychain copy');
  // A damaged cached token (status), then a refresh token the server rejected.
  const refreshToken = fileEntries(sb)['rt:acme:ci']!.refresh_token as string;
  plantEntry(sb, 'at:acme:ci:*', '{"v":1,"access_token":');
  await run(['status'], 0);
  await server.revokeGrantOf(refreshToken);
  await run(['token', 'acme', '-a', 'ci', '--force-refresh'], 3);
  await run(['status', '--json'], 0);
  await run(['logout', 'acme', '-a', 'ci'], 0);
  // Export: its warning or its refusal, whichever this login gets (after a rotation).
  await login(sb, 'ci');
  ok(await vault(sb, ['token', 'acme', '-a', 'ci', '--force-refresh']), 'rotate');
  await run(['export', 'acme', '-a', 'ci'], 'any');
  await run(['export', 'acme', '-a', 'ci', '--force'], 'any');

  const seen = hints.map((h) => h.command);
  for (const expected of [
    'vault login acme -a ci',
    'vault token acme -a ci',
    'vault logout acme -a ci',
    'vault logout acme -a ci --no-revoke',
  ])
    assert.ok(seen.includes(expected), `no hint was ${expected}; hints: ${seen.join(' | ')}`);
  assert.ok(
    seen.some((c) => /^vault login acme -a ci --scope .*--scope api:read/.test(c)),
    `the scope hint: ${seen.join(' | ')}`,
  );
  const forLogin = /^vault (login|logout|token|export|status|env|exec|store migrate)\b/;
  const dropped = hints.filter(
    (h) => forLogin.test(h.command) && / acme\b/.test(h.command) && !/ -a ci\b/.test(h.command),
  );
  assert.deepEqual(
    dropped.map((h) => `vault ${h.args.join(' ')} → ${h.command}`),
    [],
    'hints that drop the account',
  );
});
