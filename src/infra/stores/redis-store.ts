import { StoreError, TemporaryError } from '../../core/errors.js';
import type { Deps, RefreshLock, SecretStore, SetOptions, StoreEntry } from '../../core/ports.js';
import { RESCUE_MS, RedisConnection, redisStoreOptions, type RedisStoreOptions } from './redis-client.js';
import { redisDetails } from './redis-details.js';
import { dropFleetCopy, generationBumps, keepFleetCopy, readWithGeneration } from './fleet-cache.js';
import { SCRYPT, deriveKey, rawKey, sealer, type Sealer } from './seal.js';

export { redisStoreOptions, type RedisStoreOptions } from './redis-client.js';

// Writes the records of one commit in one atomic step (Redis runs a script alone). KEYS: the
// records, then, when fenced, the fence record of the first one; ARGV[1]: the lease generation,
// or '' for no fence; then per record its sealed value ('' deletes it) and its TTL in ms ('': none).
// A fenced commit writes nothing when a later lease generation already wrote the first record
// (fencing, see redis-lease.ts).
const COMMIT =
  "local fenced = ARGV[1] ~= '' local n = #KEYS " +
  "if fenced then n = n - 1 if tonumber(redis.call('GET', KEYS[#KEYS]) or '0') > tonumber(ARGV[1]) then return 0 end end " +
  'for i = 1, n do local value, ttl = ARGV[2 * i], ARGV[2 * i + 1] ' +
  "if value == '' then redis.call('DEL', KEYS[i]) elseif ttl == '' then redis.call('SET', KEYS[i], value) " +
  "else redis.call('SET', KEYS[i], value, 'PX', ttl) end end " +
  "if fenced then redis.call('SET', KEYS[#KEYS], ARGV[1]) end return 1";

// The lease of a holder whose grant may be in flight, in leases (VAULT_REDIS_LEASE; 120 s by
// default). Renewals keep it for as long as the grant and the commit take; this much of it is what
// a holder that cannot renew (starved of CPU, paused, or cut off from Redis by a restart or a
// failover) keeps before the fleet may take over.
const CRITICAL_LEASES = 12;

/**
 * The fleet store: every record sealed (AES-256-GCM, see seal.ts) in one Redis shared by many
 * machines (see redis-client.ts for the connection and its failures).
 */
