// `vault logout`: RFC 7009 revocation at the real server, then nothing of the account left in the
// store (the keychain and the runtime directory themselves are inspected), other accounts
// untouched; a revocation endpoint that is down still removes the local login and exits 4.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { lockName } from '../../../src/core/usecases/refresh-lock.js';
import { acquireLock } from '../../../src/infra/lock.js';
import { start, type Running } from '../../support/world.js';
import { sandbox, type Sandbox, vault } from '../../support/cli.js';
import { addProvider, login } from '../../support/vault-sandbox.js';
import { confidentialProvider, fileEntries, ok, sleep, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';

type Keyring = typeof import('@napi-rs/keyring');
const keyring = createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;

let server: TestServer;
const sandboxes: Sandbox[] = [];

function fresh(extra: NodeJS.ProcessEnv = { VAULT_STORE: 'file' }): Sandbox {
  const sb = sandbox(extra);
  sandboxes.push(sb);
  return sb;
}

before(async () => {
  server = await startTestServer({ accessTokenTtl: 60 });
});
after(async () => {
  await server.close();
  for (const sb of sandboxes) sb.cleanup();
});

/**
 * The keychain entries of a sandbox's service, by key, plus the keys of the access tokens the
 * keychain store keeps in the runtime directory (file names: the key without `at:`, base64url).
 */
function keychain(sb: Sandbox): Map<string, string> {
  const entries = new Map(keyring.findCredentials(sb.env.VAULT_KEYRING_SERVICE!).map((c) => [c.account, c.password]));
  const dir = join(sb.env.XDG_RUNTIME_DIR!, 'vault', 'access');
  for (const name of existsSync(dir) ? readdirSync(dir) : [])
    entries.set(`at:${Buffer.from(name, 'base64url').toString('utf8')}`, readFileSync(join(dir, name), 'utf8'));
  return entries;
}

/** A provider with explicit endpoints at the test server, so the revocation endpoint can be chosen. */
async function addExplicitProvider(sb: Sandbox, revocationEndpoint?: string): Promise<void> {
  await addProvider(sb, server, {
    endpoints: {
      authorization: `${server.issuer}/auth`,
      token: `${server.issuer}/token`,
      revocation: revocationEndpoint,
    },
    scopes: ['openid', 'offline_access'],
  });
}

function accountKeys(keys: Iterable<string>, account: string): string[] {
  return [...keys].filter((k) => k === `rt:acme:${account}` || k.startsWith(`at:acme:${account}:`));
}

function refreshTokenIn(raw: string | undefined): string {
  const token = raw === undefined ? undefined : (JSON.parse(raw) as { refresh_token?: string }).refresh_token;
  assert.ok(token, 'a refresh token is stored');
  return token;
}

test('keychain: the refresh token is revoked, the account leaves no entry behind, the other account keeps working', async () => {
  const sb = fresh({ VAULT_STORE: 'keychain' });
  await addProvider(sb, server, confidentialProvider(server));
  await login(sb);
  await login(sb, 'work');
  ok(await vault(sb, ['token', 'acme', '--scope', 'openid']), 'token --scope openid');

  const before = keychain(sb);
  assert.ok(accountKeys(before.keys(), 'default').length >= 3, `entries before: ${[...before.keys()].join(', ')}`);
  const refreshToken = refreshTokenIn(before.get('rt:acme:default'));
  assert.equal((await server.introspect(refreshToken)).active, true);
  const revocations = server.counts.revocations;

  const out = ok(await vault(sb, ['logout', 'acme']), 'logout');
  assert.match(out.stderr, /Revoked the refresh token at acme/);
  assert.match(out.stderr, /Logged out of acme/);
  assert.equal(out.stdout, '');
  assert.equal(server.counts.revocations, revocations + 1);
  assert.equal((await server.introspect(refreshToken)).active, false);

  const left = keychain(sb);
  assert.deepEqual(accountKeys(left.keys(), 'default'), []);
  assert.ok(left.has('rt:acme:work'), "the other account's login stays");
  assert.ok(left.has('cs:acme'), 'the client secret belongs to the provider and stays');
  ok(await vault(sb, ['token', 'acme', '-a', 'work', '--force-refresh']), 'token -a work after logging out default');
  const gone = await vault(sb, ['token', 'acme']);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /vault login acme/);
});

test('a revocation endpoint answering 503: local data removed all the same, the failure reported, exit 4', async () => {
  let hits = 0;
  const down: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
  });
  down.listen(0, '127.0.0.1');
  await once(down, 'listening');
  try {
    const sb = fresh();
    await addExplicitProvider(sb, `http://127.0.0.1:${(down.address() as AddressInfo).port}/token/revocation`);
    await login(sb);
    const refreshToken = refreshTokenIn(JSON.stringify(fileEntries(sb)['rt:acme:default']));

    const out = await vault(sb, ['logout', 'acme']);
    assert.equal(out.code, 4, out.stderr);
    assert.match(out.stderr, /revocation at acme failed: HTTP 503/);
    assert.match(out.stderr, /Logged out of acme/);
    assert.ok(hits >= 1);
    assert.deepEqual(accountKeys(Object.keys(fileEntries(sb)), 'default'), []);
    assert.equal((await server.introspect(refreshToken)).active, true, 'honestly: the token was not revoked');
  } finally {
    down.close();
    down.closeAllConnections();
  }
});

