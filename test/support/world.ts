// Shared set-up for the hardening suites: the real authorization server behind the fault proxy,
// logged-in sandboxes, and the checks that no secret escaped and nothing was lost.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { vault, VAULT_BIN, type RunResult, type Sandbox } from './cli.js';
import { loggedIn, type ProviderSpec, type StoreKind } from './vault-sandbox.js';
import { startTestServer, type TestServer, type TestServerOptions } from './oidc-server.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

export const PROVIDER = 'acme';
export const TOKEN_PATH = '/token';

/** VAULT_BROWSER: follows the authorization URL through the test server to the loopback callback. */

export interface World {
  server: TestServer;
  proxy: FaultProxy;
  close(): Promise<void>;
}

/** The real server, and the fault proxy in front of it. */
export async function startWorld(options: TestServerOptions = {}): Promise<World> {
  const server = await startTestServer(options);
  const proxy = await startFaultProxy(server.issuer);
  return {
    server,
    proxy,
    async close() {
      await proxy.close();
      await server.close();
    },
  };
}

/**
 * The provider with the token and revocation endpoints behind the proxy (the authorization
 * endpoint is the browser's business and goes to the server directly).
 */
export function proxiedProvider(world: World): ProviderSpec {
  return {
    issuer: false,
    endpoints: {
      authorization: `${world.server.issuer}/auth`,
      token: `${world.proxy.url}${TOKEN_PATH}`,
      revocation: `${world.proxy.url}/token/revocation`,
    },
    scopes: ['openid', 'offline_access', 'email'],
  };
}

export async function ok(box: Sandbox, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const r = await vault(box, args, extra);
  assert.equal(r.code, 0, `vault ${args.join(' ')} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}:\n${r.stderr}`);
  return r;
}

/**
 * A sandbox logged in through the world's proxy, in the store `extra.VAULT_STORE` names (file
 * unless told otherwise); `adjust` may change its environment first.
 */
export function loggedInVia(world: World, extra: NodeJS.ProcessEnv = {}, adjust?: (box: Sandbox) => void) {
  const store = (extra.VAULT_STORE ?? 'file') as StoreKind;
  return loggedIn(world.server, { store, env: extra, provider: proxiedProvider(world), adjust });
}

/** The data directory the sandbox's environment gives vault (README, "Files and environment"). */
export function dataDirOf(box: Sandbox): string {
  return box.env.VAULT_DATA_DIR || join(box.env.XDG_DATA_HOME!, 'vault');
}

export function credentialsFile(box: Sandbox): string {
  return join(dataDirOf(box), 'credentials.json');
}

export function entries(box: Sandbox): Record<string, string> {
  return (JSON.parse(readFileSync(credentialsFile(box), 'utf8')) as { entries: Record<string, string> }).entries;
}

type Keyring = typeof import('@napi-rs/keyring');
const keyring = createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;
// As vault does: pinned to the Secret Service, never the kernel keyring.
const SECRET_SERVICE = { linux: { store: 'secret-service' as const } };

/** The keychain entry `key` of the sandbox's service (on the suite's session bus). */
export function keychainEntry(box: Sandbox, key: string): InstanceType<Keyring['Entry']> {
  return new keyring.Entry(box.env.VAULT_KEYRING_SERVICE!, key, SECRET_SERVICE);
}

/** Deletes every keychain entry of the sandbox's service. */
export function clearKeychain(box: Sandbox): void {
  for (const c of keyring.findCredentials(box.env.VAULT_KEYRING_SERVICE!))
    keychainEntry(box, c.account).deleteCredential();
}

/**
 * An access token of the keychain store, from its file in the runtime directory (README,
 * "Storage": the key without `at:` in base64url names the file, which holds `{v, key, value}`).
 */
function runtimeAccessEntry(box: Sandbox, key: string): string | undefined {
  const file = join(
    box.env.XDG_RUNTIME_DIR!,
    'vault',
    'access',
    Buffer.from(key.slice('at:'.length)).toString('base64url'),
  );
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { value: string }).value : undefined;
}

