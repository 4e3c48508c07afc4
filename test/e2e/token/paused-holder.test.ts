// A process paused while it holds the refresh lock (Ctrl-Z, a debugger, a suspended laptop) loses
// the lock to the next caller once it is stale. When it resumes it must not spend the refresh
// token that the other process has already rotated: with reuse detection that would revoke the
// whole login (RFC 9700 §4.14.2).
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { stoppedAt } from '../../support/cli.js';
import { pausedHolderStartsOver } from '../../support/paused.js';
import { expire, loggedIn, type Vault } from '../../support/vault-sandbox.js';

/**
 * A case with a server and a login of its own: each waits out the lock's stale time, so the two run
 * side by side.
 */
function pausedCase(name: string, body: (t: TestContext, server: TestServer, v: Vault) => Promise<void>): void {
  test(name, async (t) => {
    const server = await startTestServer({ accessTokenTtl: 300 });
    try {
      const v = await loggedIn(server);
      try {
        await body(t, server, v);
      } finally {
        v.cleanup();
      }
    } finally {
      await server.close();
    }
  });
}

describe('a holder paused while it holds the refresh lock', { concurrency: true }, () => {
  pausedCase(
    'a holder paused past the stale time starts over instead of spending the rotated refresh token',
    async (t, server, v) => {
      // The lock goes stale after 5 s; the next caller takes it over and refreshes.
      const token = await pausedHolderStartsOver(t, server, v, v);
      assert.equal((await server.introspect(token.trim())).active, true);
    },
  );

  pausedCase(
    'a holder stopped after committing to the refresh grant keeps its lock: nobody spends the refresh token twice',
    async (t, server, v) => {
      await expire(v);
      const refreshes = server.counts.refresh;
      const revoked = server.counts.grantRevoked;
      // Stopped right after its last lock check, when the grant is about to leave: a process starved of
      // CPU in a storm looks the same to the others (its lock's mtime goes stale).
      const { child: holder, seen, exited } = await stoppedAt(t, v.env, 'refresh: acme');

      const other = v.run(['token', 'acme']);
      await sleep(8000); // past the 5 s after which an uncommitted lock is taken over
      assert.equal(server.counts.refresh, refreshes, "the waiting process did not refresh in the holder's place");

      holder.kill('SIGCONT');
      const [code] = await exited;
      assert.equal(code, 0, seen.err);
      const second = await other;
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, seen.out, "the waiting process hands out the holder's token");
      assert.equal(server.counts.refresh, refreshes + 1);
      assert.equal(server.counts.grantRevoked, revoked, 'reuse detection never fired');
      assert.equal((await server.introspect(seen.out.trim())).active, true);
    },
  );
});
