// A runner paused (SIGSTOP) while it holds the fleet's lease, past the lease's lifetime: another
// runner takes the lease over and refreshes; the paused one, once resumed, finds its lease lost
// right before the grant and hands out the other's token instead of spending the refresh token.
// Paused earlier, right after it read the login, it cannot write that login (with the spent refresh
// token) back over the other's rotation: the fencing generation refuses the write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { stoppedAt } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { expire } from '../../support/vault-sandbox.js';
import { pausedLeaseHolder, startFleet, type Fleet } from '../../support/fleet.js';

let server: TestServer;
let fleet: Fleet;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  fleet = await startFleet(server, { runners: 2 });
});
after(async () => {
  await fleet?.close();
  await server?.close();
});

test('a lease holder paused past its lease does not spend the refresh token', (t) =>
  pausedLeaseHolder(t, server, fleet.runners[0]!, fleet.runners[1]!));

test('a lease holder paused after reading the login cannot write it back over a later holder’s rotation', async (t) => {
  const [a, b] = fleet.runners;
  await expire(a!);
  const counts = { ...server.counts };
  const { child, seen, exited } = await stoppedAt(
    t,
    { ...a!.env, VAULT_REDIS_LEASE: '1' },
    'store: rt:acme:default read',
  );
  assert.match(seen.err, /lease acquired/, 'paused while holding the lease');

  const took = await b!.run(['token', 'acme']);
  assert.equal(took.code, 0, took.stderr);
  assert.equal(server.counts.refresh - counts.refresh, 1);
  const rotated = (await b!.readLogin())!.refresh_token;

  child.kill('SIGCONT');
  const [code] = await exited;
  assert.equal(code, 0, seen.err);
  assert.equal(seen.out, took.stdout, 'the resumed holder hands out the token the other runner obtained');
  assert.equal((await b!.readLogin())!.refresh_token, rotated, 'redis still holds the rotated refresh token');

  const forced = await b!.run(['token', 'acme', '--force-refresh']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(server.counts.refresh - counts.refresh, 2);
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'no spent refresh token was put back');
  assert.match(seen.err, /rt:acme:default was written by a later lease holder; not overwriting it/);
});
