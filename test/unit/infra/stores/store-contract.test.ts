// One behavioural contract for every SecretStore the CLI can write to. Each backend must keep
// exactly what it was given, tell "absent" from "present", and (except memory) share its data
// with a second instance over the same backing — which is what a second `vault` process sees.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../../src/infra/stores/memory-store.js';
import { FileStore } from '../../../../src/infra/stores/file-store.js';
import { KeyringStore } from '../../../../src/infra/stores/keyring-store.js';
import type { SecretStore } from '../../../../src/core/ports.js';

interface Backing {
  /** A store over the backing. Called twice when `shared`: both must see the same data. */
  open(): SecretStore;
  /** Whether two `open()` results share their data (false for the in-process memory store). */
  shared: boolean;
  cleanup(): Promise<void>;
}

// 2000 bytes exactly, mixing ASCII and multi-byte characters (a JWT-sized refresh token and more).
const LONG_VALUE = (() => {
  const unit = 'eyJhbGciOi-ß-€-🔑_';
  let s = '';
  while (Buffer.byteLength(s + unit) <= 2000) s += unit;
  while (Buffer.byteLength(s) < 2000) s += 'x';
  return s;
})();
const UNICODE_VALUE = 'pässwörd — 日本語 🔐 "quoted" \\ back\nnew line';

function storeContract(name: string, makeBacking: () => Backing): void {
  describe(`${name} store contract`, () => {
    const backing = makeBacking();
    after(() => backing.cleanup());

    test('a key never written reads as null', async () => {
      const store = backing.open();
      assert.equal(await store.get('rt:never-written:default'), null);
    });

    test('set then get returns the value unchanged, including unicode and a 2000-byte value', async () => {
      assert.equal(Buffer.byteLength(LONG_VALUE), 2000);
      const store = backing.open();
      await store.set('rt:unicode:default', UNICODE_VALUE);
      await store.set('rt:long:default', LONG_VALUE);
      assert.equal(await store.get('rt:unicode:default'), UNICODE_VALUE);
      assert.equal(await store.get('rt:long:default'), LONG_VALUE);
    });

    test('set over an existing key replaces its value', async () => {
      const store = backing.open();
      await store.set('rt:overwrite:default', 'first');
      await store.set('rt:overwrite:default', 'second');
      assert.equal(await store.get('rt:overwrite:default'), 'second');
    });

    test('delete reports true for a stored key, then false, and the key reads as null', async () => {
      const store = backing.open();
      await store.set('rt:delete-me:default', 'value');
      assert.equal(await store.delete('rt:delete-me:default'), true);
      assert.equal(await store.get('rt:delete-me:default'), null);
      assert.equal(await store.delete('rt:delete-me:default'), false);
    });

    test('keys(prefix) lists only keys starting with the prefix, sorted', async () => {
      const store = backing.open();
      // Written out of order, with near-misses: the prefix elsewhere in the key, a longer provider.
      for (const key of ['at:kp:b:*', 'at:kp:a:openid', 'rt:kp:a', 'at:kp:a:*', 'at:kpx:a:*', 'xat:kp:a:*']) {
        await store.set(key, 'v');
      }
      assert.deepEqual(await store.keys('at:kp:a:'), ['at:kp:a:*', 'at:kp:a:openid']);
      assert.deepEqual(await store.keys('at:kp:'), ['at:kp:a:*', 'at:kp:a:openid', 'at:kp:b:*']);
      assert.deepEqual(await store.keys('at:none:'), []);
      await store.delete('at:kp:a:*');
      assert.deepEqual(await store.keys('at:kp:a:'), ['at:kp:a:openid']);
    });

    if (backing.shared) {
      test('a second store over the same backing sees what the first wrote and deleted', async () => {
        const writer = backing.open();
        await writer.set('rt:shared:default', UNICODE_VALUE);
        await writer.set('rt:shared:gone', 'x');
        await writer.delete('rt:shared:gone');
        const reader = backing.open();
        assert.equal(await reader.get('rt:shared:default'), UNICODE_VALUE);
        assert.equal(await reader.get('rt:shared:gone'), null);
        assert.deepEqual(await reader.keys('rt:shared:'), ['rt:shared:default']);
      });
    }
  });
}

storeContract('memory', () => {
  const store = new MemoryStore();
  return { open: () => store, shared: false, cleanup: async () => {} };
});

function fileBacking(passphrase: string | undefined): Backing {
  const dir = mkdtempSync(join(tmpdir(), 'vault-store-contract-'));
  return {
    open: () => new FileStore(join(dir, 'data', 'credentials.json'), passphrase === undefined ? {} : { passphrase }),
    shared: true,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

storeContract('file (plain)', () => fileBacking(undefined));
storeContract('file (encrypted)', () => fileBacking('correct horse battery staple'));

storeContract('keychain (Secret Service)', () => {
  // CI must exercise the real keychain: without a session bus this is a failure, not a skip.
  // Run the suite through `sh scripts/with-keyring.sh`, which provides a throwaway gnome-keyring.
  assert.ok(
    process.env.DBUS_SESSION_BUS_ADDRESS,
    'DBUS_SESSION_BUS_ADDRESS is not set: run the tests under `sh scripts/with-keyring.sh` so the keychain contract runs',
  );
  const service = `vault-test-${process.pid}-${Date.now()}`;
  return {
    open: () => new KeyringStore(service),
    shared: true,
    cleanup: async () => {
      const store = new KeyringStore(service);
      for (const key of await store.keys('')) await store.delete(key);
      assert.deepEqual(await store.keys(''), [], 'test entries left in the keychain');
    },
  };
});
