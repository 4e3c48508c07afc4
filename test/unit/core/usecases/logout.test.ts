// The logout use case in-process: what is revoked, what is removed, what the user is told.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Provider } from '../../../../src/core/config/providers.js';
import { accessKey, loginKey } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import { logout, type LogoutDeps } from '../../../../src/core/usecases/logout.js';
import { fileLocks } from '../../../../src/infra/adapters.js';
import { memoryStore, type MemoryStore } from '../../../support/fakes.js';

const lockDir = mkdtempSync(join(tmpdir(), 'vault-logout-'));
after(() => rmSync(lockDir, { recursive: true, force: true }));

const ACME: Provider = { name: 'acme', issuer: 'https://login.acme.test', client_id: 'vault-cli' };
const LOGIN = JSON.stringify({ v: 1, refresh_token: 'rt-1', scope: 'openid', identity: 'alice', obtained_at: 1 });
const ACCESS = JSON.stringify({
  v: 1,
  access_token: 'at-1',
  token_type: 'Bearer',
  expires_at: null,
  issued_at: 1,
  scope: '',
});

async function world(revoke: LogoutDeps['revoke']) {
  const store: MemoryStore = await memoryStore({
    [loginKey('acme', 'default')]: LOGIN,
    [accessKey('acme', 'default')]: ACCESS,
    [accessKey('acme', 'default', ['api'])]: ACCESS,
    [loginKey('acme', 'work')]: LOGIN,
  });
  const said: string[] = [];
  const revoked: string[] = [];
  const deps: LogoutDeps = {
    store,
    locks: fileLocks(lockDir, () => {}),
    debug: () => {},
    say: (line) => void said.push(line),
    revoke: async (provider, token, hint) => {
      revoked.push(`${provider.name} ${hint} ${token}`);
      return revoke(provider, token, hint);
    },
    describe: async (failure) => (failure as Error).message,
    critical: (_done, fn) => fn(),
  };
  return { store, said, revoked, deps };
}

test('revokes the refresh token, removes the login and its cached tokens, and leaves other accounts', async () => {
  const w = await world(async () => true);
  assert.equal(await logout(w.deps, { name: 'acme', provider: ACME, account: 'default', revoke: true }), true);
  assert.deepEqual(w.revoked, ['acme refresh_token rt-1']);
  assert.deepEqual(await w.store.keys(''), [loginKey('acme', 'work')]);
  assert.deepEqual(w.said, [
    'Revoked the refresh token at acme.',
    'Logged out of acme as alice: removed 3 entries from memory.',
  ]);
});

test('--no-revoke removes locally without asking the provider', async () => {
  const w = await world(async () => true);
  await logout(w.deps, { name: 'acme', provider: ACME, account: 'work', revoke: false });
  assert.deepEqual(w.revoked, []);
  assert.equal(await w.store.get(loginKey('acme', 'work')), null);
  assert.equal(w.said[0], 'not revoked: --no-revoke');
});

test('a failed revocation still removes the login, then reports a temporary error', async () => {
  const w = await world(async () => {
    throw new Error('503 Service Unavailable');
  });
  await assert.rejects(
    logout(w.deps, { name: 'acme', provider: ACME, account: 'default', revoke: true }),
    (e: unknown) => e instanceof VaultError && e.kind === 'temporary' && /503 Service Unavailable/.test(e.message),
  );
  assert.equal(await w.store.get(loginKey('acme', 'default')), null);
  assert.match(w.said.at(-1)!, /^Logged out of acme as alice: removed 3 entries/);
});

test('a provider no longer configured: its entries go, with a note and no revocation', async () => {
  const w = await world(async () => true);
  await logout(w.deps, { name: 'acme', provider: undefined, account: 'work', revoke: true });
  assert.deepEqual(w.revoked, []);
  assert.equal(await w.store.get(loginKey('acme', 'work')), null);
  assert.match(w.said[0]!, /^note: acme is not configured/);
  assert.match(w.said[1]!, /^not revoked: acme is no longer configured/);
});

test('nothing stored: resolves false and removes nothing', async () => {
  const w = await world(async () => true);
  assert.equal(await logout(w.deps, { name: 'acme', provider: ACME, account: 'ci', revoke: true }), false);
  assert.equal((await w.store.keys('')).length, 4);
  assert.deepEqual(w.said, []);
});
