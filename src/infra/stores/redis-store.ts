import { StoreError, TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import type { Release } from '../../ports.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { SCRYPT, deriveKey, rawKey, sealer, storeKeySetting, type Sealer } from './seal.js';
import type { SecretStore, SetOptions } from '../../ports.js';

type Client = import('@redis/client').RedisClientType;
type ClientModule = typeof import('@redis/client');

// Writes the record unless a later lease generation already wrote it (fencing, see redis-lease.ts).
const FENCED_SET =
  "local seen = tonumber(redis.call('GET', KEYS[2]) or '0') if seen > tonumber(ARGV[1]) then return 0 end " +
  "redis.call('SET', KEYS[1], ARGV[2]) redis.call('SET', KEYS[2], ARGV[1]) return 1";

// How long a holder that has spent the refresh token keeps trying to store the rotated one
// through an outage (a restart, a failover) before the login is given up.
const RESCUE_MS = 60_000;
// The lease of a holder whose grant may be in flight: the grant with its retries, then the rescue.
const CRITICAL_MS = RESCUE_MS + 60_000;

export interface RedisStoreOptions {
  target: RedisTarget;
  /** VAULT_STORE_KEY: base64 of 32 bytes, or a passphrase. */
  storeKey: string;
  /** VAULT_REDIS_PREFIX, default `vault:`. */
  prefix: string;
  timeoutMs: number;
  leaseMs: number;
  debug: (message: string) => void;
  warn: (message: string) => void;
}

// A CommonJS package: its exports are the namespace's `default` (bundled, that is the only place).
async function loadClient(): Promise<ClientModule> {
  const m = await import('@redis/client');
  return ((m as unknown as { default?: ClientModule }).default ?? m) as ClientModule;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 3600)
    throw new UsageError(`${name} expects seconds (0 < s ≤ 3600), got ${JSON.stringify(raw)}`);
  return Math.round(Number(raw) * 1000);
}

export function redisStoreOptions(
  env: NodeJS.ProcessEnv,
  debug: (m: string) => void,
  warn: (m: string) => void,
): RedisStoreOptions {
  return {
    target: parseRedisUrl(env.VAULT_STORE!, env),
    storeKey: storeKeySetting(env),
    prefix: env.VAULT_REDIS_PREFIX ?? 'vault:',
    timeoutMs: seconds(env, 'VAULT_REDIS_TIMEOUT', 5),
    leaseMs: seconds(env, 'VAULT_REDIS_LEASE', 10),
    debug,
    warn,
  };
}

/**
 * The fleet store: every record sealed (AES-256-GCM, see seal.ts) in one Redis shared by many
 * machines. The client library is loaded on first use, so other stores never pay for it. A server
 * that cannot be reached, times out, or is read-only is a temporary failure (exit 4), never "not
 * logged in" and never a reason to use a local store instead.
 */
export class RedisStore implements SecretStore {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly #o: RedisStoreOptions;
  #module: ClientModule | undefined;
  #client: Promise<Client> | undefined;
  #sealer: Promise<Sealer> | undefined;
  #replicas: number | undefined;
  #pending = 0;

  constructor(options: RedisStoreOptions) {
    this.#o = options;
    this.location = options.target.display;
  }

  describe(key: string): string {
    return `entry "${this.#o.prefix}${key}" of ${this.location}`;
  }

