// What vault keeps in a store and how it finds it again: the keys, the listing of logins, a damaged
// record reported by where it is, and the CI refresh token read as a login of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CI_SOURCE,
  accessKey,
  ciLogin,
  listLogins,
  loginKey,
  readAccess,
  readLogin,
} from '../../../src/core/credentials.js';
import { StoreError } from '../../../src/core/errors.js';
import { MemoryStore } from '../../../src/infra/stores/memory-store.js';

const login = JSON.stringify({ v: 1, refresh_token: 'rt', scope: 'openid', obtained_at: 1 });

test('scope sets are cached apart, in any order and without repeats; no scopes is the full grant', () => {
  assert.equal(accessKey('acme', 'work', ['b', 'a', 'b']), accessKey('acme', 'work', ['a', 'b']));
  assert.notEqual(accessKey('acme', 'work', ['a']), accessKey('acme', 'work'));
  assert.equal(accessKey('acme', 'work', []), accessKey('acme', 'work'));
});

test('logins are listed per store, by provider and by account, never from other kinds of entries', async () => {
  const store = new MemoryStore();
  for (const [p, a] of [
    ['acme', 'default'],
    ['acme', 'work'],
    ['acme-dev', 'default'],
  ] as const)
    await store.set(loginKey(p, a), login);
  await store.set(accessKey('other', 'default'), '{}');
  await store.set('cs:other', '{}');
  assert.deepEqual(await listLogins(store, {}), [
    { provider: 'acme-dev', account: 'default' },
    { provider: 'acme', account: 'default' },
    { provider: 'acme', account: 'work' },
  ]);
  assert.deepEqual(await listLogins(store, { provider: 'acme' }), [
    { provider: 'acme', account: 'default' },
    { provider: 'acme', account: 'work' },
  ]);
  assert.deepEqual(await listLogins(store, { account: 'work' }), [{ provider: 'acme', account: 'work' }]);
});

test('a damaged login is an error naming where it is; a damaged cached token is a miss, reported', async () => {
  const store = new MemoryStore();
  await store.set(loginKey('acme', 'default'), '{"v":1');
  await store.set(accessKey('acme', 'default'), '{"v":9}');
  await assert.rejects(
    readLogin(store, 'acme', 'default'),
    (e) => e instanceof StoreError && e.message.includes(store.describe(loginKey('acme', 'default'))),
  );
  const reported: string[] = [];
  assert.equal(await readAccess(store, accessKey('acme', 'default'), (m) => reported.push(m)), undefined);
  assert.deepEqual(reported, [
    `${store.describe(accessKey('acme', 'default'))} was written by a newer vault (format v9)`,
  ]);
  assert.equal(await readLogin(store, 'acme', 'work'), undefined);
});

test("CI's refresh token is a login of its own, read from VAULT_<NAME>_REFRESH_TOKEN", () => {
  const env = { VAULT_MY_API_REFRESH_TOKEN: 'pasted\n', VAULT_EMPTY_REFRESH_TOKEN: ' ' };
  assert.deepEqual(ciLogin(env, 'my-api'), {
    v: 1,
    refresh_token: 'pasted',
    scope: '',
    obtained_at: 0,
    from_env: true,
  });
  assert.equal(ciLogin(env, 'empty'), undefined);
  assert.equal(ciLogin(env, 'acme'), undefined);
  assert.ok(!CI_SOURCE.includes('pasted'));
});
