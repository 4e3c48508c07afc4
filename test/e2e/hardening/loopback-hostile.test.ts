// Hostile traffic at the loopback listener of a running `vault login`: forged, replayed and
// injected callbacks, DNS rebinding, oversized requests, floods of connections and slow clients,
// another Unix user's callback and relayed ones.
// The login neither ends with an attacker's code nor dies: only the real callback is accepted,
// the real browser then completes it, and the server exchanged exactly one code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { sandbox, type Sandbox } from '../../support/cli.js';
import { ACCOUNT } from '../../support/oidc-server.js';
import { authorizeWithFetch } from '../../support/fetch-browser.js';
import { LOOPBACK_HOSTILE, type LoopbackHostileCase } from './cases.js';
import { curlAsOtherUser } from '../../support/other-user.js';
import { startTinyproxy } from '../../support/tinyproxy.js';
import { providerAddArgs } from '../../support/vault-sandbox.js';
import {
  HANG_BOUND_MS,
  PROVIDER,
  proxiedProvider,
  argvWatch,
  assertNoSecrets,
  assertNoSecretsInFiles,
  entries,
  ok,
  start,
  startWorld,
  timed,
  type World,
} from '../../support/world.js';

interface Login {
  /** The authorization URL vault printed. */
  url: string;
  port: number;
  state: string;
}

type Answer = number | 'refused' | 'closed without answer';

/** Sends `text` on a fresh connection to the listener and returns the status it answered with. */
function raw(port: number, text: string | Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve('refused');
    });
    socket.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(status ? Number(status[1]) : 'closed without answer');
    });
  });
}

