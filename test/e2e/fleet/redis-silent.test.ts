// A Redis that goes silent: every command, the connect and the handshake are bounded by
// VAULT_REDIS_TIMEOUT with vault's own timer. A server that accepts and never answers is exit 4,
// not a hang; a connection that goes silent at the write of a rotated refresh token is dropped and
// the write retried on a new one, so the login survives and nothing is revoked.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startRedisProxy, type RedisProxy } from '../../support/redis.js';
import { expire } from '../../support/vault-sandbox.js';
import { startFleet, type Fleet } from '../../support/fleet.js';

// The Lua compare-and-set that writes a login (redis-store.ts COMMIT), as it travels in an EVAL.
const COMMIT_SCRIPT = 'local fenced';

let server: TestServer;
let fleet: Fleet;
let proxy: RedisProxy;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  fleet = await startFleet(server, { runners: 2 });
  proxy = await startRedisProxy(fleet.redis);
});
after(async () => {
  await proxy?.close();
  await fleet?.close();
  await server?.close();
});

test('a redis that accepts connections and never answers: exit 4, not a hang, never "not logged in"', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    const { port } = silent.address() as AddressInfo;
    for (const args of [['token', 'acme'], ['status']]) {
      const r = await fleet.runners[1]!.run(args, {
        VAULT_STORE: `redis://127.0.0.1:${port}/0`,
        VAULT_REDIS_TIMEOUT: '1',
      });
      assert.equal(r.code, 4, `${args.join(' ')}: ${r.signal ?? ''} ${r.stderr}`);
      assert.match(r.stderr, /^error: cannot reach redis at redis:\/\/127\.0\.0\.1:\d+\/0: no answer within 1s/m);
    }
    assert.ok(sockets.size >= 2, 'vault did connect');
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('the connection goes silent at the write of the rotated refresh token: retried on a new one, login kept, nothing revoked', async () => {
  const [first, runner] = fleet.runners;
  await expire(first!);
  const counts = { ...server.counts };
  // The commit after the grant (the one before it only proves the store takes a write).
  proxy.blackHoleAt((sent) => server.counts.refresh > counts.refresh && sent.includes(COMMIT_SCRIPT));

  const r = await runner!.run(['token', 'acme'], { VAULT_STORE: proxy.url, VAULT_REDIS_TIMEOUT: '2' });

  assert.equal(proxy.blackHoled(), 1, 'the rotated token was written into a silent connection');
  assert.equal(r.code, 0, `${r.signal ?? ''} ${r.stderr}`);
  assert.match(r.stderr, /holding the rotated refresh token until redis is back/);
  assert.equal(server.counts.refresh - counts.refresh, 1, 'one refresh grant');
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'nothing revoked');
  assert.equal((await first!.run(['token', 'acme'])).stdout, r.stdout, 'the fleet serves the token it printed');

  const forced = await first!.run(['token', 'acme', '--force-refresh']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'the rotated refresh token reached redis');
  assert.equal((await server.introspect(forced.stdout.trim())).active, true);
});