/** An entry as stored, from the file store or the keychain (and its runtime directory), per the sandbox's VAULT_STORE. */
export function storedEntry(box: Sandbox, key: string): string | undefined {
  if (box.env.VAULT_STORE === 'keychain') {
    return (
      (key.startsWith('at:') ? runtimeAccessEntry(box, key) : undefined) ??
      keychainEntry(box, key).getPassword() ??
      undefined
    );
  }
  return entries(box)[key];
}

/** The refresh token stored for acme/default. */
export function storedRefreshToken(box: Sandbox, provider = PROVIDER): string {
  const raw = storedEntry(box, `rt:${provider}:default`);
  assert.ok(raw, 'no login stored');
  const token = (JSON.parse(raw) as { refresh_token?: string }).refresh_token;
  assert.ok(token, 'the stored login has no refresh token');
  return token;
}

/**
 * The login is intact: the stored refresh token is `expected`, the server still honours it, and a
 * refresh through the healthy proxy succeeds without a new login or any grant revocation.
 */
export async function assertLoginIntact(world: World, box: Sandbox, expected: string): Promise<void> {
  assert.equal(storedRefreshToken(box), expected, 'the stored refresh token changed');
  assert.equal(
    (await world.server.introspect(expected)).active,
    true,
    'the server no longer honours the stored refresh token',
  );
  world.proxy.set(TOKEN_PATH, undefined);
  const before = { ...world.server.counts };
  const r = await ok(box, ['token', PROVIDER, '--force-refresh']);
  assert.match(r.stdout, /^\S+\n$/);
  assert.equal(world.server.counts.refresh, before.refresh + 1, 'the healthy refresh did not reach the server');
  assert.equal(world.server.counts.authorizationCode, before.authorizationCode, 'a new login happened');
  assert.equal(world.server.counts.grantRevoked, 0, 'the server revoked a grant');
}

/** Every token, code and ID token the server issued that appears in `text`, shortened for messages. */
export function secretsIn(text: string, server: TestServer): string[] {
  return server
    .issuedTokens()
    .filter((t) => t.length >= 16 && text.includes(t))
    .map((t) => `${t.slice(0, 6)}…`);
}

export function assertNoSecrets(what: string, text: string, server: TestServer): void {
  const found = secretsIn(text, server);
  assert.deepEqual(found, [], `${what} contains ${found.length} issued secret(s)`);
}

