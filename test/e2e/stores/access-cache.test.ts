// The keychain store's access-token cache in $XDG_RUNTIME_DIR/vault/access: what lands where
// (keychain or runtime files, with which modes), when the runtime directory is not trusted, and
// what a refresh, a logout, a damaged or foreign file, a cache directory open to others and the
// opt-out do to it. Real keychain, real server; the suite runs as root, so a foreign owner is made
// with chown (vault compares owners itself).
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';

import { AccessFileCache } from '../../../src/infra/stores/access-cache.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { addProvider, expire, login, loggedIn, vaultSandbox, type Vault } from '../../support/vault-sandbox.js';
import { entries } from '../../support/world.js';

type Keyring = typeof import('@napi-rs/keyring');
const keyring = createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;
const NOBODY = 65534;

let server: TestServer;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
});
after(() => server.close());

const accessDir = (v: Vault) => join(v.env.XDG_RUNTIME_DIR!, 'vault', 'access');
const keychainKeys = (v: Vault) =>
  keyring
    .findCredentials(v.env.VAULT_KEYRING_SERVICE!)
    .map((c) => c.account)
    .sort();
const files = (v: Vault) => (existsSync(accessDir(v)) ? readdirSync(accessDir(v)).sort() : []);
const fileOf = (v: Vault) => join(accessDir(v), Buffer.from('acme:default:*').toString('base64url'));
const mode = (path: string) => statSync(path).mode & 0o777;

async function token(v: Vault, extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await v.run(['token', 'acme'], extra);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.trim();
}

/** Runs `vault token` once and checks it cost exactly `grants` refresh grants. */
async function tokenWithGrants(v: Vault, grants: number): Promise<string> {
  const before = server.counts.refresh;
  const t = await token(v);
  assert.equal(server.counts.refresh - before, grants, `refresh grants for one \`vault token\``);
  return t;
}

/** Logged in on the keychain store; `prepare` may change the sandbox before the login. */
async function keychainLogin(prepare?: (v: Vault) => void, extraEnv: NodeJS.ProcessEnv = {}): Promise<Vault> {
  const v = vaultSandbox('keychain', extraEnv);
  prepare?.(v);
  await addProvider(v, server);
  await login(v);
  return v;
}

describe('keychain store with a private runtime directory', () => {
  test('access tokens go to 0600 files in 0700 directories; the keychain keeps only the login and secrets', async () => {
    const v = await loggedIn(server, { store: 'keychain' });
    try {
      assert.deepEqual(keychainKeys(v), ['rt:acme:default']);
      assert.equal(mode(join(v.env.XDG_RUNTIME_DIR!, 'vault')), 0o700);
      assert.equal(mode(accessDir(v)), 0o700);
      assert.deepEqual(files(v), [Buffer.from('acme:default:*').toString('base64url')]);
      assert.equal(mode(fileOf(v)), 0o600);
      const cached = (await v.readAccess())!;
      assert.ok(readFileSync(fileOf(v), 'utf8').includes(cached.access_token));
      assert.equal(await tokenWithGrants(v, 0), cached.access_token);

      // Another scope set is another file; the full grant's file is untouched.
      const narrow = await v.run(['token', 'acme', '--scope', 'openid']);
      assert.equal(narrow.code, 0, narrow.stderr);
      assert.equal(files(v).length, 2);
      assert.deepEqual(keychainKeys(v), ['rt:acme:default']);
      assert.equal(await tokenWithGrants(v, 0), cached.access_token);
    } finally {
      v.cleanup();
    }
  });

  test('a refresh replaces the file; logout removes every file of the account', async () => {
    const v = await loggedIn(server, { store: 'keychain' });
    try {
      const old = await token(v);
      await expire(v);
      const fresh = await tokenWithGrants(v, 1);
      assert.notEqual(fresh, old);
      assert.ok(readFileSync(fileOf(v), 'utf8').includes(fresh));
      assert.ok(!readFileSync(fileOf(v), 'utf8').includes(old));
      assert.equal(mode(fileOf(v)), 0o600);
      assert.equal(await tokenWithGrants(v, 0), fresh);
      assert.equal((await v.run(['token', 'acme', '--scope', 'email'])).code, 0);

      const out = await v.run(['logout', 'acme']);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(files(v), []);
      assert.deepEqual(keychainKeys(v), []);
    } finally {
      v.cleanup();
    }
  });

  test('a corrupt file is ignored and replaced by one refresh', async () => {
    const v = await loggedIn(server, { store: 'keychain' });
    try {
      for (const damage of [
        '{"v":1,"key":',
        'not json at all',
        JSON.stringify({ v: 1, key: 'at:other:default:*', value: '{}' }),
      ]) {
        writeFileSync(fileOf(v), damage);
        const t = await tokenWithGrants(v, 1);
        assert.ok(readFileSync(fileOf(v), 'utf8').includes(t), 'the file was replaced');
        assert.equal(await tokenWithGrants(v, 0), t);
      }
    } finally {
      v.cleanup();
    }
  });

  test('a file of another user, or open to others, is ignored and replaced', async () => {
    const v = await loggedIn(server, { store: 'keychain' });
    try {
      chownSync(fileOf(v), NOBODY, NOBODY);
      let t = await tokenWithGrants(v, 1);
      assert.equal(statSync(fileOf(v)).uid, process.getuid!());
      assert.ok(readFileSync(fileOf(v), 'utf8').includes(t));

      chmodSync(fileOf(v), 0o644);
      t = await tokenWithGrants(v, 1);
      assert.equal(mode(fileOf(v)), 0o600);
      assert.equal(await tokenWithGrants(v, 0), t);
    } finally {
      v.cleanup();
    }
  });
});