function get(port: number, target: string, host = `127.0.0.1:${port}`, method = 'GET'): Promise<Answer> {
  return raw(port, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
}

/** Opens a connection and resolves once it is connected; `closed` resolves when the listener drops it. */
function hold(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** The real browser's part: the authorization at the server, then the callback. */
async function completeForReal(login: Login): Promise<URL> {
  const callback = await authorizeWithFetch(login.url);
  const response = await fetch(callback, { redirect: 'manual' });
  assert.equal(response.status, 200, 'the real callback was not accepted');
  assert.match(await response.text(), /Logged in/);
  return callback;
}

const argv = argvWatch();
const wrongState = 'attacker-chosen-state-0123456789abcdef';

/** A hostile action before the real login; what it returns runs after it, with the real callback URL. */
type Case = (login: Login, world: World) => Promise<((realCallback: URL) => Promise<void>) | void>;

const CASES: Record<LoopbackHostileCase, Case> = {
  'callback with a wrong state': async ({ port }) => {
    assert.equal(await get(port, `/callback?code=forged&state=${wrongState}`), 400);
  },

  'callback without state': async ({ port }) => {
    assert.equal(await get(port, '/callback?code=forged'), 400);
    assert.equal(await get(port, '/callback'), 400);
  },

  // The attacker runs an authorization of its own (own state, own PKCE), gets a valid code bound
  // to this very redirect URI, and delivers it: RFC 6749 §10.12 login CSRF.
  "attacker's own valid code, with the attacker's state (login CSRF)": async ({ url, port }) => {
    const forged = new URL(url);
    forged.searchParams.set('state', wrongState);
    forged.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const callback = await authorizeWithFetch(forged.href);
    assert.ok(callback.searchParams.get('code'), 'the attacker got no code');
    assert.equal(await get(port, `${callback.pathname}${callback.search}`), 400);
  },

  'error=access_denied injected with a wrong state': async ({ port }) => {
    assert.equal(await get(port, `/callback?error=access_denied&state=${wrongState}`), 400);
  },

  'the real callback replayed after the login':
    async ({ port }) =>
    async (real) => {
      // The exact URL the browser delivered, right state and all: the listener has finished (410) or is gone.
      const again = await get(port, `${real.pathname}${real.search}`);
      assert.ok(again === 'refused' || again === 410, `a replay after the login got ${again}`);
    },

  'right state but a Host that is not the listener (DNS rebinding)': async ({ port, state }) => {
    for (const host of [
      'attacker.example',
      `attacker.example:${port}`,
      `localhost:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port}.attacker.example`,
    ]) {
      assert.equal(await get(port, `/callback?code=forged&state=${state}`, host), 400, `Host: ${host}`);
    }
  },

  'right state but POST, and other paths': async ({ port, state }) => {
    assert.equal(
      await raw(
        port,
        `POST /callback?code=forged&state=${state} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      ),
      404,
    );
    for (const path of [
      `/callback/x?code=forged&state=${state}`,
      `/CALLBACK?code=forged&state=${state}`,
      '/',
      '/favicon.ico',
    ]) {
      assert.equal(await get(port, path), 404, path);
    }
  },

  'request URL over 8 KiB': async ({ port }) => {
    assert.equal(await get(port, `/callback?state=${wrongState}&pad=${'x'.repeat(9000)}`), 414);
  },

  'headers over 16 KiB': async ({ port }) => {
    const big = `GET /callback?state=${wrongState} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Pad: ${'y'.repeat(20_000)}\r\n\r\n`;
    assert.equal(await raw(port, big), 431);
  },

  'bytes that are not HTTP': async ({ port }) => {
    const answers = await Promise.all([
      raw(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])),
      raw(port, 'GET /callback?state=x HTTP/9.9\r\n\r\n'),
      raw(port, '\r\n\r\n\x00\x01\x02 garbage\r\n\r\n'),
    ]);
    for (const a of answers) assert.ok(a === 400 || a === 505 || a === 'closed without answer', `got ${a}`);
  },

  '200 concurrent connections with forged callbacks': async ({ port }) => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => get(port, `/callback?code=forged${i}&state=${wrongState}${i}`)),
    );
    assert.deepEqual([...new Set(answers)], [400]);
  },

  '200 idle connections held open': async ({ port }) => {
    const idle = await Promise.all(Array.from({ length: 200 }, () => hold(port)));
    return async () => {
      // The login finished with all of them still open; the listener has closed them.
      await Promise.all(idle.map((c) => c.closed));
    };
  },

  '20 slow clients sending headers byte by byte (slowloris)': async ({ port }) => {
    const request = `GET /callback?code=forged&state=${wrongState} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'z'.repeat(4096)}\r\n\r\n`;
    const slow = await Promise.all(Array.from({ length: 20 }, () => hold(port)));
    const timers = slow.map(({ socket }) => {
      let i = 0;
      return setInterval(() => {
        if (i < request.length && !socket.destroyed) socket.write(request[i++]!);
      }, 20);
    });
    return async () => {
      await Promise.all(slow.map((c) => c.closed));
      for (const t of timers) clearInterval(t);
    };
  },

  // She read the authorization URL (state and all: once on the browser's argv) and ran it as
  // herself; her code is bound to this listener. It is not her listener: 403, ignored.
  "another Unix user's callback with the right state and a valid code": async ({ url, port }) => {
    const callback = await authorizeWithFetch(url);
    assert.ok(callback.searchParams.get('code'), 'the other user got no code');
    const theirs = await curlAsOtherUser(`http://127.0.0.1:${port}${callback.pathname}${callback.search}`);
    assert.equal(theirs.status, 403);
  },

  // tinyproxy runs as this same user and adds Via; the relay headers refuse from any socket.
  'the callback relayed by a local proxy (tinyproxy), or carrying a relay header': async ({ port, state }) => {
    const target = `/callback?code=forged&state=${state}`;
    const proxy = await startTinyproxy();
    try {
      const relayed = await raw(
        proxy.port,
        `GET http://127.0.0.1:${port}${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(relayed, 403);
    } finally {
      await proxy.close();
    }
    for (const header of [
      'Via: 1.1 proxy',
      'Forwarded: for=192.0.2.1',
      'X-Forwarded-For: 192.0.2.1',
      'X-Real-IP: 192.0.2.1',
    ]) {
      const answer = await raw(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${header}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(answer, 403, header);
    }
  },
};

async function setUp(): Promise<{ world: World; box: Sandbox }> {
  const world = await startWorld();
  const box = sandbox({ VAULT_STORE: 'file' });
  await ok(box, providerAddArgs(world.server, proxiedProvider(world)));
  return { world, box };
}

describe('hostile traffic at the login listener', { concurrency: 4 }, () => {
  for (const name of LOOPBACK_HOSTILE) {
    test(`${name}: refused, and the real login still completes`, async () => {
      const { world, box } = await setUp();
      try {
        const { ms } = await timed(async () => {
          const running = start(['login', PROVIDER, '--no-browser', '--debug'], box.env);
          const url = (await running.line(/^\s+http:\/\/127\.0\.0\.1:\d+\/auth\?/)).trim();
          const params = new URL(url).searchParams;
          const login: Login = {
            url,
            port: Number(new URL(params.get('redirect_uri')!).port),
            state: params.get('state')!,
          };

          const afterLogin = await CASES[name](login, world);
          const real = await completeForReal(login);
          const r = await running.done;
          await afterLogin?.(real);

          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, new RegExp(`^Logged in to acme as (${ACCOUNT.sub}|${ACCOUNT.email})\\.$`, 'm'));
          assertNoSecrets('stderr (--debug)', r.stderr, world.server);
        });
        assert.ok(ms < HANG_BOUND_MS, `took ${Math.round(ms)} ms`);
        assert.equal(world.server.counts.authorizationCode, 1, 'a code other than the real one was exchanged');
        const stored = JSON.parse(entries(box)[`rt:${PROVIDER}:default`]!) as {
          identity: string;
          refresh_token: string;
        };
        assert.ok(
          [ACCOUNT.sub, ACCOUNT.email].includes(stored.identity as 'alice'),
          `stored identity ${stored.identity}`,
        );
        assert.equal((await world.server.introspect(stored.refresh_token)).active, true);
        assertNoSecretsInFiles(box, world.server);
      } finally {
        argv.track(world.server);
        box.cleanup();
        await world.close();
      }
    });
  }
});

test('no issued token or code was ever in the argv of any process during the hostile logins', () => argv.check());
