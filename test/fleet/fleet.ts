// A fleet for the redis store suites: one private redis-server and several "runners", each a
// sandbox with its own config, data and runtime directories (nothing local in common), all
// sharing the one login in Redis.
import { randomBytes } from 'node:crypto';

import type { TestServer } from '../harness/oidc-server.js';
import { runVault, type RunResult } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { addProvider, login, vaultSandbox, type Vault } from '../token/setup.js';

export interface Fleet {
  redis: RedisServer;
  /** What every runner is given: VAULT_STORE, VAULT_REDIS_PASSWORD, VAULT_STORE_KEY. */
  env: NodeJS.ProcessEnv;
  runners: Vault[];
  /** `perRunner` processes on every runner at once, running `args`. */
  storm(perRunner: number, args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult[]>;
  close(): Promise<void>;
}

export function fleetEnv(redis: RedisServer, key = randomBytes(32).toString('base64')): NodeJS.ProcessEnv {
  return { VAULT_STORE: redis.url, VAULT_REDIS_PASSWORD: redis.password, VAULT_STORE_KEY: key };
}

/** Runners with provider `acme` configured (its token endpoint at `tokenBase` when given); the first one logs in. */
export async function startFleet(
  server: TestServer,
  options: { runners?: number; tokenBase?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Fleet> {
  const redis = await startRedis();
  const env = { ...fleetEnv(redis), ...options.env };
  const runners = Array.from({ length: options.runners ?? 4 }, () => vaultSandbox('redis', env));
  for (const r of runners) await addProvider(r, server, options.tokenBase);
  await login(runners[0]!);
  return {
    redis,
    env,
    runners,
    // Dozens of processes on a small shared machine: slow, so give them time (this is no timing test).
    storm: (perRunner, args, extraEnv) =>
      Promise.all(
        runners.flatMap((r) =>
          Array.from({ length: perRunner }, () =>
            runVault(args, { env: { ...r.env, VAULT_HTTP_TIMEOUT: '120', ...extraEnv }, timeoutMs: 300_000 }),
          ),
        ),
      ),
    async close() {
      for (const r of runners) r.cleanup();
      await redis.close();
    },
  };
}
