import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretStore } from '../../core/ports.js';
import { dataDir } from '../paths.js';
import { readPrivateFile, runtimeAccessDir } from './access-cache.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { rawKey, sealer, type Sealer } from './seal.js';
import { ask } from './bare-redis.js';

// A fleet runner's local copies of access tokens. Loading the Redis client costs a call several
// times Node's own start-up; a runner reading a valid token instead asks Redis one question over a
// bare socket — the fencing generation of the login's refresh lease, and whether the lease is
// held — and answers from a copy of the token it sealed with VAULT_STORE_KEY, kept under that
// generation. Whoever changes a login (a refresh on any runner, a logout, a re-login) takes that
// lease, and each taking draws the next generation: a copy kept under an older one is never
// answered. The refresh token never leaves Redis. A passphrase as VAULT_STORE_KEY (stretched with
// scrypt, tens of ms) gets no copies: only a raw key opens them cheaply enough to be worth it.

const ACCESS_PREFIX = 'at:';

/**
 * Where the copies live: `$XDG_RUNTIME_DIR/vault/fleet` when the runtime directory is safe (see
 * runtimeAccessDir), else `fleet` in the data directory (containers and CI runners have no runtime
 * directory). Either way a 0700 directory of this user, one 0600 file per token.
 */
export function fleetCacheDir(env: NodeJS.ProcessEnv): string {
  const runtime = runtimeAccessDir(env);
  return runtime ? join(dirname(runtime), 'fleet') : join(dataDir(env), 'fleet');
}

/** The lease a record key is guarded by: `at:<provider>:<account>:<scopes>` → `<provider>.<account>` (refresh-lock.ts). */
function leaseOf(key: string): string | undefined {
  if (!key.startsWith(ACCESS_PREFIX)) return undefined;
  // Provider and account names have no ':' (names.ts); scopes may.
  const [, provider, account] = key.split(':');
  return provider && account ? `${provider}.${account}` : undefined;
}

/** Redis's keys of the lease `name` and of its fencing generation (redis-store.ts, redis-lease.ts). */
function leaseKeys(prefix: string, name: string): [string, string] {
  return [`${prefix}_lock:${name}`, `${prefix}_fence:${name}`];
}

interface Place {
  target: RedisTarget;
  prefix: string;
  dir: string;
}

async function fileFor(place: Place, key: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const id = createHash('sha256').update(`${place.target.display}\n${place.prefix}\n${key}`).digest('hex');
  return join(place.dir, id);
}

/** The record key a copy is sealed under: the generation and the key are bound into the seal. */
function copyKey(generation: string, key: string): string {
  return `fleet-copy:${generation}:${key}`;
}

// Reads keys at one instant (a script runs alone), '' for a missing one (a nil would end Lua's
// array): the lease's holder, its generation and, for RedisStore.get, the record itself. EVAL
// rather than MGET: the fleet's ACL (README) allows EVAL and GET, not MGET.
const READ_AT_ONCE = "local r = {} for i, k in ipairs(KEYS) do r[i] = redis.call('GET', k) or '' end return r";

function readAtOnce(keys: readonly string[]): string[] {
  return ['EVAL', READ_AT_ONCE, String(keys.length), ...keys];
}

/**
 * The read of a record for RedisStore.get: for an access token, with its lease's holder and
 * generation in the same instant, so that a record read while nobody held the lease is exactly
 * what that generation stored; `split` gives the record (null: none) and that generation.
 */
export function readWithGeneration(
  prefix: string,
  key: string,
): { args: string[]; split(reply: unknown): [unknown, string | undefined] } {
  const lease = leaseOf(key);
  if (!lease) return { args: ['GET', `${prefix}${key}`], split: (reply) => [reply, undefined] };
  return {
    args: readAtOnce([...leaseKeys(prefix, lease), `${prefix}${key}`]),
    split(reply) {
      const [holder, generation, value] = (reply as unknown[]).map(String) as [string, string, string];
      // While a holder has the lease the record may be about to change: no copy is kept.
      return [value === '' ? null : value, holder === '' && generation !== '' ? generation : undefined];
    },
  };
}

/**
 * What an access token written outside a lease (a store migration) must be followed by: the next
 * generation of its lease, so that no runner answers a copy of what it replaced. Drawing a
 * generation outside a lease changes nothing for the holders: their writes are fenced by the
 * generation they hold against the last one that wrote (redis-lease.ts).
 */
