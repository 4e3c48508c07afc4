// The fleet's single flight proven across network hosts: four runners, each in its own network
// namespace with a veth pair to the root namespace as its only link, reach Redis and the issuer
// over it. A storm across them costs one refresh grant, and a lease holder paused in one namespace
// does not spend the refresh token while another namespace refreshes. Needs root (CI runs as root).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { pausedLeaseHolder, startFleet, stormAfterExpiry, type Fleet } from '../../support/fleet.js';
import { network, netnsSkip, type Network } from '../../support/netns.js';

describe('runners on four network hosts sharing one login through redis', { skip: netnsSkip }, () => {
  let server: TestServer;
  let net: Network;
  let fleet: Fleet;
  before(async () => {
    server = await startTestServer({ accessTokenTtl: 300 });
    net = network(4);
    net.up();
    fleet = await startFleet(server, { network: net });
  });
  after(async () => {
    await fleet?.close();
    net?.close();
    await server?.close();
  });

  test('each runner is its own network host: the root namespace is reachable only over its veth', async () => {
    const [, second] = fleet.runners;
    const loopback = await second!.run(['status'], {
      VAULT_STORE: `redis://127.0.0.1:${fleet.redis.port}/0`,
    });
    assert.equal(loopback.code, 4, "the host's loopback redis is not the runner's");
    assert.match(loopback.stderr, /^error: cannot reach redis at redis:\/\/127\.0\.0\.1:\d+\/0/m);
    const tokens = await Promise.all(fleet.runners.map((r) => r.run(['token', 'acme'])));
    for (const t of tokens) assert.equal(t.code, 0, t.stderr);
    assert.equal(new Set(tokens.map((t) => t.stdout)).size, 1, 'every runner gets the login made on the first');
  });

  test('a storm of 44 processes across the 4 hosts after expiry: one refresh grant, one token, nothing revoked', () =>
    stormAfterExpiry(fleet, server, 11));

  test('a lease holder paused past its lease on one host does not spend the refresh token while another host refreshes', (t) =>
    pausedLeaseHolder(t, server, fleet.runners[1]!, fleet.runners[3]!));
});
