// What `vault token` does when the refresh cannot happen: a revoked login (exit 3 with the
// command to run), an unreachable or failing server (exit 4, stored refresh token kept), a host
// that does not exist (exit 2), Retry-After, and a process killed while it held the refresh lock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { VAULT_BIN, within } from '../../support/cli.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../../support/fault-proxy.js';
import { expire, loggedIn, login, type Vault, tokenVia, vaultSandbox } from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

describe('a refresh token revoked at the server', () => {
  test('exit 3, naming `vault login acme`', async () => {
    const v = await loggedIn(server);
    try {
      await server.revokeGrantOf((await v.readLogin())!.refresh_token!);
      await expire(v);
      const r = await v.run(['token', 'acme']);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /invalid_grant/);
      assert.match(r.stderr, /run `vault login acme`/);
    } finally {
      v.cleanup();
    }
  });

  test('for a non-default account the command carries -a', async () => {
    const v = await loggedIn(server);
    try {
      await login(v, 'work');
      await server.revokeGrantOf((await v.readLogin('work'))!.refresh_token!);
      await expire(v, 'work');
      const r = await v.run(['token', 'acme', '-a', 'work']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /run `vault login acme -a work`/);
      // The default account's login is a different grant and still works.
      const ok = await v.run(['token', 'acme', '--force-refresh']);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      v.cleanup();
    }
  });

  test('nothing stored: exit 3 with the login command, and no login attempt', async () => {
    const v = await loggedIn(server);
    try {
      // The sandbox's VAULT_BROWSER completes logins on its own: a token call must not use it.
      const logins = server.counts.authorizationCode;
      const r = await v.run(['token', 'acme', '-a', 'nobody']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /run `vault login acme -a nobody`/);
      assert.equal(r.stdout, '');
      assert.equal(server.counts.authorizationCode, logins);
    } finally {
      v.cleanup();
    }
  });
});

/** `status` with a plain body, and Retry-After when given. */
function unavailable(status: number, retryAfter?: string): Fault {
  return {
    kind: 'status',
    status,
    body: 'unavailable\n',
    ...(retryAfter && { headers: { 'retry-after': retryAfter } }),
  };
}

/** A server of its own, a fault proxy in front of its token endpoint, and a login through it. */
interface FaultyEndpoint {
  server: TestServer;
  /** Replaced when a case stops the proxy and starts another on its port. */
  proxy: FaultProxy;
  v: Vault;
  /** The token endpoint (the only one behind the proxy) answers `fault`: every time, or `times` times. */
  tokenFault(fault: Fault, times?: number): void;
  /** The token endpoint passes again; a request left hanging stays so. */
  pass(): void;
  /** Runs `vault token` and checks that it failed temporarily and left the refresh token alone. */
  failsTemporarily(pattern: RegExp, env?: NodeJS.ProcessEnv): Promise<void>;
  /** Once the server answers again, the kept refresh token works. */
  recovers(): Promise<void>;
}

