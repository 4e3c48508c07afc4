import { StoreError, TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { storeKeySetting } from './seal.js';

type Client = import('@redis/client').RedisClientType;
type ClientModule = typeof import('@redis/client');

// How long a holder that has spent the refresh token keeps trying to store the rotated one
// through an outage (a restart, a failover) before the login is given up.
export const RESCUE_MS = 60_000;

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
 * One connection to the fleet's Redis, opened on the first command. The client library is loaded
 * then too, so other stores never pay for it. A server that cannot be reached, times out, or is
 * read-only is a temporary failure (exit 4), never "not logged in".
 */
export class RedisConnection {
  readonly #o: RedisStoreOptions;
  readonly location: string;
  #module: ClientModule | undefined;
  #client: Promise<Client> | undefined;
  #pending = 0;

  constructor(options: RedisStoreOptions) {
    this.#o = options;
    this.location = options.target.display;
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
      // rotated refresh token in hand reconnects (persist).
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

  /**
   * The refresh token was spent at the provider: its successor must reach Redis or the login is
   * lost. Through a restart or a failover, reconnect and retry for up to RESCUE_MS (the lease,
   * kept in the append-only file, still keeps the other machines out).
   */
  async persist(args: string[]): Promise<unknown> {
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
}
