// `vault token` as scripts use it: the cache and its expiry margin, --force-refresh, --scope,
// the output formats, and servers that leave out expires_in or refresh_token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startFaultProxy } from '../../support/fault-proxy.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import {
  addProvider,
  expire,
  loggedIn,
  login,
  vaultSandbox,
  type Vault,
  tokenVia,
} from '../../support/vault-sandbox.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

function refreshes(): number {
  return server.counts.refresh;
}

async function token(v: Vault, ...args: string[]): Promise<string> {
  const r = await v.run(['token', 'acme', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('cache and expiry margin', () => {
  let v: Vault;
  before(async () => {
    v = await loggedIn(server);
  });
  after(() => v.cleanup());

  test('a fresh cached token is printed without a refresh grant', async () => {
    const cached = (await v.readAccess())!.access_token;
    const before = refreshes();
    assert.equal(await token(v), `${cached}\n`);
    assert.equal(await token(v), `${cached}\n`);
    assert.equal(refreshes(), before);
  });

  test('--min-valid below the time left uses the cache; above it refreshes', async () => {
    // 100 s left of a 3100 s token: the half-lifetime cap (1550 s) is not what decides here.
    await v.age(() => ({ issued_at: Date.now() - 3_000_000, expires_at: Date.now() + 100_000 }));
    const cached = (await v.readAccess())!.access_token;
    const before = refreshes();
    assert.equal(await token(v, '--min-valid', '90'), `${cached}\n`);
    assert.equal(await token(v), `${cached}\n`, 'the default margin of 60 s is below 100 s');
    assert.equal(refreshes(), before);

    const fresh = await token(v, '--min-valid', '110');
    assert.notEqual(fresh, `${cached}\n`);
    assert.equal(refreshes(), before + 1);
    assert.equal((await server.introspect(fresh.trim())).active, true);
    assert.equal(await token(v, '--min-valid', '110'), fresh, 'the new token is cached');
    assert.equal(refreshes(), before + 1);
  });

  test('with the default margin, a token with less than 60 s left is refreshed', async () => {
    await v.age(() => ({ issued_at: Date.now() - 3_000_000, expires_at: Date.now() + 50_000 }));
    const cached = (await v.readAccess())!.access_token;
    const before = refreshes();
    assert.notEqual(await token(v), `${cached}\n`);
    assert.equal(refreshes(), before + 1);
  });

  test('a 20 s token with 15 s left is not refreshed by --min-valid 60 (margin capped at half its lifetime); with 5 s left it is', async () => {
    await v.age(() => ({ issued_at: Date.now() - 5_000, expires_at: Date.now() + 15_000 }));
    const cached = (await v.readAccess())!.access_token;
    const before = refreshes();
    assert.equal(await token(v, '--min-valid', '60'), `${cached}\n`);
    assert.equal(refreshes(), before);
    await v.age(() => ({ issued_at: Date.now() - 15_000, expires_at: Date.now() + 5_000 }));
    assert.notEqual(await token(v, '--min-valid', '60'), `${cached}\n`);
    assert.equal(refreshes(), before + 1);
  });

  test('--force-refresh gets a new token with one refresh grant, and caches it', async () => {
    const cached = await token(v);
    const before = refreshes();
    const forced = await token(v, '--force-refresh');
    assert.notEqual(forced, cached);
    assert.equal(refreshes(), before + 1);
    assert.equal((await server.introspect(forced.trim())).active, true);
    assert.equal(await token(v), forced);
    assert.equal(refreshes(), before + 1);
  });

  test('an expired token is never printed', async () => {
    await expire(v);
    const stale = (await v.readAccess())!.access_token;
    const before = refreshes();
    assert.notEqual(await token(v), `${stale}\n`);
    assert.equal(refreshes(), before + 1);
  });

  test('--min-valid must be a whole number of seconds', async () => {
    const r = await v.run(['token', 'acme', '--min-valid', 'soon']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--min-valid expects a whole number of seconds/);
    assert.equal(r.stdout, '');
  });
});

test('a provider issuing tokens shorter than --min-valid: not every call refreshes', async () => {
  // --min-valid 600 against 120 s tokens: the margin is capped at half the lifetime (60 s), which
  // leaves a loaded machine a minute for the login and both calls.
  const short = await startTestServer({ accessTokenTtl: 120 });
  const v = vaultSandbox('file');
  try {
    await addProvider(v, short);
    await login(v);
    const first = await v.run(['token', 'acme', '--min-valid', '600']);
    const second = await v.run(['token', 'acme', '--min-valid', '600']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(short.counts.refresh, 0);
  } finally {
    v.cleanup();
    await short.close();
  }
});

describe('--min-valid of the commands that hand the token on', () => {
  let v: Vault;
  before(async () => {
    v = await loggedIn(server);
  });
  after(() => v.cleanup());

  // How each command shows the token it hands out.
  const commands: Array<{ name: string; args: string[]; tokenOf: (stdout: string) => string }> = [
    {
      name: 'exec',
      args: ['exec', 'acme', '--min-valid', 'N', '--', 'sh', '-c', 'printf %s "$ACME_ACCESS_TOKEN"'],
      tokenOf: (out) => out,
    },
    {
      name: 'env',
      args: ['env', 'acme', '--min-valid', 'N', '--format', 'json'],
      tokenOf: (out) => (JSON.parse(out) as Record<string, string>).ACME_ACCESS_TOKEN!,
    },
    {
      name: 'kube-credential',
      args: ['kube-credential', 'acme', '--min-valid', 'N'],
      tokenOf: (out) => (JSON.parse(out) as { status: { token: string } }).status.token,
    },
  ];
  for (const command of commands) {
    test(`${command.name}: a cached token with more life left than --min-valid is handed out; one with less is refreshed first`, async () => {
      const handedOut = async (minValid: string) => {
        const r = await v.run(command.args.map((a) => (a === 'N' ? minValid : a)));
        assert.equal(r.code, 0, r.stderr);
        return command.tokenOf(r.stdout);
      };
      // 100 s left of a 3100 s token: the half-lifetime cap (1550 s) is not what decides here.
      await v.age(() => ({ issued_at: Date.now() - 3_000_000, expires_at: Date.now() + 100_000 }));
      const cached = (await v.readAccess())!.access_token;
      const before = refreshes();
      assert.equal(await handedOut('90'), cached);
      assert.equal(refreshes(), before, 'a token with 100 s left was refreshed for --min-valid 90');
      const fresh = await handedOut('110');
      assert.notEqual(fresh, cached, 'a token with 100 s left was handed out for --min-valid 110');
      assert.equal(refreshes(), before + 1);
      assert.equal((await v.readAccess())!.access_token, fresh, 'the new token is cached');
    });
  }
});

describe('--scope', () => {
  let v: Vault;
  before(async () => {
    v = await loggedIn(server);
  });
  after(() => v.cleanup());

  test('asks for a subset, cached separately from the full-scope token', async () => {
    const full = await token(v);
    const before = refreshes();

    const narrow = JSON.parse(await token(v, '--scope', 'openid', '--json')) as { access_token: string; scope: string };
    assert.equal(refreshes(), before + 1);
    assert.equal(narrow.scope, 'openid');
    const info = await server.introspect(narrow.access_token);
    assert.equal(info.active, true);
    assert.equal(info.scope, 'openid', 'the server issued the narrowed token');

    assert.equal(
      await token(v, '--scope', 'openid'),
      `${narrow.access_token}\n`,
      'the same subset comes from the cache',
    );
    assert.equal(refreshes(), before + 1);
    assert.equal(await token(v), full, 'the full-scope token is unchanged');
    assert.equal(refreshes(), before + 1);
    assert.equal((await server.introspect(full.trim())).active, true);
  });

  test('the order and repetition of --scope do not matter', async () => {
    const a = await token(v, '--scope', 'openid', '--scope', 'email');
    const before = refreshes();
    assert.equal(await token(v, '--scope', 'email openid'), a);
    assert.equal(await token(v, '--scope', 'email', '--scope', 'openid', '--scope', 'email'), a);
    assert.equal(refreshes(), before);
  });

  for (const storeKind of ['file', 'keychain'] as const) {
    test(`a re-login drops the old grant's tokens of every scope set (${storeKind} store)`, async () => {
      const w = await loggedIn(server, { store: storeKind });
      try {
        const oldNarrow = await token(w, '--scope', 'openid');
        const oldWide = await token(w, '--scope', 'openid', '--scope', 'email');
        await login(w);
        assert.equal(
          await w.readAccess('default', ['openid']),
          undefined,
          "the old grant's openid token is still cached",
        );
        const before = refreshes();
        const narrow = await token(w, '--scope', 'openid');
        assert.notEqual(narrow, oldNarrow, "after a re-login, --scope handed out the old grant's token");
        assert.notEqual(await token(w, '--scope', 'email', '--scope', 'openid'), oldWide);
        assert.equal(refreshes(), before + 2, 'each scope set was refreshed from the new grant');
        assert.equal((await server.introspect(narrow.trim())).scope, 'openid');
      } finally {
        w.cleanup();
      }
    });
  }
});

describe('output formats', () => {
  let v: Vault;
  before(async () => {
    v = await loggedIn(server);
  });
  after(() => v.cleanup());

  test('--json has exactly the documented fields', async () => {
    const r = await v.run(['token', 'acme', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one JSON document');
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc).sort(), [
      'access_token',
      'account',
      'expires_at',
      'expires_in',
      'provider',
      'scope',
      'token_type',
    ]);
    const stored = (await v.readAccess())!;
    assert.equal(doc.access_token, stored.access_token);
    assert.equal(doc.token_type, 'Bearer');
    assert.equal(doc.expires_at, new Date(stored.expires_at!).toISOString());
    assert.match(doc.expires_at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(
      Number.isInteger(doc.expires_in) && (doc.expires_in as number) > 60 && (doc.expires_in as number) <= 300,
      `expires_in ${doc.expires_in}`,
    );
    const granted = (await server.introspect(stored.access_token)).scope as string;
    assert.deepEqual(
      (doc.scope as string).split(' ').sort(),
      granted.split(' ').sort(),
      'the scopes the server granted',
    );
    assert.ok((doc.scope as string).split(' ').includes('api:read'));
    assert.equal(doc.provider, 'acme');
    assert.equal(doc.account, 'default');
  });

  test('--json names a non-default account', async () => {
    await login(v, 'work');
    const doc = JSON.parse(await token(v, '-a', 'work', '--json')) as Record<string, unknown>;
    assert.equal(doc.account, 'work');
    assert.equal(doc.access_token, (await v.readAccess('work'))!.access_token);
    assert.notEqual(doc.access_token, (await v.readAccess())!.access_token);
  });

  test('--header prints an Authorization header line', async () => {
    const plain = (await token(v)).trim();
    assert.equal(await token(v, '--header'), `Authorization: Bearer ${plain}\n`);
  });

  test('--json and --header together are a usage error', async () => {
    const r = await v.run(['token', 'acme', '--json', '--header']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
  });
});

test('a token response without refresh_token keeps the stored refresh token', async () => {
  const plain = await startTestServer({ accessTokenTtl: 300, rotateRefreshToken: false });
  const proxy = await startFaultProxy(plain.issuer);
  const v = vaultSandbox('file');
  try {
    await addProvider(v, plain, { endpoints: tokenVia(plain, proxy.url) });
    await login(v);
    const stored = (await v.readLogin())!.refresh_token;
    proxy.set('/token', {
      kind: 'rewrite',
      change: (body) => {
        delete body.refresh_token;
      },
    });
    const first = await token(v, '--force-refresh');
    assert.equal((await v.readLogin())!.refresh_token, stored);
    const second = await token(v, '--force-refresh');
    assert.notEqual(second, first);
    assert.equal(plain.counts.refresh, 2);
    assert.equal(plain.counts.grantErrors, 0);
  } finally {
    v.cleanup();
    await proxy.close();
    await plain.close();
  }
});

test('an opaque access token without expires_in and no refresh token never expires (GitHub OAuth apps)', async () => {
  const proxy = await startFaultProxy(server.issuer);
  proxy.set('/token', {
    kind: 'rewrite',
    change: (body) => {
      delete body.expires_in;
      delete body.refresh_token;
    },
  });
  const v = vaultSandbox('file');
  try {
    await addProvider(v, server, { endpoints: tokenVia(server, proxy.url) });
    await login(v);
    const login_ = (await v.readLogin())!;
    assert.equal(login_.refresh_token, undefined);
    assert.ok(login_.access_token);
    const before = refreshes();
    assert.equal(await token(v, '--min-valid', '999999999'), `${login_.access_token}\n`);
    const doc = JSON.parse(await token(v, '--json')) as Record<string, unknown>;
    assert.equal(doc.expires_at, null);
    assert.equal(doc.expires_in, null);

    // Without the cache entry the long-lived token is handed out as stored.
    await v.store().delete('at:acme:default:*');
    assert.equal(await token(v), `${login_.access_token}\n`);
    assert.equal(await token(v, '--force-refresh'), `${login_.access_token}\n`);
    assert.equal(refreshes(), before);
  } finally {
    v.cleanup();
    await proxy.close();
  }
});