test('--no-revoke deletes locally and sends no revocation request', async () => {
  const sb = fresh();
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  await login(sb);
  const refreshToken = refreshTokenIn(JSON.stringify(fileEntries(sb)['rt:acme:default']));
  const revocations = server.counts.revocations;
  const out = ok(await vault(sb, ['logout', 'acme', '--no-revoke']), 'logout --no-revoke');
  assert.match(out.stderr, /not revoked: --no-revoke/);
  assert.equal(server.counts.revocations, revocations);
  assert.equal((await server.introspect(refreshToken)).active, true);
  assert.deepEqual(accountKeys(Object.keys(fileEntries(sb)), 'default'), []);
});

test('a provider without a revocation endpoint: said so, local data removed, exit 0', async () => {
  const sb = fresh();
  await addExplicitProvider(sb);
  await login(sb);
  const revocations = server.counts.revocations;
  const out = ok(await vault(sb, ['logout', 'acme']), 'logout');
  assert.match(out.stderr, /not revoked: acme has no revocation endpoint/);
  assert.equal(server.counts.revocations, revocations);
  assert.deepEqual(accountKeys(Object.keys(fileEntries(sb)), 'default'), []);
});

test('logging out of nothing is a no-op success with a note; an unknown provider is a usage error', async () => {
  const sb = fresh();
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  const out = ok(await vault(sb, ['logout', 'acme', '-a', 'work']), 'logout of nothing');
  assert.match(out.stderr, /Not logged in to acme \(account work\): nothing to remove/);
  assert.equal((await vault(sb, ['logout', 'nosuch'])).code, 2);
});

test('a provider removed from config.toml by hand: logout still removes its stored entries, with a note', async () => {
  const sb = fresh();
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  await login(sb);
  ok(await vault(sb, ['token', 'acme', '--scope', 'openid']), 'token --scope');
  writeFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml'), '', { mode: 0o600 });
  const out = ok(await vault(sb, ['logout', 'acme']), 'logout of a provider no longer configured');
  assert.match(out.stderr, /^note: acme is not configured/m);
  assert.match(out.stderr, /not revoked: acme is no longer configured/);
  assert.match(out.stderr, /removed 3 entries/);
  assert.deepEqual(Object.keys(fileEntries(sb)), []);
  const again = await vault(sb, ['logout', 'acme']);
  assert.equal(again.code, 2, 'with nothing stored, an unknown provider is a usage error again');
  assert.match(again.stderr, /^error: .*acme/m);
});

test('a corrupt login record is removed (it cannot be revoked)', async () => {
  const sb = fresh();
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  await login(sb);
  const file = join(sb.env.VAULT_DATA_DIR!, 'credentials.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, string> };
  doc.entries['rt:acme:default'] = '{"v":1, truncated';
  writeFileSync(file, JSON.stringify(doc));
  assert.match(
    ok(await vault(sb, ['status']), 'status').stdout,
    /^acme\s+default\s.*corrupt: run `vault logout acme`/m,
    'status reports the corrupt entry',
  );
  const out = ok(await vault(sb, ['logout', 'acme']), 'logout');
  assert.match(out.stderr, /not revoked: .*corrupt/);
  assert.deepEqual(accountKeys(Object.keys(fileEntries(sb)), 'default'), []);
});

test('logout waits while another process holds the refresh lock, so no refresh can rotate what it revokes', async () => {
  const sb = fresh();
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  await login(sb);
  const revocations = server.counts.revocations;
  // This process holds the lock as a refreshing `vault token` would (kept fresh while held).
  const lock = await acquireLock(join(sb.env.VAULT_DATA_DIR!, 'locks'), lockName('acme', 'default'));
  let running: Running;
  try {
    running = start(['logout', 'acme'], { ...sb.env, VAULT_DEBUG: '1' });
    let finished = false;
    void running.done.then(() => (finished = true));
    await running.line(/lock acme\.default: acquiring/);
    await sleep(1500);
    assert.equal(finished, false, 'logout ended while the lock was held');
    assert.ok(fileEntries(sb)['rt:acme:default'], 'the login was removed while the lock was held');
    assert.equal(server.counts.revocations, revocations, 'the refresh token was revoked while the lock was held');
  } finally {
    await lock.release();
  }
  const r = ok(await running.done, 'logout');
  assert.match(r.stderr, /Revoked the refresh token at acme\./);
  assert.equal(server.counts.revocations, revocations + 1);
  assert.deepEqual(accountKeys(Object.keys(fileEntries(sb)), 'default'), []);
});