  #connect(): Promise<Client> {
    if (this.#client) return this.#client;
    const { target, timeoutMs } = this.#o;
    const connecting = (async () => {
      const mod = (this.#module ??= await loadClient());
      const client = mod.createClient({
        socket: target.tls
          ? {
              host: target.host,
              port: target.port,
              tls: true,
              servername: target.host,
              connectTimeout: timeoutMs,
              reconnectStrategy: false,
            }
          : { host: target.host, port: target.port, connectTimeout: timeoutMs, reconnectStrategy: false },
        ...(target.username !== undefined && { username: target.username }),
        ...(target.password !== undefined && { password: target.password }),
        database: target.db,
        disableOfflineQueue: true,
        commandOptions: { timeout: timeoutMs },
      }) as unknown as Client;
      // A dropped connection is not retried here: the command fails (exit 4), or a holder with a
      // rotated refresh token in hand reconnects (#persist).
      client.on('error', (error: Error) =>
        this.#o.debug(`store: redis ${this.location}: ${error.message.split('\n')[0]}`),
      );
      client.on('end', () => {
        if (this.#client === connecting) this.#client = undefined;
      });
      await client.connect();
      client.unref();
      this.#o.debug(`store: connected to ${this.location}`);
      return client;
    })();
    this.#client = connecting;
    connecting.catch(() => {
      if (this.#client === connecting) this.#client = undefined;
    });
    return connecting;
  }

  /** One command; the connection keeps the process alive only while commands are pending. */
  async command(args: string[]): Promise<unknown> {
    let client: Client | undefined;
    try {
      client = await this.#connect();
      if (this.#pending++ === 0) client.ref();
      return await client.sendCommand(args);
    } catch (error) {
      const failure = this.#failure(error);
      // A connection that failed is not used again: the next command connects afresh.
      if (failure instanceof TemporaryError && client && !client.isReady) this.#client = undefined;
      throw failure;
    } finally {
      if (client && --this.#pending === 0) client.unref();
    }
  }

  #failure(error: unknown): VaultError {
    if (error instanceof VaultError) return error;
    const first = ((error as Error)?.message ?? String(error)).split('\n')[0]!.slice(0, 200);
    if (this.#module && error instanceof this.#module.ErrorReply) {
      const code = first.split(' ')[0]!;
      if (['READONLY', 'LOADING', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'BUSY', 'NOREPLICAS'].includes(code)) {
        return new TemporaryError(
          `redis at ${this.location} cannot take writes now (${code}: a read-only replica, or loading or failing over); try again`,
          { cause: error },
        );
      }
      if (['WRONGPASS', 'NOAUTH', 'NOPERM'].includes(code)) {
        return new StoreError(
          `redis at ${this.location} refused vault (${code}): check the user and password (VAULT_REDIS_PASSWORD) and their ACL`,
          { cause: error },
        );
      }
      return new StoreError(`redis at ${this.location} answered an error: ${first}`, { cause: error });
    }
    return new TemporaryError(`cannot reach redis at ${this.location}: ${first}`, { cause: error });
  }

  #key(key: string): string {
    return `${this.#o.prefix}${key}`;
  }

  /** Internal keys (locks, fencing, key derivation) start with `_`, which no record key does. */
  #internal(name: string): string {
    return `${this.#o.prefix}_${name}`;
  }

  #seal(): Promise<Sealer> {
    this.#sealer ??= (async () => {
      const raw = rawKey(this.#o.storeKey);
      if (raw) return sealer(raw);
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
      return sealer(await deriveKey(this.#o.storeKey, Buffer.from(params.salt, 'base64')));
    })();
    this.#sealer.catch(() => (this.#sealer = undefined));
    return this.#sealer;
  }

  async get(key: string): Promise<string | null> {
    const sealed = await this.command(['GET', this.#key(key)]);
    if (sealed === null) return null;
    return (await this.#seal()).open(key, String(sealed), this.describe(key));
  }

  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    const sealed = (await this.#seal()).seal(key, value);
    const expiresAt = options?.expiresAt;
    if (expiresAt === undefined || expiresAt === null) {
      await this.command(['SET', this.#key(key), sealed]);
      await this.#replicate(key);
      return;
    }
    // The cached access token lives in Redis exactly as long as it is valid.
    const ttl = Math.floor(expiresAt - Date.now());
    await this.command(ttl > 0 ? ['SET', this.#key(key), sealed, 'PX', String(ttl)] : ['DEL', this.#key(key)]);
  }

  async delete(key: string): Promise<boolean> {
    return Number(await this.command(['DEL', this.#key(key)])) > 0;
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
        const key = String(k).slice(this.#o.prefix.length);
        if (!key.startsWith('_')) found.add(key);
      }
    } while (cursor !== '0');
    return [...found].sort();
  }

  /**
   * For `vault store info`: the server, its replicas and persistence (what the consistency promise
   * rests on: README, "Sharing a login across a fleet"), the round trip, and the key's id.
   */
  async details(): Promise<[string, string][]> {
    const started = performance.now();
    await this.command(['PING']);
    const latency = performance.now() - started;
    const info = String(await this.command(['INFO']));
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    let fsync: string;
    try {
      const reply = (await this.command(['CONFIG', 'GET', 'appendfsync'])) as string[] | Record<string, string>;
      fsync = String((Array.isArray(reply) ? reply[1] : reply.appendfsync) ?? 'unknown');
    } catch {
      fsync = 'unknown (CONFIG not allowed)';
    }
    const aof = field('aof_enabled') === '1';
    return [
      [
        'server',
        `redis ${field('redis_version') ?? '?'}, ${field('role') ?? '?'}, ${field('connected_slaves') ?? '0'} replica(s), ${latency.toFixed(1)} ms round trip`,
      ],
      [
        'durability',
        aof
          ? `appendonly, appendfsync ${fsync}${fsync === 'always' ? '' : ' (use always: a crash can lose the last rotated refresh token)'}`
          : 'no append-only file: a restart can bring back a spent refresh token (set appendonly yes, appendfsync always)',
      ],
      ['prefix', this.#o.prefix],
      ['key id', (await this.#seal()).keyId],
    ];
  }

  async lock(name: string, options: { until?: () => Promise<boolean> } = {}): Promise<Release> {
    const { acquireLease } = await import('./redis-lease.js');
    return acquireLease({
      name,
      where: this.location,
      lockKey: this.#internal(`lock:${name}`),
      fenceKey: this.#internal(`fence:${name}`),
      leaseMs: this.#o.leaseMs,
      criticalMs: CRITICAL_MS,
      // A waiter outwaits a holder in the middle of a grant rather than fail.
      waitMs: CRITICAL_MS,
      command: (args) => this.command(args),
      fencedSet: (generation, key, value, critical) => this.#fencedSet(generation, key, value, critical),
      debug: this.#o.debug,
      ...(options.until && { until: options.until }),
    });
  }

  async #fencedSet(generation: number, key: string, value: string, critical: boolean): Promise<boolean> {
    const args = [
      'EVAL',
      FENCED_SET,
      '2',
      this.#key(key),
      this.#internal(`seen:${key}`),
      String(generation),
      (await this.#seal()).seal(key, value),
    ];
    const written = Number(critical ? await this.#persist(args) : await this.command(args)) === 1;
    if (written) await this.#replicate(key);
    else this.#o.debug(`store: ${key} was written by a later lease holder; not overwriting it`);
    return written;
  }

  /**
   * The refresh token was spent at the provider: its successor must reach Redis or the login is
   * lost. Through a restart or a failover, reconnect and retry for up to RESCUE_MS (the lease,
   * kept in the append-only file, still keeps the other machines out).
   */
  async #persist(args: string[]): Promise<unknown> {
    const deadline = Date.now() + RESCUE_MS;
    let warned = false;
    for (;;) {
      try {
        return await this.command(args);
      } catch (error) {
        if (!(error instanceof TemporaryError) || Date.now() > deadline) throw error;
        if (!warned)
          this.#o.warn(
            `${error.message}; holding the rotated refresh token until redis is back (up to ${RESCUE_MS / 1000}s)`,
          );
        warned = true;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
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
    const acked = Number(await this.command(['WAIT', '1', String(this.#o.timeoutMs)]));
    this.#o.debug(`store: ${key} acknowledged by ${acked} replica(s)`);
    if (acked < 1)
      this.#o.warn(
        `no replica of ${this.location} confirmed ${key} within ${this.#o.timeoutMs}ms: a failover now would lose it`,
      );
  }
}
