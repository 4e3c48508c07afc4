// The export use case in-process: which refresh tokens may leave the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loginKey } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import { exportRefreshToken } from '../../../../src/core/usecases/export.js';
import { memoryStore } from '../../../support/fakes.js';

const record = (extra: object = {}) =>
  JSON.stringify({ v: 1, refresh_token: 'rt-1', scope: 'openid', obtained_at: 1, ...extra });
const kind = (k: VaultError['kind'], pattern: RegExp) => (e: unknown) =>
  e instanceof VaultError && e.kind === k && pattern.test(e.message);

test('the stored refresh token is handed out as it is', async () => {
  const store = await memoryStore({ [loginKey('acme', 'default')]: record() });
  assert.equal(await exportRefreshToken(store, 'acme', 'default', false), 'rt-1');
});

test('a provider seen rotating refresh tokens is refused without force, then exported with it', async () => {
  const store = await memoryStore({ [loginKey('acme', 'ci')]: record({ rotated: true }) });
  await assert.rejects(exportRefreshToken(store, 'acme', 'ci', false), kind('usage', /rotates refresh tokens/));
  assert.equal(await exportRefreshToken(store, 'acme', 'ci', true), 'rt-1');
});

test('no login, a rejected token, or no refresh token at all: nothing is exported', async () => {
  const store = await memoryStore({
    [loginKey('acme', 'old')]: record({ rejected_at: 2 }),
    [loginKey('gh', 'default')]: JSON.stringify({ v: 1, access_token: 'gho', scope: '', obtained_at: 1 }),
  });
  await assert.rejects(
    exportRefreshToken(store, 'acme', 'work', true),
    kind('loginRequired', /run `vault login acme -a work`/),
  );
  await assert.rejects(exportRefreshToken(store, 'acme', 'old', true), kind('loginRequired', /rejected/));
  await assert.rejects(exportRefreshToken(store, 'gh', 'default', true), kind('usage', /no refresh token/));
});
