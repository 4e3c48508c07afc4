// The fleet store: several runners (separate config, data and runtime directories) share one
// rotating login through a private redis-server, and a storm after expiry costs the provider
// exactly one refresh grant. Records are sealed: no token is readable in Redis, its append-only
// file or a MONITOR of the traffic.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startRedis } from '../../support/redis.js';
import { closedPort, expire } from '../../support/vault-sandbox.js';
import { fleetEnv, startFleet, stormAfterExpiry, type Fleet } from '../../support/fleet.js';

let server: TestServer;
let fleet: Fleet;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  // As README's fleet recipe runs it: vault's own ACL user (VAULT_ACL), its password in the URL.
  fleet = await startFleet(server, { aclUser: true });
});
after(async () => {
  await fleet?.close();
  await server?.close();
});

describe('a login shared through redis', () => {
  test('a login made on one runner serves every other runner, and status names the store without its password', async () => {
    const tokens = await Promise.all(fleet.runners.map((r) => r.run(['token', 'acme'])));
    for (const t of tokens) assert.equal(t.code, 0, t.stderr);
    assert.equal(new Set(tokens.map((t) => t.stdout)).size, 1);
    const status = await fleet.runners[3]!.run(['status', 'acme', '--debug']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /acme\s+default\s+alice@example\.test/);
    assert.match(status.stderr, new RegExp(`redis://127\\.0\\.0\\.1:${fleet.redis.port}/0`));
    assert.doesNotMatch(status.stdout + status.stderr, new RegExp(fleet.redis.password));
    assert.doesNotMatch(status.stdout + status.stderr, new RegExp(fleet.redis.aclUser.password));
  });

  test('a storm of 44 processes on 4 runners after expiry: one refresh grant, one token, nothing revoked', async () => {
    await stormAfterExpiry(fleet, server, 11);
    const counts = { ...server.counts };
    const forced = await fleet.runners[2]!.run(['token', 'acme', '--force-refresh']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(server.counts.refresh - counts.refresh, 1);
    assert.equal(server.counts.grantRevoked, counts.grantRevoked);
  });

  test('the cached access token lives in redis exactly as long as it is valid', async () => {
    const ttl = Number((await fleet.redis.cli(['PTTL', 'vault:at:acme:default:*'])).trim());
    assert.ok(ttl > 200_000 && ttl <= 300_000, `TTL ${ttl} ms for a 300 s token`);
    assert.equal(
      (await fleet.redis.cli(['PTTL', 'vault:rt:acme:default'])).trim(),
      '-1',
      'the refresh token does not expire',
    );
  });

  test('no token, secret or password is readable in redis, its append-only file or a MONITOR capture', async () => {
    const monitor = await fleet.redis.monitor();
    const [, second] = fleet.runners;
    await expire(second!);
    const refreshed = await second!.run(['token', 'acme', '--scope', 'openid']);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    const again = await second!.run(['token', 'acme']);
    assert.equal(again.code, 0, again.stderr);
    const traffic = await monitor.stop();
    assert.match(traffic, /"EVAL"/, 'the capture saw the refresh');
    const dump = (await fleet.redis.cli(['--scan', '--pattern', '*'])).split('\n').filter(Boolean);
    const values = await Promise.all(dump.map((k) => fleet.redis.cli(['GET', k])));
    const everything = [fleet.redis.aof(), traffic, values.join('\n')].join('\n');
    const secrets = [
      ...server.issuedTokens(),
      refreshed.stdout.trim(),
      again.stdout.trim(),
      fleet.env.VAULT_STORE_KEY!,
    ];
    for (const secret of secrets) {
      assert.ok(!everything.includes(secret), `a secret (${secret.slice(0, 6)}…) is readable in redis`);
    }
    assert.ok(!fleet.redis.aof().includes('alice@example.test'), 'the identity is sealed too');
  });
});

describe('what a runner is told when the store cannot be used', () => {
  test('without VAULT_STORE_KEY every command using the store exits 2, and other commands still work', async () => {
    const r = fleet.runners[1]!;
    for (const args of [['token', 'acme'], ['status'], ['login', 'acme'], ['logout', 'acme']]) {
      const result = await r.run(args, { VAULT_STORE_KEY: '' });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^error: VAULT_STORE_KEY is not set/m);
    }
    assert.equal((await r.run(['provider', 'list'], { VAULT_STORE_KEY: '' })).code, 0);
  });

  test('a wrong VAULT_STORE_KEY exits 5 and names the key ids; nothing is overwritten', async () => {
    const r = fleet.runners[1]!;
    const before = await r.readLogin();
    for (const key of [fleetEnv(fleet.redis).VAULT_STORE_KEY!, 'a passphrase that is not the fleet key']) {
      const result = await r.run(['token', 'acme', '--force-refresh'], { VAULT_STORE_KEY: key });
      assert.equal(result.code, 5, result.stderr);
      assert.match(
        result.stderr,
        /sealed with another VAULT_STORE_KEY \(key id [0-9a-f]{16}; this one is [0-9a-f]{16}\)/,
      );
    }
    assert.deepEqual(await r.readLogin(), before);
  });

  test('redis unreachable, or refusing the password: exit 4 and exit 5, never "not logged in", never a local store', async () => {
    const r = fleet.runners[2]!;
    const down = await r.run(['token', 'acme', '--force-refresh'], {
      VAULT_STORE: `redis://127.0.0.1:${await closedPort()}/0`,
    });
    assert.equal(down.code, 4, down.stderr);
    assert.match(down.stderr, /^error: cannot reach redis at redis:\/\/127\.0\.0\.1:\d+\/0/m);
    const refused = await r.run(['status'], {
      VAULT_STORE: `redis://vault@127.0.0.1:${fleet.redis.port}/0`,
      VAULT_REDIS_PASSWORD: 'not-the-password',
    });
    assert.equal(refused.code, 5, refused.stderr);
    assert.doesNotMatch(refused.stderr, /not-the-password/);
    const inUrl = await r.run(['status'], {
      VAULT_STORE: `redis://:${fleet.redis.password}@127.0.0.1:${fleet.redis.port}/0`,
      VAULT_REDIS_PASSWORD: '',
    });
    assert.equal(inUrl.code, 0, inUrl.stderr);
    assert.doesNotMatch(inUrl.stdout + inUrl.stderr, new RegExp(fleet.redis.password));
  });

  test('a read-only replica is exit 4; with a replica attached, a rotated refresh token waits for it (WAIT)', async () => {
    const replica = await startRedis({ replicaOf: fleet.redis });
    try {
      let synced = '';
      for (let i = 0; i < 100 && !/master_link_status:up/.test(synced); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        synced = await replica.cli(['INFO', 'replication']);
      }
      const r = fleet.runners[3]!;
      const readOnly = await r.run(['token', 'acme', '--force-refresh'], {
        VAULT_STORE: replica.url,
        VAULT_REDIS_PASSWORD: replica.password,
      });
      assert.equal(readOnly.code, 4, readOnly.stderr);
      assert.match(readOnly.stderr, /READONLY/);

      const refreshed = await r.run(['token', 'acme', '--force-refresh', '--debug']);
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.match(refreshed.stderr, /store: rt:acme:default acknowledged by 1 replica\(s\)/);
      const onReplica = await r.run(['token', 'acme'], {
        VAULT_STORE: replica.url,
        VAULT_REDIS_PASSWORD: replica.password,
      });
      assert.equal(onReplica.stdout, refreshed.stdout, 'the replica serves what the primary stored');
    } finally {
      await replica.close();
    }
  });
});
