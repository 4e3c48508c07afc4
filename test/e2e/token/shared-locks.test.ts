// Every process that uses a store takes that store's locks, whatever its session looks like: a
// desktop shell has XDG_RUNTIME_DIR, a cron job, an SSH session without pam_systemd or a container
// has not, and both use the same default data directory. Were their locks apart, two refreshes
// would run at once and the second would spend a rotated refresh token (the server then revokes
// the login, RFC 9700 §4.14.2), and file-store writers would lose each other's updates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { addProvider, expire, login, vaultSandbox, type StoreKind, type Vault } from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

/** A session like a cron job's: the same user, HOME and data directory, but no XDG_RUNTIME_DIR. */
const NO_RUNTIME_DIR = { XDG_RUNTIME_DIR: undefined };

/** A sandbox on the default data directory (`~/.local/share/vault`): no VAULT_DATA_DIR. */
async function defaultDataDir(
  kind: StoreKind,
  accounts: string[] = ['default'],
  env: NodeJS.ProcessEnv = {},
): Promise<Vault> {
  const v = vaultSandbox(kind, env);
  delete v.env.VAULT_DATA_DIR;
  await addProvider(v, server);
  for (const account of accounts) await login(v, account);
  return v;
}

for (const kind of ['file', 'keychain'] as StoreKind[]) {
  test(`expiry storms mixing sessions with and without XDG_RUNTIME_DIR make one refresh grant each (${kind} store)`, async () => {
    // The keychain store keeps access tokens in the runtime directory of the sessions that have
    // one (README, "Storage"): with them in the keychain for every session, the waiters of both
    // kinds read the winner's token, and the storm measures the shared refresh lock alone.
    const v = await defaultDataDir(kind, ['default'], kind === 'keychain' ? { VAULT_ACCESS_CACHE: 'store' } : {});
    try {
      for (let round = 1; round <= 3; round++) {
        await expire(v);
        const counts = { ...server.counts };
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => v.run(['token', 'acme'], i % 2 ? NO_RUNTIME_DIR : {})),
        );
        for (const r of results) assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
        assert.equal(
          new Set(results.map((r) => r.stdout)).size,
          1,
          `round ${round}: every process prints the same token`,
        );
        assert.equal(server.counts.refresh - counts.refresh, 1, `round ${round}: exactly one refresh grant`);
        assert.equal(server.counts.grantErrors, counts.grantErrors, `round ${round}: a refresh token was reused`);
        assert.equal(server.counts.grantRevoked, counts.grantRevoked, `round ${round}: the grant was revoked`);
      }
      const stored = (await v.readLogin())!.refresh_token!;
      assert.equal((await server.introspect(stored)).active, true, 'the stored refresh token is the live one');
    } finally {
      v.cleanup();
    }
  });
}

describe('the file store shared by both kinds of session', () => {
  test('refreshes of two accounts, one from each kind of session, never lose each other’s rotated refresh token', async () => {
    // Encrypted: scrypt under the store lock widens each read-modify-write to tens of milliseconds.
    const v = await defaultDataDir('file', ['desk', 'cron'], { VAULT_FILE_PASSPHRASE: 'correct horse battery staple' });
    try {
      const revoked = server.counts.grantRevoked;
      const chain = async (account: string, env: NodeJS.ProcessEnv) => {
        for (let i = 0; i < 6; i++) {
          const r = await v.run(['token', 'acme', '-a', account, '--force-refresh'], env);
          assert.equal(r.code, 0, `${account}, refresh ${i + 1}: ${r.stderr}`);
        }
      };
      await Promise.all([chain('desk', {}), chain('cron', NO_RUNTIME_DIR)]);
      for (const account of ['desk', 'cron']) {
        const stored = (await v.readLogin(account))!.refresh_token!;
        assert.equal(
          (await server.introspect(stored)).active,
          true,
          `the refresh token stored for ${account} is not the live one`,
        );
      }
      assert.equal(server.counts.grantRevoked, revoked, 'a grant was revoked');
    } finally {
      v.cleanup();
    }
  });

  test('the refresh lock of provider file-store-credentials, account json, is not the file store’s own lock', async () => {
    const v = vaultSandbox('file');
    try {
      await addProvider(v, server, { name: 'file-store-credentials', scopes: ['openid', 'offline_access'] });
      const logged = await v.run(['login', 'file-store-credentials', '-a', 'json']);
      assert.equal(logged.code, 0, logged.stderr);
      const refreshed = await v.run(['token', 'file-store-credentials', '-a', 'json', '--force-refresh']);
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.match(refreshed.stdout, /^\S+\n$/);
    } finally {
      v.cleanup();
    }
  });
});
