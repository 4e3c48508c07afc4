// CI: `VAULT_<NAME>_ACCESS_TOKEN` passes through as is; `VAULT_<NAME>_REFRESH_TOKEN` stands in for
// a login when nothing is stored, and once the server rotates it, the stored successor takes over.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { addProvider, loggedIn, vaultSandbox, type Vault } from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

/**
 * A sandbox with nothing stored whose environment hands "CI" a refresh token from a real login
 * elsewhere (VAULT_ACME_REFRESH_TOKEN); removed after `body`.
 */
async function withCiRefreshToken(body: (v: Vault, refreshToken: string) => Promise<void>): Promise<void> {
  const donor = await loggedIn(server);
  const refreshToken = (await donor.readLogin())!.refresh_token!;
  donor.cleanup();
  const v = vaultSandbox('file', { VAULT_ACME_REFRESH_TOKEN: refreshToken });
  try {
    await addProvider(v, server);
    await body(v, refreshToken);
  } finally {
    v.cleanup();
  }
}

test('VAULT_ACME_ACCESS_TOKEN is printed as is, with nothing stored and no server contact', async () => {
  const v = vaultSandbox('file');
  try {
    await addProvider(v, server);
    const counts = { ...server.counts };
    const env = { VAULT_ACME_ACCESS_TOKEN: 'ci-provided-token' };
    const plain = await v.run(['token', 'acme'], env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'ci-provided-token\n');
    const header = await v.run(['token', 'acme', '--header'], env);
    assert.equal(header.stdout, 'Authorization: Bearer ci-provided-token\n');
    assert.deepEqual(server.counts, counts);
    assert.deepEqual(await v.store().keys(''), [], 'nothing was stored');
  } finally {
    v.cleanup();
  }
});

test('VAULT_ACME_REFRESH_TOKEN with nothing stored: works, warns once when rotated, then the stored token is used', async () => {
  await withCiRefreshToken(async (v, refreshToken) => {
    const counts = { ...server.counts };

    const first = await v.run(['token', 'acme']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await server.introspect(first.stdout.trim())).active, true);
    const warnings = first.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    assert.equal(warnings.length, 1, first.stderr);
    assert.match(warnings[0]!, /VAULT_ACME_REFRESH_TOKEN.*spent/);
    assert.match(warnings[0]!, /vault login/);
    assert.ok(!first.stderr.includes(refreshToken), 'the token itself is not shown');
    const stored = (await v.readLogin())!.refresh_token;
    assert.ok(stored && stored !== refreshToken, 'the rotated refresh token is stored');

    // The env var is still set (CI secrets don't change), but the stored successor is used.
    const cached = await v.run(['token', 'acme']);
    assert.equal(cached.stdout, first.stdout);
    const again = await v.run(['token', 'acme', '--force-refresh']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '', 'no second warning');
    assert.equal((await server.introspect(again.stdout.trim())).active, true);
    assert.equal(server.counts.refresh, counts.refresh + 2);
    assert.equal(server.counts.grantErrors, counts.grantErrors, 'the spent env token was not replayed');
    assert.equal(server.counts.grantRevoked, counts.grantRevoked);
  });
});

test('VAULT_ACME_REFRESH_TOKEN stands in for the default account only: another account is not logged in', async () => {
  await withCiRefreshToken(async (v, refreshToken) => {
    const refreshes = server.counts.refresh;
    for (const args of [
      ['token', 'acme', '-a', 'work'],
      ['token', 'acme'],
    ]) {
      const r = await v.run(args, args.includes('work') ? {} : { VAULT_ACCOUNT: 'work' });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /not logged in to acme as account work — run `vault login acme -a work`/);
    }
    assert.equal(server.counts.refresh, refreshes, 'the CI refresh token was spent for another account');
    assert.equal((await server.introspect(refreshToken)).active, true);
  });
});