describe('a cache directory open to others', () => {
  for (const [name, dir] of [
    ['$XDG_RUNTIME_DIR/vault/access', accessDir],
    ['$XDG_RUNTIME_DIR/vault', (v: Vault) => join(v.env.XDG_RUNTIME_DIR!, 'vault')],
  ] as const) {
    test(`${name} at 0755 is refused (exit 5, naming it): no token is written there, and the login survives`, async () => {
      const v = await loggedIn(server, { store: 'keychain' });
      try {
        await expire(v);
        const stale = readFileSync(fileOf(v), 'utf8');
        chmodSync(dir(v), 0o755);
        const r = await v.run(['token', 'acme']);
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.stdout, '');
        assert.equal(
          r.stderr,
          `error: ${dir(v)} is not a private directory of this user (mode 755, uid ${process.getuid!()}): remove it\n`,
        );
        assert.equal(readFileSync(fileOf(v), 'utf8'), stale, 'no token was written into the open directory');
        assert.equal(mode(dir(v)), 0o755);

        // Removed as told, the cache is made again, private, and the (rotated) login still works.
        rmSync(join(v.env.XDG_RUNTIME_DIR!, 'vault'), { recursive: true });
        const t = await tokenWithGrants(v, 1);
        assert.equal(mode(accessDir(v)), 0o700);
        assert.ok(readFileSync(fileOf(v), 'utf8').includes(t));
      } finally {
        v.cleanup();
      }
    });
  }
});

describe('no file cache: access tokens stay in the keychain', () => {
  const cases: [string, (v: Vault) => void, NodeJS.ProcessEnv?][] = [
    ['a group-writable XDG_RUNTIME_DIR', (v) => chmodSync(v.env.XDG_RUNTIME_DIR!, 0o770)],
    ['an XDG_RUNTIME_DIR of another user', (v) => chownSync(v.env.XDG_RUNTIME_DIR!, NOBODY, NOBODY)],
    ['no XDG_RUNTIME_DIR', (v) => delete v.env.XDG_RUNTIME_DIR],
    ['VAULT_ACCESS_CACHE=store', () => {}, { VAULT_ACCESS_CACHE: 'store' }],
  ];
  for (const [name, prepare, extraEnv] of cases) {
    test(name, async () => {
      const v = await keychainLogin(prepare, extraEnv);
      try {
        assert.deepEqual(keychainKeys(v), ['at:acme:default:*', 'rt:acme:default']);
        const runtime = join(v.sb.dir, 'runtime');
        assert.ok(!existsSync(join(runtime, 'vault', 'access')), 'an access-token directory was created');
        const cached = JSON.parse(
          keyring.findCredentials(v.env.VAULT_KEYRING_SERVICE!).find((c) => c.account.startsWith('at:'))!.password,
        );
        assert.equal(await tokenWithGrants(v, 0), cached.access_token);
      } finally {
        v.cleanup();
      }
    });
  }

  test('logout with VAULT_ACCESS_CACHE=store still removes a file written without it', async () => {
    const v = await loggedIn(server, { store: 'keychain' });
    try {
      assert.equal(files(v).length, 1);
      const out = await v.run(['logout', 'acme'], { VAULT_ACCESS_CACHE: 'store' });
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(files(v), []);
      assert.deepEqual(keychainKeys(v), []);
    } finally {
      v.cleanup();
    }
  });

  test('VAULT_ACCESS_CACHE with another value is a usage error', async () => {
    const v = vaultSandbox('keychain', { VAULT_ACCESS_CACHE: 'tmpfs' });
    try {
      await addProvider(v, server);
      const r = await v.run(['token', 'acme']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: invalid VAULT_ACCESS_CACHE "tmpfs": use runtime or store\n$/);
    } finally {
      v.cleanup();
    }
  });

  test('the file store keeps its access tokens in its own file', async () => {
    const v = await loggedIn(server, { store: 'file' });
    try {
      assert.ok(!existsSync(join(v.env.XDG_RUNTIME_DIR!, 'vault', 'access')));
      assert.ok(entries(v)['at:acme:default:*']);
    } finally {
      v.cleanup();
    }
  });
});

describe('AccessFileCache file names', () => {
  test('every provider/account/scope set has its own file, long scope sets included, and listing gives the keys back', async () => {
    const scope = fc.stringMatching(/^[!-~]{1,80}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.array(scope, { maxLength: 6 }), {
          minLength: 1,
          maxLength: 6,
          selector: (s) => [...new Set(s)].sort().join(' '),
        }),
        async (sets) => {
          const dir = mkdtempSync(join(tmpdir(), 'vault-access-'));
          try {
            const cache = new AccessFileCache(join(dir, 'vault', 'access'));
            const keys = sets.map((s) => `at:acme:a@b.c:${s.length ? [...new Set(s)].sort().join(' ') : '*'}`);
            for (const [i, key] of keys.entries()) await cache.set(key, `value-${i}`);
            assert.equal(readdirSync(join(dir, 'vault', 'access')).length, keys.length);
            for (const [i, key] of keys.entries()) assert.equal(await cache.get(key), `value-${i}`);
            assert.deepEqual(await cache.keys('at:acme:'), [...keys].sort());
            assert.deepEqual(await cache.keys('at:acme:other:'), []);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