/** Every regular file under `dir` except `skip` (absolute paths). */
export function filesUnder(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && !skip.includes(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * No file of the sandbox but the store holds an issued secret (the keychain store's access tokens
 * live in files of the runtime directory: those are the store too).
 */
export function assertNoSecretsInFiles(box: Sandbox, server: TestServer): void {
  const accessCache = join(box.env.XDG_RUNTIME_DIR ?? box.dir, 'vault', 'access', '');
  for (const file of filesUnder(box.dir, [credentialsFile(box)])) {
    if (box.env.VAULT_STORE === 'keychain' && file.startsWith(accessCache)) continue;
    assertNoSecrets(file, readFileSync(file, 'latin1'), server);
  }
}

const cmdlineBuffer = Buffer.alloc(64 * 1024);

/**
 * The command line of process `pid`, NULs and all. One open and as few reads as it takes: the
 * sampler below reads every process's line 50 times a second while a suite runs, and readFileSync
 * (a stat, then reads into buffers it grows for /proc's zero-size files) cost it twice the CPU.
 */
function commandLine(pid: string): string {
  const fd = openSync(`/proc/${pid}/cmdline`, 'r');
  try {
    let text = '';
    for (;;) {
      const n = readSync(fd, cmdlineBuffer, 0, cmdlineBuffer.length, null);
      text += cmdlineBuffer.toString('latin1', 0, n);
      // procfs fills the buffer while there is more: a short read is the end.
      if (n < cmdlineBuffer.length) return text;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Samples the command lines of every process on the machine while it runs, so a test can check
 * afterwards that no secret was ever in argv (no secret in argv).
 */
export function watchCommandLines(): { stop(): Set<string> } {
  const seen = new Set<string>();
  const sample = () => {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        seen.add(commandLine(pid));
      } catch {
        // The process ended between the listing and the read.
      }
    }
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
  };
}

/**
 * Watches the argv of every process while a suite runs. `track` collects what a case's server
 * issued; `check`, the suite's last test, fails if any of it was ever on a command line (and if
 * the sampler never saw vault run, which would make the check empty).
 */
export function argvWatch(): { track(server: TestServer): void; check(): void } {
  const watcher = watchCommandLines();
  const issued: string[] = [];
  return {
    track: (server) => void issued.push(...server.issuedTokens()),
    check() {
      const lines = [...watcher.stop()].join('\n');
      assert.ok(lines.includes(`${VAULT_BIN}\0`), 'the sampler never saw vault run');
      assert.ok(issued.length > 0, 'the cases issued no tokens to look for');
      const found = issued.filter((t) => lines.includes(t));
      assert.equal(found.length, 0, `${found.length} issued secret(s) seen in a command line`);
    },
  };
}

/**
 * One case: a world and a logged-in sandbox (with `extra` env, shaped by `adjust`), torn down
 * afterwards; the sandbox's files are scanned for secrets and what the server issued goes to `argv`.
 */
export async function withLogin(
  argv: ReturnType<typeof argvWatch>,
  options: { extra?: NodeJS.ProcessEnv; adjust?: (box: Sandbox) => void },
  body: (world: World, box: Sandbox) => Promise<void>,
): Promise<void> {
  // The login's access token outlives the case: a case that needs a refresh asks for one
  // (--force-refresh) or drops the cache, so a slow machine cannot slip an extra refresh in.
  const world = await startWorld({ accessTokenTtl: 300 });
  try {
    const box = await loggedInVia(world, options.extra ?? {}, options.adjust);
    try {
      await body(world, box);
      assertNoSecretsInFiles(box, world.server);
    } finally {
      box.cleanup();
    }
  } finally {
    argv.track(world.server);
    await world.close();
  }
}

/** A running `vault` whose stderr can be awaited line by line. */
export interface Running {
  pid: number;
  /** Resolves with the first stderr line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  done: Promise<RunResult>;
}

/**
 * Spawns the built CLI without waiting: with node flags before it (e.g. a preload), through a
 * wrapper command that execs it (e.g. prlimit) when given, and with `input` on stdin.
 */
export function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
  wrapper: string[] = [],
  input?: string,
): Running {
  const argv = [process.execPath, ...nodeFlags, VAULT_BIN, ...args];
  const command = [...wrapper, ...argv];
  const child = spawn(command[0]!, command.slice(1), {
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const hit = stderr.split('\n').find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    line: (pattern) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        done.then(
          (r) => reject(new Error(`vault ended (${r.code ?? r.signal}) before printing ${pattern}:\n${r.stderr}`)),
          reject,
        );
      }),
    done,
  };
}

/** Milliseconds `fn` took, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

/**
 * How much slower than a quiet machine this one runs now: the median of three `node -e 0` start-ups
 * against the 120 ms one takes on a quiet 2-core machine (with NODE_EXTRA_CA_CERTS set), at least 1.
 * Measured once, when a suite loads this file.
 */
function measuredSlowness(): number {
  const runs = [0, 1, 2].map(() => {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    return performance.now() - started;
  });
  return Math.max(1, runs.sort((a, b) => a - b)[1]! / 120);
}

/**
 * Generous bound that only catches hangs (retries are bounded); never a performance claim. On a
 * quiet machine it leaves room for a lock to go stale while a storm suite runs beside (seen at
 * 15.4 s), and stays below what an ignored VAULT_HTTP_TIMEOUT=1 would take (3 attempts at the
 * default 10 s); on a loaded one it grows with the measured slowness, so load alone never crosses it.
 */
export const HANG_BOUND_MS = Math.round(25_000 * measuredSlowness());
