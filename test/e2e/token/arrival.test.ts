// What a refresh answer must be before vault hands its token out, through the fault proxy in
// front of the real oidc-provider: token text that is a token (RFC 6749 Appendix A: visible ASCII,
// no space), and a token not already expired when it arrives, its lifetime counted from when the
// request was sent. A rotated refresh token in such an answer is still kept: the old one is spent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { vault } from '../../support/cli.js';
import {
  PROVIDER,
  TOKEN_PATH,
  assertLoginIntact,
  credentialsFile,
  entries,
  loggedInVia,
  startWorld,
  storedRefreshToken,
  type World,
} from '../../support/world.js';
import { expire, type Vault } from '../../support/vault-sandbox.js';

/** A world with `ttl`-second access tokens and a sandbox logged in through its proxy. */
async function withWorld(ttl: number, body: (world: World, box: Vault) => Promise<void>): Promise<void> {
  const world = await startWorld({ accessTokenTtl: ttl });
  try {
    const box = await loggedInVia(world);
    try {
      await body(world, box);
    } finally {
      box.cleanup();
    }
  } finally {
    await world.close();
  }
}

/** Every access token cached in the sandbox's file store. */
function cachedAccessTokens(box: Vault): string[] {
  return Object.entries(entries(box))
    .filter(([key]) => key.startsWith('at:'))
    .map(([, value]) => (JSON.parse(value) as { access_token: string }).access_token);
}

const BAD_ACCESS_TOKENS = [
  {
    name: 'a line break and a forged header line, with --header',
    token: 'abc\r\nX-Injected: 1',
    args: ['token', PROVIDER, '--header', '--force-refresh'],
  },
  {
    name: 'an escape sequence for the terminal',
    token: 'abc\u001b]0;owned\u0007\u001b[2J',
    args: ['token', PROVIDER, '--force-refresh'],
  },
  { name: 'a space', token: 'abc def', args: ['token', PROVIDER, '--force-refresh'] },
  {
    name: 'a NUL, for exec (the command never starts)',
    token: 'abc\u0000def',
    args: ['exec', PROVIDER, '--', 'sh', '-c', 'touch "$HOME/exec-ran"'],
    exec: true,
  },
];

describe('token text is checked on arrival', { concurrency: 2 }, () => {
  for (const c of BAD_ACCESS_TOKENS) {
    test(`an access token with ${c.name}: exit 1, never printed, the rotated refresh token kept`, () =>
      withWorld(300, async (world, box) => {
        const before = storedRefreshToken(box);
        const cached = cachedAccessTokens(box);
        world.proxy.set(TOKEN_PATH, { kind: 'rewrite', change: (b) => void (b.access_token = c.token) }, 1);
        // exec refreshes only when the cached token is not fresh.
        if (c.exec) await expire(box);
        const r = await vault(box, c.args);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^error: the server sent an invalid access token \(characters outside visible ASCII\)/m);
        for (const out of [r.stdout, r.stderr]) assert.ok(!out.includes(c.token), 'the token was printed');
        assert.ok(!r.stderr.includes('X-Injected'), 'the forged header reached stderr');
        if (c.exec) assert.ok(!existsSync(join(box.env.HOME!, 'exec-ran')), 'the command ran');
        // Not cached; the login goes on with the refresh token the server rotated in that answer.
        assert.ok(!cachedAccessTokens(box).includes(c.token), 'the invalid access token was cached');
        assert.deepEqual(
          cachedAccessTokens(box).filter((t) => !cached.includes(t)),
          [],
          'a new access token was cached',
        );
        assert.notEqual(storedRefreshToken(box), before, 'the rotated refresh token was not kept');
        await assertLoginIntact(world, box, storedRefreshToken(box));
      }));
  }

  test('a refresh token with a line break: exit 1, nothing stored changed', () =>
    withWorld(300, async (world, box) => {
      const store = readFileSync(credentialsFile(box));
      world.proxy.set(TOKEN_PATH, { kind: 'rewrite', change: (b) => void (b.refresh_token = 'rt\nforged') }, 1);
      const r = await vault(box, ['token', PROVIDER, '--force-refresh']);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: the server sent an invalid refresh token/m);
      assert.ok(!r.stderr.includes('forged'));
      assert.deepEqual(readFileSync(credentialsFile(box)), store, 'the store changed');
      // The server did rotate: the stored refresh token is spent, and the next refresh says so.
      const next = await vault(box, ['token', PROVIDER, '--force-refresh']);
      assert.equal(next.code, 3, next.stderr);
      assert.match(next.stderr, /run `vault login acme`/);
    }));
});

describe('tokens are dated from when the request was sent', () => {
  test('a 3 s token answered 3.5 s late is not handed out (exit 4); the rotated refresh token is kept', () =>
    withWorld(3, async (world, box) => {
      const before = storedRefreshToken(box);
      const cached = cachedAccessTokens(box);
      const refreshes = world.server.counts.refresh;
      world.proxy.set(TOKEN_PATH, { kind: 'delay-response', ms: 3500 }, 1);
      const r = await vault(box, ['token', PROVIDER, '--force-refresh']);
      assert.equal(world.server.counts.refresh, refreshes + 1, 'one refresh at the server');
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, '', 'an expired token was printed');
      assert.match(
        r.stderr,
        /^error: the access token from acme had expired when it arrived: .*\(temporary; try again\)$/m,
      );
      assert.notEqual(storedRefreshToken(box), before, 'the rotated refresh token was not kept');
      assert.equal(world.server.counts.grantRevoked, 0);
      // Nothing stale is cached either, and the login goes on with the rotated refresh token.
      assert.deepEqual(
        cachedAccessTokens(box).filter((t) => !cached.includes(t)),
        [],
        'the expired token was cached',
      );
      const next = await vault(box, ['token', PROVIDER, '--force-refresh']);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(world.server.counts.grantRevoked, 0);
    }));
});
