import { StoreError, TemporaryError, UsageError, VaultError } from '../../core/errors.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { grantAnswerWaitMs } from '../oauth/one-shot.js';
import { storeKeySetting } from './seal.js';
import { fleetCacheDir } from './fleet-cache.js';

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
  /** How long a sent grant's answer is awaited: max(VAULT_HTTP_TIMEOUT, 60 s). */
  grantWaitMs: number;
  /** Where this runner keeps sealed copies of access tokens (fleet-cache.ts). */
  fleetCacheDir?: string;
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
    grantWaitMs: grantAnswerWaitMs(1000 * (Number(env.VAULT_HTTP_TIMEOUT) || 0)),
    fleetCacheDir: fleetCacheDir(env),
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
  readonly #options: RedisStoreOptions;
  readonly location: string;
  #module: ClientModule | undefined;
  #client: Promise<Client> | undefined;
  /** What #client resolved to, once it did. */
  #ready: Client | undefined;
  #pending = 0;

  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.location = options.target.display;
  }

  #connect(): Promise<Client> {
    if (this.#client) return this.#client;
    const { target, timeoutMs } = this.#options;
    let created: Client | undefined;
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
      }) as unknown as Client;
      created = client;
      // A dropped connection is not retried here: the command fails (exit 4), or a holder with a
      // rotated refresh token in hand reconnects (persist).
      client.on('error', (error: Error) =>
        this.#options.debug(`store: redis ${this.location}: ${error.message.split('\n')[0]}`),
      );
      client.on('end', () => this.#drop(client));
      // connectTimeout covers the TCP (and TLS) connect only, not the HELLO/AUTH/SELECT handshake
      // that follows: a server that accepts and never answers is bounded here, by vault's own timer.
      await this.#bounded(client.connect(), () => client, 'connecting');
      client.unref();
      this.#ready = client;
      this.#options.debug(`store: connected to ${this.location}`);
      return client;
    })();
    this.#client = connecting;
    connecting.catch(() => {
      if (this.#client === connecting) this.#client = undefined;
      created?.destroy();
    });
    return connecting;
  }

  /**
   * `work` within VAULT_REDIS_TIMEOUT, by vault's own timer: @redis/client drops a command's
   * timeout once the command is written to the socket, so a server (or a network path) that goes
   * silent would hold the command forever. On timeout the connection is destroyed, never used
   * again, and the next command connects afresh.
   */
  #bounded<T>(work: Promise<T>, client: () => Client | undefined, what: string): Promise<T> {
    const { timeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const c = client();
        if (c) {
          this.#drop(c);
          c.destroy();
        }
        reject(
          new TemporaryError(
            `cannot reach redis at ${this.location}: no answer within ${timeoutMs / 1000}s (${what}); the connection was dropped`,
          ),
        );
      }, timeoutMs);
    });
    // The losing side's outcome is of no interest once the race is decided.
    work.catch(() => {});
    return Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
  }

  /** Forgets `client` (it is broken) if it is still this connection's: the next command connects afresh. */
  #drop(client: Client): void {
    if (this.#ready === client) {
      this.#ready = undefined;
      this.#client = undefined;
    }
  }

  /** One command; the connection keeps the process alive only while commands are pending. */
  async command(args: string[]): Promise<unknown> {
    let client: Client | undefined;
    try {
      client = await this.#connect();
      if (this.#pending++ === 0) client.ref();
      const sent = client;
      return await this.#bounded(sent.sendCommand(args), () => sent, args[0]!.toUpperCase());
    } catch (error) {
      const failure = this.#failure(error);
      // A connection that failed is not used again: the next command connects afresh.
      if (failure instanceof TemporaryError && client && !client.isReady) this.#drop(client);
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
   * lost. Through a silent connection, a restart or a failover, retry on fresh connections (each
   * attempt bounded, see #bounded) until `until()` — when the holder's lease would end — and for
   * at least RESCUE_MS (the lease, kept in the append-only file, still keeps the other machines
   * out; a write after another holder's is refused by the fence). The last failure is thrown.
   */
  async persist(args: string[], until: () => number = () => 0): Promise<unknown> {
    const rescueEnds = Date.now() + RESCUE_MS;
    let warned = false;
    for (;;) {
      try {
        return await this.command(args);
      } catch (error) {
        const deadline = Math.max(rescueEnds, until());
        if (!(error instanceof TemporaryError) || Date.now() > deadline) throw error;
        if (!warned)
          this.#options.warn(
            `${error.message}; holding the rotated refresh token until redis is back, retrying on new connections (up to ${Math.ceil((deadline - Date.now()) / 1000)}s, while the lease keeps the fleet out)`,
          );
        warned = true;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
}
