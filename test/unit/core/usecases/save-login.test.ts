// saveLogin in-process: a new login replaces the old one in one commit, and revokes the refresh
// token it replaced only where the provider revokes one token at a time (`revoke_replaced`).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Provider } from '../../../../src/core/config/providers.js';
import { accessKey, loginKey, type LoginRecord } from '../../../../src/core/credentials.js';
import { saveLogin, type SaveLoginDeps } from '../../../../src/core/usecases/save-login.js';
import { MemoryStore, fakeClock, fakeLocks } from '../../../support/fakes.js';

const PROVIDER: Provider = { name: 'acme', client_id: 'vault-public', issuer: 'https://issuer.test' };
const RESULT = {
  access_token: 'at-new',
  token_type: 'Bearer',
  refresh_token: 'rt-new',
  expires_at: Date.UTC(2027, 0, 1),
};

async function relogin(provider: Provider, revoke: (token: string, store: MemoryStore) => Promise<void>) {
  const store = new MemoryStore();
  const old: LoginRecord = { v: 1, refresh_token: 'rt-old', scope: 'openid', obtained_at: 0 };
  await store.set(loginKey('acme', 'default'), JSON.stringify(old));
  await store.set(accessKey('acme', 'default', ['email']), '{"v":1}');
  const warnings: string[] = [];
  const deps: SaveLoginDeps = {
    store,
    locks: fakeLocks(),
    clock: fakeClock(),
    debug: () => {},
    warn: (m) => warnings.push(m),
    revoke: (token) => revoke(token, store),
  };
  await saveLogin(provider, 'default', RESULT, ['openid'], deps);
  const stored = JSON.parse((await store.get(loginKey('acme', 'default')))!) as LoginRecord;
  return { store, stored, warnings };
}

test('a provider with revoke_replaced has the replaced refresh token revoked after the new login is stored', async () => {
  const revoked: string[] = [];
  const { store, stored, warnings } = await relogin({ ...PROVIDER, revoke_replaced: true }, async (t, held) => {
    const now = JSON.parse((await held.get(loginKey('acme', 'default')))!) as LoginRecord;
    revoked.push(`${t} while ${now.refresh_token} is stored`);
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(revoked, ['rt-old while rt-new is stored']);
  assert.equal(stored.refresh_token, 'rt-new');
  assert.equal(
    await store.get(accessKey('acme', 'default', ['email'])),
    null,
    "the old grant's cached tokens are gone",
  );
});

test('without revoke_replaced nothing is revoked', async () => {
  const revoked: string[] = [];
  await relogin(PROVIDER, async (t) => void revoked.push(t));
  assert.deepEqual(revoked, []);
});

test('a failed revocation is a warning: the new login stays', async () => {
  const { stored, warnings } = await relogin({ ...PROVIDER, revoke_replaced: true }, async () => {
    throw new Error('revocation endpoint unreachable');
  });
  assert.equal(stored.refresh_token, 'rt-new');
  assert.match(warnings.join('\n'), /not revoked at acme: revocation endpoint unreachable/);
});
