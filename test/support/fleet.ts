// A fleet for the redis store suites: one private redis-server and several "runners", each a
// sandbox with its own config, data and runtime directories (nothing local in common), all
// sharing the one login in Redis; given a network, each runner is also its own network host.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, type TestContext } from 'node:test';

import { startTestServer, type TestServer } from './oidc-server.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { runVault, type RunResult } from './cli.js';
import { startRedis, type RedisServer } from './redis.js';
import { addProvider, expire, login, vaultSandbox, type Vault, tokenVia } from './vault-sandbox.js';
import type { Network } from './netns.js';
import { pausedHolderStartsOver } from './paused.js';

/** A runner: a sandbox whose vault processes run under `wrap` (`ip netns exec NS` on a network of namespaces). */
export interface Runner extends Vault {
  wrap: string[];
}

export interface Fleet {
  redis: RedisServer;
  /** What every runner is given: VAULT_STORE, VAULT_REDIS_PASSWORD, VAULT_STORE_KEY. */
  env: NodeJS.ProcessEnv;
  runners: Runner[];
  /** `perRunner` processes on every runner at once, running `args`. */
  storm(perRunner: number, args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult[]>;
  close(): Promise<void>;
}

export function fleetEnv(redis: RedisServer, key = randomBytes(32).toString('base64')): NodeJS.ProcessEnv {
  return { VAULT_STORE: redis.url, VAULT_REDIS_PASSWORD: redis.password, VAULT_STORE_KEY: key };
}

/**
 * Runners with provider `acme` configured (its token endpoint at `tokenBase` when given); the first
 * one logs in. With `network`, runner i lives in its namespace i and reaches Redis (listening on
 * the bridge too) and the issuer (through the namespace's forwarder) over its veth.
 */
export async function startFleet(
  server: TestServer,
  options: {
    runners?: number;
    tokenBase?: string;
    env?: NodeJS.ProcessEnv;
    network?: Network;
    /** Runners use README's ACL user (`redis://vault:PW@…`) rather than the default user. */
    aclUser?: boolean;
  } = {},
): Promise<Fleet> {
  const { network } = options;
  const redis = await startRedis({ alsoBind: network && [network.hostAddress] });
  if (network) await network.forward(server.port);
  const env = {
    ...fleetEnv(redis),
    ...(network && { VAULT_STORE: `redis://${network.hostAddress}:${redis.port}/0` }),
    ...(options.aclUser && {
      VAULT_STORE: `redis://${redis.aclUser.name}:${redis.aclUser.password}@${redis.host}:${redis.port}/0`,
      VAULT_REDIS_PASSWORD: undefined,
    }),
    ...options.env,
  };
  const runners = Array.from({ length: options.runners ?? 4 }, (_, i): Runner => {
    const wrap = network?.namespaces[i]!.wrap ?? [];
    const v = vaultSandbox('redis', env);
    return { ...v, wrap, run: (args, extraEnv = {}) => runVault(args, { env: { ...v.env, ...extraEnv }, wrap }) };
  });
  const provider = options.tokenBase ? { endpoints: tokenVia(server, options.tokenBase) } : {};
  for (const r of runners) await addProvider(r, server, provider);
  await login(runners[0]!);
  return {
    redis,
    env,
    runners,
    // Dozens of processes on a small shared machine: slow, so give them time (this is no timing
    // test). A process starved of CPU runs its timers before the events that were due first, so
    // even connecting to Redis takes seconds.
    storm: (perRunner, args, extraEnv) =>
      Promise.all(
        runners.flatMap((r) =>
          Array.from({ length: perRunner }, () =>
            runVault(args, {
              env: { ...r.env, VAULT_HTTP_TIMEOUT: '120', VAULT_REDIS_TIMEOUT: '60', ...extraEnv },
              timeoutMs: 300_000,
              wrap: r.wrap,
            }),
          ),
        ),
      ),
    async close() {
      for (const r of runners) r.cleanup();
      await redis.close();
    },
  };
}

/**
 * A storm of `perRunner` `vault token acme` on every runner at once after the cached token
 * expired: exactly one refresh grant, every process prints the same new and active token, no
 * refresh token reused, the grant not revoked, the rotated refresh token stored.
 */
export async function stormAfterExpiry(fleet: Fleet, server: TestServer, perRunner: number): Promise<void> {
  const [first] = fleet.runners;
  const old = await first!.readAccess();
  await expire(first!);
  const oldRefresh = (await first!.readLogin())!.refresh_token;
  const counts = { ...server.counts };

  const results = await fleet.storm(perRunner, ['token', 'acme']);

  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const printed = new Set(results.map((r) => r.stdout));
  assert.equal(printed.size, 1, 'every process prints the same token');
  const token = [...printed][0]!.trim();
  assert.notEqual(token, old!.access_token);
  assert.equal(server.counts.refresh - counts.refresh, 1, 'exactly one refresh grant');
  assert.equal(server.counts.grantErrors, counts.grantErrors, 'no refresh token was reused');
  assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'the grant was not revoked');
  assert.equal((await server.introspect(token)).active, true);
  assert.notEqual((await first!.readLogin())!.refresh_token, oldRefresh, 'the rotated refresh token is the one stored');
}

/**
 * Runner `a` paused while it holds the lease, past the lease's lifetime (1 s here), right before the
 * grant, while runner `b` takes the lease over (see pausedHolderStartsOver).
 */
export async function pausedLeaseHolder(t: TestContext, server: TestServer, a: Runner, b: Runner): Promise<void> {
  await pausedHolderStartsOver(t, server, a, b, { VAULT_REDIS_LEASE: '1' });
}

/** A suite's server (300 s tokens), a fault proxy in front of its token endpoint, and a fleet behind it: started before the suite, closed after it. */
export function fleetBehindProxy(options: { runners?: number } = {}): {
  readonly server: TestServer;
  readonly proxy: FaultProxy;
  readonly fleet: Fleet;
} {
  let server: TestServer | undefined;
  let proxy: FaultProxy | undefined;
  let fleet: Fleet | undefined;
  before(async () => {
    server = await startTestServer({ accessTokenTtl: 300 });
    proxy = await startFaultProxy(server.issuer);
    fleet = await startFleet(server, { ...options, tokenBase: proxy.url });
  });
  after(async () => {
    await fleet?.close();
    await proxy?.close();
    await server?.close();
  });
  return {
    get server() {
      return server!;
    },
    get proxy() {
      return proxy!;
    },
    get fleet() {
      return fleet!;
    },
  };
}