async function faultyEndpoint(): Promise<FaultyEndpoint & { close(): Promise<void> }> {
  const server = await startTestServer({ accessTokenTtl: 300 });
  const f = {
    server,
    proxy: await startFaultProxy(server.issuer),
    v: undefined as unknown as Vault,
    tokenFault(fault: Fault, times?: number) {
      f.proxy.set('/token', fault, times);
    },
    pass() {
      f.proxy.set('/token', undefined);
      f.proxy.release();
    },
    async failsTemporarily(pattern: RegExp, env: NodeJS.ProcessEnv = {}) {
      await expire(f.v);
      const stored = (await f.v.readLogin())!.refresh_token;
      const counts = { ...server.counts };
      const r = await f.v.run(['token', 'acme'], env);
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.equal((await f.v.readLogin())!.refresh_token, stored, 'the stored refresh token is kept');
      assert.equal(server.counts.refresh, counts.refresh);
    },
    async recovers() {
      const counts = { ...server.counts };
      const r = await f.v.run(['token', 'acme']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(server.counts.refresh, counts.refresh + 1);
      assert.equal(server.counts.grantErrors, counts.grantErrors);
      assert.equal((await server.introspect(r.stdout.trim())).active, true);
    },
    async close() {
      f.v?.cleanup();
      await f.proxy.close();
      await server.close();
    },
  };
  try {
    f.v = await loggedIn(server, { provider: { endpoints: tokenVia(server, f.proxy.url) } });
  } catch (error) {
    await f.close();
    throw error;
  }
  return f;
}

// The SIGKILL case waits for a stale lock: it has an endpoint of its own and runs beside the
// others, which share one, one after another.
describe('temporary failures at the token endpoint', { concurrency: true }, () => {
  // Said outright: a suite inside a concurrent one would run its tests side by side too.
  describe('one endpoint, one fault after another', { concurrency: 1 }, () => {
    let shared: Awaited<ReturnType<typeof faultyEndpoint>> | undefined;
    before(async () => {
      shared = await faultyEndpoint();
    });
    after(() => shared?.close());
    function faultCase(name: string, body: (f: FaultyEndpoint) => Promise<void>): void {
      test(name, () => body(shared!));
    }

    faultCase('503 on every attempt: bounded retries, then exit 4; then recovery', async (f) => {
      f.tokenFault(unavailable(503));
      f.proxy.attempts.length = 0;
      await f.failsTemporarily(/HTTP 503.*temporary/);
      assert.equal(f.proxy.attempts.length, 3, 'one attempt and two retries');
      f.pass();
      await f.recovers();
    });

    faultCase('429 is temporary too', async (f) => {
      f.tokenFault(unavailable(429));
      await f.failsTemporarily(/HTTP 429/);
      f.pass();
      await f.recovers();
    });

    faultCase('server down (connection refused): exit 4; back on the same port: works', async (f) => {
      const port = Number(new URL(f.proxy.url).port);
      await f.proxy.close();
      await f.failsTemporarily(/ECONNREFUSED/);
      f.proxy = await startFaultProxy(f.server.issuer, port);
      await f.recovers();
    });

    faultCase('503 with Retry-After: 1 once, then success: the retry waited as told', async (f) => {
      f.tokenFault(unavailable(503, '1'), 1);
      await expire(f.v);
      const r = await f.v.run(['token', 'acme', '--debug']);
      assert.equal(r.code, 0, r.stderr);
      const waits = [...r.stderr.matchAll(/HTTP retry 1\/2 in (\d+)ms/g)].map((m) => Number(m[1]));
      assert.equal(waits.length, 1, r.stderr);
      assert.ok(waits[0]! >= 1000, `waited ${waits[0]}ms, Retry-After asked for 1000`);
      assert.equal((await f.server.introspect(r.stdout.trim())).active, true);
      for (const secret of [r.stdout.trim(), (await f.v.readLogin())!.refresh_token!])
        assert.ok(!r.stderr.includes(secret), 'no secret in --debug output');
    });

    faultCase('a Retry-After longer than we wait for ends the retries at once', async (f) => {
      f.tokenFault(unavailable(503, '3600'));
      f.proxy.attempts.length = 0;
      await f.failsTemporarily(/HTTP 503/);
      assert.equal(f.proxy.attempts.length, 1);
      f.pass();
      await f.recovers();
    });
  });

  test('a process SIGKILLed while holding the refresh lock does not block the next one', async () => {
    const f = await faultyEndpoint();
    try {
      const { v } = f;
      f.tokenFault({ kind: 'hang' });
      await expire(v);
      const stored = (await v.readLogin())!.refresh_token;
      const held = f.proxy.held();
      const child = spawn(process.execPath, [VAULT_BIN, 'token', 'acme'], { env: v.env, stdio: 'ignore' });
      const exited = once(child, 'exit');
      try {
        await within(60_000, 'the refresh to reach the proxy', held);
      } finally {
        child.kill('SIGKILL');
      }
      await within(30_000, 'the killed vault to exit', exited);
      f.pass();
      assert.equal((await v.readLogin())!.refresh_token, stored);
      // The killed process's lock is taken over once stale (seconds); runVault's timeout is generous.
      await f.recovers();
    } finally {
      await f.close();
    }
  });
});

describe('a host that does not exist (ENOTFOUND) is a configuration error, not a temporary one', () => {
  test('discovery: exit 2, naming the host', async () => {
    const v = vaultSandbox('file');
    try {
      const r = await v.run([
        'provider',
        'add',
        'typo',
        '--issuer',
        'https://login.nohost.invalid',
        '--client-id',
        'c',
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^error: cannot reach https:\/\/login\.nohost\.invalid for discovery: host not found \(ENOTFOUND\) at login\.nohost\.invalid:443\n$/,
      );
    } finally {
      v.cleanup();
    }
  });

  test('refresh: exit 2 after one attempt, the stored refresh token kept', async () => {
    const v = await loggedIn(server, { provider: { endpoints: tokenVia(server, server.issuer) } });
    try {
      const file = join(v.env.VAULT_CONFIG_DIR!, 'config.toml');
      const config = readFileSync(file, 'utf8');
      assert.ok(config.includes(`"${server.issuer}/token"`), config);
      writeFileSync(file, config.replace(`"${server.issuer}/token"`, '"https://nohost.invalid/token"'));
      const stored = (await v.readLogin())!.refresh_token;
      const r = await v.run(['token', 'acme', '--force-refresh', '--debug']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: refresh for acme failed: host not found \(ENOTFOUND\) at nohost\.invalid:443$/m);
      assert.equal([...r.stderr.matchAll(/HTTP POST \S+ → host not found/g)].length, 1, 'retried');
      assert.equal((await v.readLogin())!.refresh_token, stored);
    } finally {
      v.cleanup();
    }
  });
});

describe('a damaged store entry', () => {
  test('a corrupt cached token: reported with its location, replaced by a refresh; the login goes on', async () => {
    const v = await loggedIn(server);
    try {
      await v.store().set('at:acme:default:*', '{"v":1,"access_token":');
      const refreshes = server.counts.refresh;
      const r = await v.run(['token', 'acme']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\S+\n$/);
      assert.match(
        r.stderr,
        /^warning: entry "at:acme:default:\*" of .*credentials\.json is corrupt \(not JSON\); refreshing to replace it\n$/,
      );
      assert.equal(server.counts.refresh, refreshes + 1);
      assert.equal((await server.introspect(r.stdout.trim())).active, true);
      const again = await v.run(['token', 'acme']);
      assert.equal(again.stdout, r.stdout, 'the replaced entry serves the next call');
      assert.equal(again.stderr, '');
    } finally {
      v.cleanup();
    }
  });

  test('a login written by a newer vault: exit 5, "upgrade"', async () => {
    const v = await loggedIn(server);
    try {
      await v.store().set('rt:acme:default', JSON.stringify({ v: 2, refresh_token: 'x', scope: '', obtained_at: 0 }));
      await expire(v);
      const r = await v.run(['token', 'acme']);
      assert.equal(r.code, 5);
      assert.match(r.stderr, /entry "rt:acme:default" .* newer vault .*upgrade vault/);
    } finally {
      v.cleanup();
    }
  });
});
