// Single flight across processes: twenty `vault token` processes started together after the
// access token expired must cost the server exactly one refresh grant. With rotation and reuse
// detection ON, a second grant with the same refresh token would revoke the whole login.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { ROOT, runVault } from '../../support/cli.js';
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

// The full CLI's start-up, not the one refresh, was most of a storm's cost: the first process to
// find the token stale goes on to refresh, and the others wait for its token on the cached-token
// path. Counted with a copy of the package whose dist/main.js notes each process that loads it.
describe('expiry storm: the waiters stay on the cached-token path', () => {
  let pkg: string;
  let starts: string;
  before(() => {
    pkg = mkdtempSync(join(tmpdir(), 'vault-storm-pkg-'));
    starts = join(pkg, 'full-cli-starts');
    cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    renameSync(join(pkg, 'dist', 'main.js'), join(pkg, 'dist', 'counted-main.js'));
    writeFileSync(
      join(pkg, 'dist', 'main.js'),
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(starts)}, process.pid + '\\n');\nexport * from './counted-main.js';\n`,
    );
  });
  after(() => rmSync(pkg, { recursive: true, force: true }));

  for (const kind of ['file', 'keychain'] as StoreKind[]) {
    test(`20 processes after expiry (${kind} store): one refresh grant, and the full CLI starts in few of them`, async () => {
      const v = await loggedIn(server, { store: kind });
      try {
        await expire(v);
        rmSync(starts, { force: true });
        const counts = { ...server.counts };
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            runVault(['token', 'acme'], { env: v.env, bin: join(pkg, 'bin', 'vault.js') }),
          ),
        );
        for (const r of results) assert.equal(r.code, 0, r.stderr);
        assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'every process prints the same token');
        assert.equal(server.counts.refresh - counts.refresh, 1, 'exactly one refresh grant');
        const full = existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').filter(Boolean).length : 0;
        // Before, every one of the 20 started it. A process that finds the refresher gone and the
        // token not yet visible starts it too (and reads the token there): a few, never most.
        assert.ok(full >= 1 && full <= 5, `the full CLI started in ${full} of 20 processes`);
      } finally {
        v.cleanup();
      }
    });
  }
});
