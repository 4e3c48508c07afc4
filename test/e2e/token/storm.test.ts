// Single flight across processes: twenty `vault token` processes started together after the
// access token expired must cost the server exactly one refresh grant. With rotation and reuse
// detection ON, a second grant with the same refresh token would revoke the whole login.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { expire, loggedIn, type StoreKind } from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

for (const kind of ['file', 'keychain'] as StoreKind[]) {
  describe(`expiry storm, ${kind} store`, () => {
    test('20 processes after expiry: all print the same new token, from exactly one refresh grant', async () => {
      const v = await loggedIn(server, { store: kind });
      try {
        const old = await v.readAccess();
        await expire(v);
        const oldRefreshToken = (await v.readLogin())!.refresh_token;
        const counts = { ...server.counts };

        const results = await Promise.all(Array.from({ length: 20 }, () => v.run(['token', 'acme'])));

        for (const r of results) assert.equal(r.code, 0, r.stderr);
        const printed = new Set(results.map((r) => r.stdout));
        assert.equal(printed.size, 1, 'every process prints the same token');
        const token = [...printed][0]!.trim();
        assert.notEqual(token, old!.access_token, 'the expired token is not handed out');
        assert.equal(server.counts.refresh - counts.refresh, 1, 'exactly one refresh grant');
        assert.equal(server.counts.grantErrors, counts.grantErrors, 'no refresh token was reused');
        assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'the grant was not revoked');
        assert.equal((await server.introspect(token)).active, true, 'the server accepts the token');

        // The rotated refresh token was stored and is the live one.
        const stored = (await v.readLogin())!.refresh_token;
        assert.notEqual(stored, oldRefreshToken);
        const forced = await v.run(['token', 'acme', '--force-refresh']);
        assert.equal(forced.code, 0, forced.stderr);
        assert.equal(server.counts.refresh - counts.refresh, 2);
        assert.equal((await server.introspect(forced.stdout.trim())).active, true);
      } finally {
        v.cleanup();
      }
    });
  });
}
