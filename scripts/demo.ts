// `npm run demo`: the whole job end to end, on this machine only. A local OpenID Connect server
// (the test suite's oidc-provider) stands in for Google; a throwaway vault configuration points at
// it; then the commands a user would type run one by one, each printed with its real output and
// every token shortened. Exits 1 if a step that should succeed fails, so CI catches regressions.
// Leaves nothing behind: temporary directories, keychain entries, the server and its sockets go.
//
//   npm run demo                 # the real browser when there is a display and a terminal
//   npm run demo -- --scripted   # a scripted browser in any case
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readLogin } from '../src/core/credentials.js';
import { openStore } from '../src/infra/stores/index.js';
import { startTestServer, type TestServer } from '../test/support/oidc-server.js';
import type { Deps } from '../src/core/ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VAULT = join(ROOT, 'bin', 'vault.js');
const ACCESS_TOKEN_TTL = 4;
const PROVIDER = 'demo';
const STEP_TIMEOUT_MS = 60_000;

type Keyring = typeof import('@napi-rs/keyring');
const keyring = createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;
const KEYRING_OPTIONS = { linux: { store: 'secret-service' as const } };

const out = (line = '') => process.stdout.write(`${line}\n`);
const bold = (text: string) =>
  process.stdout.isTTY && process.env.NO_COLOR === undefined ? `\x1b[1m${text}\x1b[22m` : text;
