// Redis SIGKILLed in the middle of a storm, while the lease holder's refresh grant is in flight,
// then restarted from its append-only file: runners exit 4 while it is down, the holder keeps the
// rotated refresh token until Redis is back and stores it, and nothing is lost or revoked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { expire } from '../../support/vault-sandbox.js';
import { fleetBehindProxy } from '../../support/fleet.js';

const world = fleetBehindProxy();

test('redis killed mid-storm and restarted from its AOF: exit 4 while down, one refresh grant, nothing lost', async () => {
  const { server, proxy, fleet } = world;
  const [first, second] = fleet.runners;
  await expire(first!);
  const counts = { ...server.counts };
  proxy.set('/token', { kind: 'hold-response' });
  const storm = fleet.storm(5, ['token', 'acme']);
  await proxy.held();
  await fleet.redis.kill('SIGKILL');

  const whileDown = await second!.run(['token', 'acme']);
  assert.equal(whileDown.code, 4, whileDown.stderr);
  assert.match(whileDown.stderr, /^error: cannot reach redis/m);

  proxy.set('/token', undefined);
  proxy.release();
  await sleep(1000);
  await fleet.redis.start();
  const results = await storm;

  for (const r of results) assert.ok(r.code === 0 || r.code === 4, `exit ${r.code}: ${r.stderr}`);
  const winners = results.filter((r) => r.code === 0);
  assert.ok(winners.length >= 1, 'the holder stored the rotated token and printed its access token');
  assert.ok(winners.some((r) => /holding the rotated refresh token until redis is back/.test(r.stderr)));
  assert.equal(server.counts.refresh - counts.refresh, 1, 'one refresh grant');
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'nothing revoked');

  const after = await Promise.all(fleet.runners.map((r) => r.run(['token', 'acme'])));
  for (const r of after) assert.equal(r.code, 0, r.stderr);
  assert.equal(new Set(after.map((r) => r.stdout)).size, 1);
  assert.equal(after[0]!.stdout, winners[0]!.stdout, 'the token from before the outage is still the cached one');
  const forced = await second!.run(['token', 'acme', '--force-refresh']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'the rotated refresh token survived the restart');
  assert.equal((await server.introspect(forced.stdout.trim())).active, true);
});
