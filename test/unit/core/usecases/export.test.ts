// The export use case in-process: which refresh tokens may leave the store, and whether the login
// stays behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { accessKey, loginKey } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import type { Provider } from '../../../../src/core/config/providers.js';
import { exportLogin, type ExportRequest } from '../../../../src/core/usecases/export.js';
import { fakeLocks, memoryStore, type MemoryStore } from '../../../support/fakes.js';

const record = (extra: object = {}) =>
  JSON.stringify({ v: 1, refresh_token: 'rt-1', scope: 'openid', obtained_at: 1, ...extra });
const kind = (k: VaultError['kind'], pattern: RegExp) => (e: unknown) =>
  e instanceof VaultError && e.kind === k && pattern.test(e.message);
const ACME: Provider = { name: 'acme', issuer: 'https://acme.test', client_id: 'cli' };

function run(store: MemoryStore, req: Partial<ExportRequest> & { account: string }, printed: string[] = []) {
  return exportLogin(
    {
      store,
      locks: fakeLocks(),
      debug: () => {},
      print: async (token) => void printed.push(token),
      critical: (_done, fn) => fn(),
    },
    { provider: ACME, keep: false, force: false, ...req },
  );
}

test('a rotating provider: the token is printed, then the login and its cached access tokens are removed', async () => {
  const store = await memoryStore({
    [loginKey('acme', 'ci')]: record(),
    [accessKey('acme', 'ci', ['openid'])]: JSON.stringify({ v: 1, access_token: 'at' }),
    [loginKey('acme', 'default')]: record({ refresh_token: 'rt-other' }),
  });
  const printed: string[] = [];
  assert.deepEqual(await run(store, { account: 'ci' }, printed), { kept: false });
  assert.deepEqual(printed, ['rt-1']);
  assert.deepEqual(await store.keys(''), [loginKey('acme', 'default')], 'only the other account is left');
});

test('a login is not removed when the output did not take the token', async () => {
  const store = await memoryStore({ [loginKey('acme', 'default')]: record() });
  await assert.rejects(
    exportLogin(
      {
        store,
        locks: fakeLocks(),
        debug: () => {},
        print: async () => {
          throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        },
        critical: (_done, fn) => fn(),
      },
      { provider: ACME, account: 'default', keep: false, force: false },
    ),
    /EPIPE/,
  );
  assert.ok(await store.get(loginKey('acme', 'default')));
});

test('--keep on a rotating provider is refused before anything is printed; --keep --force keeps both', async () => {
  const store = await memoryStore({ [loginKey('acme', 'default')]: record() });
  const printed: string[] = [];
  await assert.rejects(
    run(store, { account: 'default', keep: true }, printed),
    kind('usage', /rotates refresh tokens.*vault store migrate.*`--keep --force`/),
  );
  assert.deepEqual(printed, []);
  assert.deepEqual(await run(store, { account: 'default', keep: true, force: true }, printed), {
    kept: true,
    rotating: true,
  });
  assert.deepEqual(printed, ['rt-1']);
  assert.ok(await store.get(loginKey('acme', 'default')));
});

test('a provider declared not to rotate keeps the login, unless this login has seen a rotation', async () => {
  const store = await memoryStore({
    [loginKey('acme', 'default')]: record(),
    [loginKey('acme', 'seen')]: record({ rotated: true }),
  });
  const steady = { ...ACME, rotates_refresh_tokens: false };
  assert.deepEqual(await run(store, { provider: steady, account: 'default' }), { kept: true, rotating: false });
  assert.ok(await store.get(loginKey('acme', 'default')));
  assert.deepEqual(await run(store, { provider: { ...ACME, preset: 'google' }, account: 'default' }), {
    kept: true,
    rotating: false,
  });
  assert.deepEqual(await run(store, { provider: steady, account: 'seen' }), { kept: false });
  assert.equal(await store.get(loginKey('acme', 'seen')), null);
});

test('no login, a rejected token, or no refresh token at all: nothing is exported', async () => {
  const store = await memoryStore({
    [loginKey('acme', 'old')]: record({ rejected_at: 2 }),
    [loginKey('gh', 'default')]: JSON.stringify({ v: 1, access_token: 'gho', scope: '', obtained_at: 1 }),
  });
  await assert.rejects(run(store, { account: 'work' }), kind('loginRequired', /run `vault login acme -a work`/));
  await assert.rejects(run(store, { account: 'old' }), kind('loginRequired', /rejected/));
  await assert.rejects(
    run(store, { provider: { ...ACME, name: 'gh' }, account: 'default' }),
    kind('usage', /no refresh token/),
  );
  assert.equal((await store.keys('')).length, 2, 'nothing removed');
});
