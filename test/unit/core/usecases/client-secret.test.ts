// The client secret of a confidential client: the stored one, else VAULT_CLIENT_SECRET, and a
// damaged entry said as such (where it lives, never what it holds).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clientSecretKey } from '../../../../src/core/credentials.js';
import { StoreError } from '../../../../src/core/errors.js';
import { readClientSecret } from '../../../../src/core/usecases/client-secret.js';
import { memoryStore } from '../../../support/fakes.js';

const stored = (secret: string) => ({ [clientSecretKey('acme')]: JSON.stringify({ v: 1, client_secret: secret }) });

test('the stored client secret wins over VAULT_CLIENT_SECRET', async () => {
  const store = await memoryStore(stored('cs-stored'));
  assert.equal(await readClientSecret(store, { VAULT_CLIENT_SECRET: 'cs-env' }, 'acme'), 'cs-stored');
});

test('without a stored secret, VAULT_CLIENT_SECRET; an empty one is none (a public client)', async () => {
  const store = await memoryStore(stored('cs-other'));
  assert.equal(await readClientSecret(store, { VAULT_CLIENT_SECRET: 'cs-env' }, 'github'), 'cs-env');
  assert.equal(await readClientSecret(store, { VAULT_CLIENT_SECRET: '' }, 'github'), undefined);
  assert.equal(await readClientSecret(store, {}, 'github'), undefined);
});

test('a damaged entry is a store error naming the entry, not a silent fall-back to the environment', async () => {
  const store = await memoryStore({ [clientSecretKey('acme')]: '{"v":1,"secret":"cs-typo"}' });
  await assert.rejects(readClientSecret(store, { VAULT_CLIENT_SECRET: 'cs-env' }, 'acme'), (error: Error) => {
    assert.ok(error instanceof StoreError);
    assert.match(error.message, /is corrupt \(no "client_secret"\)/);
    assert.doesNotMatch(error.message, /cs-typo/);
    return true;
  });
});