export class RedisStore implements SecretStore {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly #options: RedisStoreOptions;
  readonly #redis: RedisConnection;
  #sealer: Promise<Sealer> | undefined;
  #replicas: number | undefined;

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#redis = new RedisConnection(options);
    this.location = this.#redis.location;
  }

  describe(key: string): string {
    return `entry "${this.#options.prefix}${key}" of ${this.location}`;
  }

  /** One command (see RedisConnection.command). */
  command(args: string[]): Promise<unknown> {
    return this.#redis.command(args);
  }

  #key(key: string): string {
    return `${this.#options.prefix}${key}`;
  }

  /** Internal keys (locks, fencing, key derivation) start with `_`, which no record key does. */
  #internal(name: string): string {
    return `${this.#options.prefix}_${name}`;
  }

  #seal(): Promise<Sealer> {
    this.#sealer ??= (async () => {
      const raw = rawKey(this.#options.storeKey);
      const place = { prefix: this.#options.prefix, db: this.#options.target.db };
      if (raw) return sealer(raw, place);
      // A passphrase is stretched with a salt kept beside the records, created by the first
      // machine and read by the others (SET NX): one key for the whole fleet.
      const kdfKey = this.#internal('kdf');
      const { randomBytes } = await import('node:crypto');
      const fresh = JSON.stringify({
        v: 1,
        kdf: 'scrypt',
        N: SCRYPT.N,
        r: SCRYPT.r,
        p: SCRYPT.p,
        salt: randomBytes(16).toString('base64'),
      });
      await this.command(['SET', kdfKey, fresh, 'NX']);
      const params = JSON.parse(String(await this.command(['GET', kdfKey]))) as {
        kdf: string;
        N: number;
        salt: string;
      };
      if (params.kdf !== 'scrypt' || params.N !== SCRYPT.N)
        throw new StoreError(
          `${kdfKey} in ${this.location} names a key derivation this vault does not know: upgrade vault`,
        );
      return sealer(await deriveKey(this.#options.storeKey, Buffer.from(params.salt, 'base64')), place);
    })();
    this.#sealer.catch(() => (this.#sealer = undefined));
    return this.#sealer;
  }

  async get(key: string): Promise<string | null> {
    // An access token is read with its lease's generation, and kept as this runner's sealed copy
    // for the cached-token path (fleet-cache.ts).
    const read = readWithGeneration(this.#options.prefix, key);
    const [sealed, generation] = read.split(await this.command(read.args));
    if (sealed === null) return null;
    const value = (await this.#seal()).open(key, String(sealed), this.describe(key));
    this.#options.debug(`store: ${key} read`);
    if (generation !== undefined) await keepFleetCopy(this.#options, key, generation, value);
    return value;
  }

  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    await this.commit([{ key, value, expiresAt: options?.expiresAt }]);
  }

  async commit(entries: readonly StoreEntry[]): Promise<void> {
    await this.#commit(entries);
    // Outside a lease: the runners' copies of what this replaced must not be answered (fleet-cache.ts).
    const bumps = generationBumps(
      this.#options.prefix,
      entries.map((e) => e.key),
    );
    for (const args of bumps) await this.command(args);
  }

  /**
   * The COMMIT script's arguments for `entries`, fenced by `generation` when given. A cached access
   * token lives in Redis exactly as long as it is valid: one already expired is deleted.
   */
  async #commit(
    entries: readonly StoreEntry[],
    fence?: { generation: number; critical: boolean; leaseEnds: () => number },
  ): Promise<boolean> {
    const sealer = await this.#seal();
    const keys = entries.map((e) => this.#key(e.key));
    const args: string[] = [fence ? String(fence.generation) : ''];
    for (const { key, value, expiresAt } of entries) {
      const ttl = expiresAt === undefined || expiresAt === null ? undefined : Math.floor(expiresAt - Date.now());
      args.push(
        value === null || (ttl !== undefined && ttl <= 0) ? '' : sealer.seal(key, value),
        ttl ? String(ttl) : '',
      );
    }
    if (fence) keys.push(this.#internal(`seen:${entries[0]!.key}`));
    const script = ['EVAL', COMMIT, String(keys.length), ...keys, ...args];
    let written: boolean;
    try {
      written =
        Number(fence?.critical ? await this.#redis.persist(script, fence.leaseEnds) : await this.command(script)) === 1;
    } catch (error) {
      if (!fence?.critical || !(error instanceof TemporaryError)) throw error;
      throw new TemporaryError(
        `${error.message} — ${this.describe(entries[0]!.key)} did not take the rotated refresh token before the lease ended; the provider has already spent the old one, so once redis answers again, log in again if \`vault token\` says so`,
        { cause: error },
      );
    }
    if (!written) {
      this.#options.debug(`store: ${entries[0]!.key} was written by a later lease holder; not overwriting it`);
      return false;
    }
    for (const { key, value } of entries) if (value === null) await dropFleetCopy(this.#options, key);
    for (const { key, value } of entries) if (value !== null) await this.#replicate(key);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    await dropFleetCopy(this.#options, key);
    const deleted = Number(await this.command(['DEL', this.#key(key)])) > 0;
    for (const args of generationBumps(this.#options.prefix, [key])) await this.command(args);
    return deleted;
  }

  async keys(prefix: string): Promise<string[]> {
    const pattern = `${this.#key(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = (await this.command(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500'])) as [
        string,
        string[],
      ];
      cursor = String(next);
      for (const k of batch) {
        const key = String(k).slice(this.#options.prefix.length);
        if (!key.startsWith('_')) found.add(key);
      }
    } while (cursor !== '0');
    return [...found].sort();
  }

  details(): Promise<[string, string][]> {
    return redisDetails(
      (args) => this.command(args),
      this.#options.prefix,
      async () => (await this.#seal()).keyId,
    );
  }

  async lock(name: string, options: { until?: () => Promise<boolean> } = {}): Promise<RefreshLock> {
    const { acquireLease } = await import('./redis-lease.js');
    return acquireLease({
      name,
      where: this.location,
      lockKey: this.#internal(`lock:${name}`),
      fenceKey: this.#internal(`fence:${name}`),
      leaseMs: this.#options.leaseMs,
      criticalMs: CRITICAL_LEASES * this.#options.leaseMs,
      // A waiter outwaits a holder in the middle of a grant (whose answer may take grantWaitMs, while
      // its renewals keep the lease) and its rescue write rather than fail.
      waitMs: Math.max(CRITICAL_LEASES * this.#options.leaseMs, this.#options.grantWaitMs + RESCUE_MS),
      command: (args) => this.command(args),
      fencedCommit: (generation, entries, critical, leaseEnds) =>
        this.#commit(entries, { generation, critical, leaseEnds }),
      debug: this.#options.debug,
      ...(options.until && { until: options.until }),
    });
  }

  /**
   * Long-lived records (refresh tokens, client secrets) wait for one replica when the server has
   * any (WAIT): an acknowledged write must survive the failover to that replica.
   */
  async #replicate(key: string): Promise<void> {
    if (!key.startsWith('rt:') && !key.startsWith('cs:')) return;
    if (this.#replicas === undefined) {
      const info = String(await this.command(['INFO', 'replication']));
      this.#replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    }
    if (this.#replicas === 0) return;
    const acked = Number(await this.command(['WAIT', '1', String(this.#options.timeoutMs)]));
    this.#options.debug(`store: ${key} acknowledged by ${acked} replica(s)`);
    if (acked < 1)
      this.#options.warn(
        `no replica of ${this.location} confirmed ${key} within ${this.#options.timeoutMs}ms: a failover now would lose it`,
      );
  }
}

/** Opens the fleet store VAULT_STORE names (see registry.ts). */
export function open(deps: Deps): RedisStore {
  return new RedisStore(redisStoreOptions(deps.env, deps.debug, (m) => deps.io.stderr.write(`warning: ${m}\n`)));
}

/** VAULT_STORE for the fleet store: its URL with the user `value` gave (never the password), and the key. */
export function useWith(store: SecretStore, value: string): string {
  const user = new URL(value).username;
  return `${user ? store.location.replace('://', `://${user}@`) : store.location} (and the same VAULT_STORE_KEY)`;
}