const note = (text: string) => out(`  # ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** First 6 characters and an ellipsis: enough to tell tokens apart, never enough to use one. */
const shorten = (token: string) => `${token.slice(0, 6)}…`;

/** A fingerprint to compare refresh tokens by without printing them. */
const fingerprint = (token: string) => `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;

/**
 * Shortens every token in `text`: first the exact values the server issued, then anything that
 * looks like one (state, nonce and PKCE challenge in the login URL, too).
 */
function redact(text: string, server: TestServer): string {
  let result = text;
  for (const token of server.issuedTokens()) result = result.split(token).join(shorten(token));
  return result.replace(/[A-Za-z0-9_~+/-]{24,}/g, (m) =>
    /\d/.test(m) && /[A-Z]/.test(m) && /[a-z]/.test(m) ? shorten(m) : m,
  );
}

function keychainAnswers(service: string): boolean {
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) return false;
  try {
    new keyring.Entry(service, 'probe', KEYRING_OPTIONS).getSecret();
    return true;
  } catch {
    return false;
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

interface Step {
  code: number | null;
  stdout: string;
  stderr: string;
}

class Demo {
  readonly failures: string[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'vault-demo-'));
  readonly service = `vault-demo-${process.pid}`;
  readonly env: NodeJS.ProcessEnv;
  readonly useKeychain: boolean;
  readonly children = new Set<import('node:child_process').ChildProcess>();

  constructor(
    readonly server: TestServer,
    readonly browser: 'real' | 'scripted',
  ) {
    this.useKeychain = process.env.VAULT_STORE === 'file' ? false : keychainAnswers(this.service);
    // The user's own VAULT_* settings (account, store, tokens) must not leak into the demo.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VAULT_')));
    this.env = {
      ...inherited,
      VAULT_CONFIG_DIR: join(this.dir, 'config'),
      VAULT_DATA_DIR: join(this.dir, 'data'),
      VAULT_STORE: this.useKeychain ? 'keychain' : 'file',
      VAULT_KEYRING_SERVICE: this.service,
      ...(browser === 'scripted' && {
        VAULT_BROWSER: `${quote(process.execPath)} --import tsx ${quote(join(ROOT, 'test', 'support', 'fetch-browser-cli.ts'))}`,
      }),
    };
  }

  /** Runs `vault <args>` as a user would, prints it and its output, and records a failure when the exit code is not `expect`. */
  async vault(args: string[], expect = 0, shown = args.map(quote).join(' ')): Promise<Step> {
    out();
    out(bold(`$ vault ${shown}`));
    const child = spawn(process.execPath, [VAULT, ...args], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    let printed = '';
    const print = (chunk: string) => {
      printed += chunk;
      const lines = printed.split('\n');
      printed = lines.pop()!;
      for (const line of lines) out(redact(line, this.server));
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      print(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      print(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), STEP_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    this.children.delete(child);
    if (printed) out(redact(printed, this.server));
    if (code !== 0) note(code === expect ? `exit ${code}, as expected` : `exit ${code}`);
    if (code !== expect) this.failures.push(`vault ${shown} exited ${code}, expected ${expect}`);
    return { code, stdout, stderr };
  }

  check(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }

  /** The stored refresh token, read through vault's own store code (keychain or file). */
  async storedRefreshToken(): Promise<string | undefined> {
    const deps: Deps = {
      io: {
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        stdinIsTTY: false,
        stderrIsTTY: false,
      },
      env: this.env,
      clock: { now: () => Date.now() },
      debug: () => {},
    };
    return (await readLogin(openStore(deps), PROVIDER, 'default'))?.refresh_token;
  }

  /** Removes what the demo created; returns what had to be cleaned up that logout should have removed. */
  cleanup(): string[] {
    for (const child of this.children) child.kill('SIGTERM');
    const leftovers: string[] = [];
    if (this.useKeychain) {
      for (const c of keyring.findCredentials(this.service)) {
        leftovers.push(`keychain entry ${c.account}`);
        new keyring.Entry(this.service, c.account, KEYRING_OPTIONS).deleteCredential();
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    return leftovers;
  }
}

function counts(server: TestServer): string {
  const c = server.counts;
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return [
    n(c.authorizationCode, 'authorization code grant'),
    n(c.refresh, 'refresh grant'),
    n(c.revocations, 'revocation'),
    n(c.grantErrors, 'refused grant'),
  ].join(', ');
}

async function tour(demo: Demo, server: TestServer): Promise<void> {
  await demo.vault([
    'provider',
    'add',
    PROVIDER,
    '--issuer',
    server.issuer,
    '--client-id',
    server.publicClientId,
    '--scope',
    'openid',
    '--scope',
    'email',
    '--scope',
    'offline_access',
  ]);

  if (demo.browser === 'real') note('your browser opens; the demo server logs you in as alice without asking anything');
  await demo.vault(['login', PROVIDER, '--timeout', '60']);

  await demo.vault(['token', PROVIDER]);
  const json = await demo.vault(['token', PROVIDER, '--json']);
  let expiresAt: number | undefined;
  try {
    expiresAt = Date.parse((JSON.parse(json.stdout) as { expires_at: string }).expires_at);
  } catch {
    demo.check(false, 'vault token --json printed no expires_at');
  }

  const fingerprintNow = async () => {
    const token = await demo.storedRefreshToken();
    return token && fingerprint(token);
  };
  const before = await fingerprintNow();
  const refreshes = server.counts.refresh;
  if (expiresAt !== undefined) {
    const wait = Math.max(0, expiresAt - Date.now()) + 250;
    out();
    note(
      `access tokens of this server live ${ACCESS_TOKEN_TTL} s: waiting ${(wait / 1000).toFixed(1)} s for this one to expire…`,
    );
    await sleep(wait);
  }
  await demo.vault(['token', PROVIDER]);
  const after = await fingerprintNow();
  demo.check(
    server.counts.refresh === refreshes + 1,
    `expected one refresh grant after expiry, the server saw ${server.counts.refresh - refreshes}`,
  );
  if (before && after && before !== after) {
    note(
      `refreshed with rotation: refresh token ${before} → ${after} (the old one is spent; reusing it would revoke the login)`,
    );
  } else {
    demo.check(false, 'the refresh token did not rotate');
    note(`refresh token ${before ?? 'missing'} → ${after ?? 'missing'}: not rotated`);
  }

  await demo.vault(['exec', PROVIDER, '--', 'sh', '-c', 'printf "DEMO_ACCESS_TOKEN=%.6s…\\n" "$DEMO_ACCESS_TOKEN"']);
  await demo.vault(['env', PROVIDER]);
  await demo.vault(['status']);

  const refreshToken = await demo.storedRefreshToken();
  const revocations = server.counts.revocations;
  await demo.vault(['logout', PROVIDER]);
  demo.check(server.counts.revocations === revocations + 1, 'logout sent no revocation the server accepted');
  if (refreshToken) {
    const active = (await server.introspect(refreshToken)).active;
    note(`the server now says the refresh token is ${active ? 'STILL ACTIVE' : 'inactive'} (RFC 7662 introspection)`);
    demo.check(!active, 'the refresh token is still active after logout');
  }
  await demo.vault(['status', PROVIDER], 3);
  out();
  note(`the server saw ${counts(server)}`);
}

async function main(): Promise<number> {
  const started = Date.now();
  const scripted = process.argv.includes('--scripted');
  const display =
    process.platform === 'darwin' ||
    process.platform === 'win32' ||
    Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  const browser = !scripted && display && process.stdin.isTTY ? 'real' : 'scripted';
  const server = await startTestServer({ accessTokenTtl: ACCESS_TOKEN_TTL });
  const demo = new Demo(server, browser);
  const stop = () => {
    demo.cleanup();
    void server.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  out(bold('vault demo: the whole job against a local authorization server; nothing leaves this machine.'));
  out(
    `  server   ${server.issuer} (oidc-provider: PKCE, ${ACCESS_TOKEN_TTL}-second access tokens, rotating refresh tokens with reuse detection, revocation)`,
  );
  out(`  files    ${demo.dir} (VAULT_CONFIG_DIR and VAULT_DATA_DIR; removed at the end)`);
  out(
    `  store    ${demo.useKeychain ? `the OS keychain, service "${demo.service}" (its entries are removed at the end)` : 'the file store in that directory (VAULT_STORE=file: no OS keychain answered)'}`,
  );
  out(
    `  browser  ${browser === 'real' ? 'yours' : 'a scripted one (test/support/fetch-browser-cli.ts as VAULT_BROWSER; no display or no terminal, or --scripted)'}`,
  );
  out('  Tokens are shortened to their first 6 characters in what follows.');

  try {
    await tour(demo, server);
  } catch (error) {
    demo.failures.push(`the demo itself failed: ${(error as Error).message}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const left of demo.cleanup()) demo.failures.push(`logout left ${left} behind`);
    await server.close();
  }
  out();
  out(
    `Cleaned up: removed ${demo.dir}${demo.useKeychain ? ` and keychain service "${demo.service}"` : ''}, closed the server.`,
  );
  if (demo.failures.length) {
    out(bold(`demo FAILED (${demo.failures.length}):`));
    for (const f of demo.failures) out(`  - ${f}`);
    return 1;
  }
  out(bold(`demo finished: every step passed in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
  return 0;
}

process.exitCode = await main();