export function generationBumps(prefix: string, keys: readonly string[]): string[][] {
  const leases = new Set(keys.map(leaseOf).filter((l) => l !== undefined));
  return [...leases].map((lease) => ['INCR', leaseKeys(prefix, lease)[1]]);
}

/**
 * Keeps a sealed copy of an access token read from Redis under the generation it was read at.
 * A copy that cannot be written is no failure: the next call reads Redis again.
 */
export async function keepFleetCopy(
  options: { target: RedisTarget; prefix: string; storeKey: string; fleetCacheDir?: string },
  key: string,
  generation: string,
  value: string,
): Promise<void> {
  const raw = rawKey(options.storeKey);
  if (!raw || !options.fleetCacheDir) return;
  const place = { target: options.target, prefix: options.prefix, dir: options.fleetCacheDir };
  try {
    const seal = await sealer(raw, { prefix: place.prefix, db: place.target.db });
    mkdirSync(place.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(place.dir);
    if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) return;
    const { writeFileAtomically } = await import('../atomic-write.js');
    writeFileAtomically(
      await fileFor(place, key),
      JSON.stringify({ v: 1, generation, sealed: seal.seal(copyKey(generation, key), value) }),
    );
  } catch {
    // Only a copy.
  }
}

/** Drops the copy of `key` (a logout on this runner removes its copies at once). */
export async function dropFleetCopy(
  options: { target: RedisTarget; prefix: string; fleetCacheDir?: string },
  key: string,
): Promise<void> {
  if (!options.fleetCacheDir || !key.startsWith(ACCESS_PREFIX)) return;
  try {
    unlinkSync(await fileFor({ target: options.target, prefix: options.prefix, dir: options.fleetCacheDir }, key));
  } catch {
    // None there.
  }
}

/**
 * The cached-token path's view of the fleet store: answers `get` for access-token keys from this
 * runner's copy when Redis says the copy's generation is current and nobody holds the lease, and
 * null (a miss: the full CLI then reads Redis) otherwise. Never writes Redis, never loads its client.
 */
export function fleetAccessReader(env: NodeJS.ProcessEnv): SecretStore {
  const miss = async () => null;
  const unsupported = () => Promise.reject(new Error('the fleet copies are read-only'));
  return {
    kind: 'redis',
    location: 'fleet copies',
    describe: (key) => `local copy of ${key}`,
    async get(key) {
      const raw = rawKey(env.VAULT_STORE_KEY ?? '');
      const lease = leaseOf(key);
      if (!raw || !lease) return miss();
      const target = parseRedisUrl(env.VAULT_STORE!, env);
      const prefix = env.VAULT_REDIS_PREFIX ?? 'vault:';
      const place = { target, prefix, dir: fleetCacheDir(env) };
      const file = await fileFor(place, key);
      const text = readPrivateFile(file);
      if (text === undefined) return miss();
      const copy = JSON.parse(text) as { v?: unknown; generation?: unknown; sealed?: unknown };
      if (copy.v !== 1 || typeof copy.generation !== 'string' || typeof copy.sealed !== 'string') return miss();
      const commands: string[][] = [];
      if (target.password !== undefined)
        commands.push(['AUTH', ...(target.username !== undefined ? [target.username] : []), target.password]);
      if (target.db !== 0) commands.push(['SELECT', String(target.db)]);
      commands.push(readAtOnce(leaseKeys(prefix, lease)));
      const timeout = Number(env.VAULT_REDIS_TIMEOUT) > 0 ? Number(env.VAULT_REDIS_TIMEOUT) * 1000 : 5000;
      const replies = await ask(target, commands, timeout);
      const [holder, generation] = (replies?.at(-1) ?? []) as [unknown, unknown];
      if (holder !== '' || generation !== copy.generation) {
        // Another generation: this copy will never be answered again.
        if (holder === '') unlinkQuietly(file);
        return miss();
      }
      const seal: Sealer = await sealer(raw, { prefix, db: target.db });
      return seal.open(copyKey(copy.generation, key), copy.sealed, `local copy of ${key}`);
    },
    set: unsupported,
    commit: unsupported,
    delete: unsupported,
    keys: unsupported,
  };
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already.
  }
}
