// The fleet store's sealing: a record opens only under the key, record key, prefix and database it
// was written with, with the full 16-byte GCM tag; records written before the prefix and database
// were bound (v1) still open, and are written back in the current form.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { StoreError } from '../../../../src/core/errors.js';
import { sealer } from '../../../../src/infra/stores/seal.js';

const key = randomBytes(32);
const here = { prefix: 'vault:', db: 0 };
const WHERE = 'entry "vault:rt:acme:default" of redis://127.0.0.1:6379/0';

/** A record as vault sealed it before the prefix and database were bound: key id and record key only. */
function sealedV1(recordKey: string, plain: string): string {
  const keyId = createHmac('sha256', key).update('vault store key id').digest('hex').slice(0, 16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(`${keyId}\n${recordKey}`, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', keyId, iv.toString('base64'), data.toString('base64'), cipher.getAuthTag().toString('base64')].join(
    ':',
  );
}

function refusesToOpen(open: () => string, pattern: RegExp): void {
  assert.throws(open, (error: unknown) => error instanceof StoreError && pattern.test(error.message));
}

describe('sealed fleet records', () => {
  test('a record opens where it was written, with its own record key', async () => {
    const s = await sealer(key, here);
    const sealed = s.seal('rt:acme:default', 'refresh-token-1');
    assert.match(sealed, /^v2:[0-9a-f]{16}:/);
    assert.equal(s.open('rt:acme:default', sealed, WHERE), 'refresh-token-1');
    refusesToOpen(() => s.open('rt:acme:ci', sealed, WHERE), /does not open with VAULT_STORE_KEY/);
  });

  test('a record copied under another prefix or into another database does not open', async () => {
    const sealed = (await sealer(key, here)).seal('rt:acme:default', 'refresh-token-1');
    for (const elsewhere of [
      { prefix: 'other:', db: 0 },
      { prefix: 'vault:', db: 1 },
      { prefix: '', db: 0 },
    ]) {
      const s = await sealer(key, elsewhere);
      refusesToOpen(
        () => s.open('rt:acme:default', sealed, WHERE),
        /^entry "vault:rt:acme:default" of redis:\/\/127\.0\.0\.1:6379\/0 does not open with VAULT_STORE_KEY: it was altered, or moved from another entry, prefix \(VAULT_REDIS_PREFIX\) or database$/,
      );
    }
  });

  test('the prefix and the record key cannot be traded for each other', async () => {
    const sealed = (await sealer(key, { prefix: 'vault:rt', db: 0 })).seal(':acme:default', 'x');
    const s = await sealer(key, { prefix: 'vault:', db: 0 });
    refusesToOpen(() => s.open('rt:acme:default', sealed, WHERE), /does not open/);
  });

  test('a record sealed before the prefix and database were bound (v1) still opens', async () => {
    const s = await sealer(key, here);
    assert.equal(s.open('rt:acme:default', sealedV1('rt:acme:default', 'old-login'), WHERE), 'old-login');
    refusesToOpen(() => s.open('rt:acme:ci', sealedV1('rt:acme:default', 'old-login'), WHERE), /does not open/);
  });

  test('the GCM tag is 16 bytes, and a record with a shortened tag does not open', async () => {
    const s = await sealer(key, here);
    const sealed = s.seal('rt:acme:default', 'refresh-token-1');
    const parts = sealed.split(':');
    assert.equal(Buffer.from(parts[4]!, 'base64').length, 16);
    for (const bytes of [12, 8, 4]) {
      parts[4] = Buffer.from(sealed.split(':')[4]!, 'base64').subarray(0, bytes).toString('base64');
      refusesToOpen(() => s.open('rt:acme:default', parts.join(':'), WHERE), /does not open/);
    }
    const old = sealedV1('rt:acme:default', 'old-login').split(':');
    old[4] = Buffer.from(old[4]!, 'base64').subarray(0, 12).toString('base64');
    refusesToOpen(() => s.open('rt:acme:default', old.join(':'), WHERE), /does not open/);
  });
});
