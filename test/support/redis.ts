// A private redis-server for one test file: its own port, password, directory and append-only
// file (fsync on every write, no RDB snapshots), as a fleet store should run. Never a shared
// instance. The password is in a 0600 config file, not in argv.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface RedisServer {
  host: string;
  port: number;
  password: string;
  /** The ACL user README's fleet recipe gives vault (VAULT_ACL), and its password. */
  aclUser: { name: string; password: string };
  dir: string;
  /** redis://host:port/0, without the password (runners get it from VAULT_REDIS_PASSWORD). */
  url: string;
  /** Everything in the append-only files so far. */
  aof(): string;
  /** redis-cli with the password in its environment (REDISCLI_AUTH); resolves its stdout. */
  cli(args: string[]): Promise<string>;
  /** `MONITOR` from now on; stop() resolves everything it saw. */
  monitor(): Promise<{ stop(): Promise<string> }>;
  /** SIGKILL (or another signal) to the server; it can be started again with start(). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and directory (replaying the append-only file). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  s.listen(0, host);
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

/**
 * The least a fleet store's user needs (README, "Fleet store"): measured against redis-server 7.0 by
 * running the fleet suites under this user and checking that its ACL LOG stays empty. Keys under the
 * default prefix only, no pub/sub channels, and CONFIG not at all (CONFIG GET would show the
 * server's passwords); commands run inside vault's Lua scripts are checked too (INCR, PEXPIRE);
 * SELECT for a database other than 0.
 */
export const VAULT_ACL =
  '~vault:* resetchannels -@all +get +set +del +scan +eval +incr +pexpire +wait +info +ping +select';

export interface RedisOptions {
  host?: string;
  /** More addresses to listen on besides `host` (a veth's, for runners in network namespaces). */
  alsoBind?: string[];
  /** Makes this server a replica of `replicaOf`. */
  replicaOf?: RedisServer;
  /** Runs the server through this command prefix (e.g. `ip netns exec NS`). */
  wrap?: string[];
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const password = randomBytes(18).toString('base64url');
  const aclUser = { name: 'vault', password: randomBytes(18).toString('base64url') };
  const dir = mkdtempSync(join(tmpdir(), 'vault-redis-'));
  const config = [
    `port ${port}`,
    `bind ${[host, ...(options.alsoBind ?? [])].join(' ')}`,
    `requirepass ${password}`,
    `user ${aclUser.name} on >${aclUser.password} ${VAULT_ACL}`,
    'appendonly yes',
    'appendfsync always',
    'save ""',
    `dir ${dir}`,
    'daemonize no',
    'logfile ""',
    ...(options.replicaOf
      ? [`replicaof ${options.replicaOf.host} ${options.replicaOf.port}`, `masterauth ${options.replicaOf.password}`]
      : []),
  ];
  writeFileSync(join(dir, 'redis.conf'), `${config.join('\n')}\n`, { mode: 0o600 });
  let child: ChildProcess | undefined;
  const cliEnv = { PATH: process.env.PATH, REDISCLI_AUTH: password };

  const start = async () => {
    const wrap = options.wrap ?? [];
    child = spawn(
      wrap[0] ?? 'redis-server',
      [...wrap.slice(1), ...(wrap.length ? ['redis-server'] : []), join(dir, 'redis.conf')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    const ready = new Promise<void>((resolve, reject) => {
      child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (/Ready to accept connections/.test(log)) resolve();
      });
      child!.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
    });
    child.stderr!.resume();
    await ready;
  };

  const server: RedisServer = {
    host,
    port,
    password,
    aclUser,
    dir,
    url: `redis://${host}:${port}/0`,
    aof() {
      const aofDir = join(dir, 'appendonlydir');
      return readdirSync(aofDir)
        .map((f) => readFileSync(join(aofDir, f), 'latin1'))
        .join('\n');
    },
    cli(args) {
      return new Promise((resolve, reject) => {
        const c = spawn('redis-cli', ['-h', host, '-p', String(port), ...args], {
          env: cliEnv,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.on('error', reject);
        c.on('close', () => resolve(out));
      });
    },
    async monitor() {
      const c = spawn('redis-cli', ['-h', host, '-p', String(port), 'monitor'], {
        env: cliEnv,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      await new Promise<void>((resolve) =>
        c.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.startsWith('OK')) resolve();
        }),
      );
      return {
        async stop() {
          c.kill();
          await once(c, 'close');
          return out;
        },
      };
    },
    async kill(signal = 'SIGKILL') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    start,
    async close() {
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await start();
  return server;
}

/** A TCP proxy in front of a redis-server that can black-hole a connection at a chosen write. */
export interface RedisProxy {
  /** redis://127.0.0.1:PORT/0: the server's database 0 through the proxy. */
  url: string;
  /**
   * From now on, the first client write for which `when(bytes so far on that connection)` holds is
   * not forwarded, and that connection goes silent both ways (never closed): a network path that
   * drops everything, as a failed link or a stalled server looks from the client. Once per call.
   */
  blackHoleAt(when: (sent: string) => boolean): void;
  /** Connections black-holed so far. */
  blackHoled(): number;
  close(): Promise<void>;
}

export async function startRedisProxy(redis: RedisServer): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let trigger: ((sent: string) => boolean) | undefined;
  let holes = 0;
  const server = createServer((client) => {
    const upstream = connect(redis.port, redis.host);
    sockets.add(client).add(upstream);
    let sent = '';
    let silent = false;
    client.on('data', (chunk: Buffer) => {
      if (silent) return;
      sent += chunk.toString('latin1');
      if (trigger?.(sent)) {
        trigger = undefined;
        silent = true;
        holes++;
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}/0`,
    blackHoleAt(when) {
      trigger = when;
    },
    blackHoled: () => holes,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
