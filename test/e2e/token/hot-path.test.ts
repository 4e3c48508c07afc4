// The cached-token path loads only bin/vault.js and dist/cached-token.cjs (plus the keyring
// binding when access tokens live in the keychain): proven by running it from a copy of the
// package without the rest of dist/, and, for the keychain store with its access tokens in the
// runtime directory, without node_modules at all.
import assert from 'node:assert/strict';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { ROOT, cachedTokenPackage, runCommand, runVault } from '../../support/cli.js';
import { expire, loggedIn, type StoreKind } from '../../support/vault-sandbox.js';

let server: TestServer;
let pkg: string;
let bare: string;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  // bin/ and the cached-token bundle only: no dist/main.js, no chunks (commander, openid-client,
  // proper-lockfile, chalk, open).
  pkg = cachedTokenPackage('vault-hot-path-');
  bare = mkdtempSync(join(tmpdir(), 'vault-hot-path-'));
  cpSync(pkg, bare, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
});
after(async () => {
  rmSync(pkg, { recursive: true, force: true });
  rmSync(bare, { recursive: true, force: true });
  await server.close();
});

const cases: [string, StoreKind, NodeJS.ProcessEnv, () => string][] = [
  ['file', 'file', {}, () => pkg],
  ['keychain, VAULT_ACCESS_CACHE=store', 'keychain', { VAULT_ACCESS_CACHE: 'store' }, () => pkg],
  [
    'keychain, access tokens in the runtime directory; no node_modules, so no keyring binding',
    'keychain',
    {},
    () => bare,
  ],
];
for (const [name, kind, extraEnv, copy] of cases) {
  test(`a cached token (${name}) needs nothing but the cached-token bundle`, async () => {
    const v = await loggedIn(server, { store: kind, env: extraEnv });
    try {
      const stripped = (args: string[], env: NodeJS.ProcessEnv = {}) =>
        runVault(args, { env: { ...v.env, ...env }, bin: join(copy(), 'bin', 'vault.js') });
      const cached = (await v.readAccess())!;

      for (const args of [
        ['token', 'acme'],
        ['token', 'acme', '--min-valid', '120', '--header'],
        ['token', '-a', 'default', 'acme', '--json'],
      ]) {
        const r = await stripped(args);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(cached.access_token), args.join(' '));
      }
      const passThrough = await stripped(['token', 'acme'], { VAULT_ACME_ACCESS_TOKEN: 'from-ci' });
      assert.equal(passThrough.stdout, 'from-ci\n');

      // The same copy cannot refresh: a refresh really does leave the fast path.
      await expire(v);
      const refresh = await stripped(['token', 'acme']);
      assert.notEqual(refresh.code, 0);
      assert.equal(refresh.stdout, '');
    } finally {
      v.cleanup();
    }
  });
}

// Node 20 has no compile cache: bin/vault.js keeps V8's code cache of the bundle in
// $XDG_CACHE_HOME/vault. Compiled code read from there runs as vault, so it is written only into a
// private directory, and a damaged file costs a compile, never the answer.
test('the code cache: one 0600 file in a private 0700 directory, written after an answer, survived when damaged', async () => {
  const v = await loggedIn(server, { store: 'file' });
  try {
    const cacheHome = join(v.sb.dir, 'cache');
    const dir = join(cacheHome, 'vault');
    const env = { XDG_CACHE_HOME: cacheHome };
    const token = (await v.readAccess())!.access_token;
    const cacheFiles = () => (existsSync(dir) ? readdirSync(dir) : []);
    const answers = async () => {
      const r = await v.run(['token', 'acme'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${token}\n`);
    };

    const unknown = await v.run(['token', 'nosuch'], env);
    assert.equal(unknown.code, 2);
    assert.ok(!existsSync(dir), 'a call that did not answer from the cache created the cache directory');

    await answers();
    const [file, ...more] = cacheFiles();
    assert.ok(file && more.length === 0, `one cache file: ${cacheFiles().join(', ')}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600);
    assert.ok(!readFileSync(join(dir, file)).includes(token), 'the token is in the code cache');
    await answers();

    writeFileSync(join(dir, file), 'not a code cache');
    await answers();
    assert.ok(statSync(join(dir, file)).size > 1000, 'the damaged cache was not rewritten');

    // A directory others can write to is not written to (and what is in it is not trusted).
    rmSync(dir, { recursive: true });
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    await answers();
    assert.deepEqual(cacheFiles(), []);
  } finally {
    v.cleanup();
  }
});

// V8 checks a code cache against the source's length only: a cache keyed on size and mtime ran the
// old build's code after a rebuild that kept both. The cache is used only for the very source it
// was made from.
test('the code cache of an earlier build never runs in place of a rebuilt bundle of the same size and mtime', async () => {
  const install = mkdtempSync(join(tmpdir(), 'vault-rebuild-'));
  try {
    mkdirSync(join(install, 'bin'));
    mkdirSync(join(install, 'dist'));
    cpSync(join(ROOT, 'bin', 'vault.js'), join(install, 'bin', 'vault.js'));
    cpSync(join(ROOT, 'bin', 'package.json'), join(install, 'bin', 'package.json'));
    const bundle = join(install, 'dist', 'cached-token.cjs');
    const build = (says: string) => {
      writeFileSync(bundle, `exports.printCachedToken = async () => (process.stdout.write('${says}\\n'), true);\n`);
      utimesSync(bundle, 1_700_000_000, 1_700_000_000);
    };
    const env = { PATH: process.env.PATH, HOME: install, XDG_CACHE_HOME: join(install, 'cache') };
    const run = async () => {
      const r = await runCommand(process.execPath, [join(install, 'bin', 'vault.js'), 'token'], { env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    build('first build');
    assert.equal(await run(), 'first build\n');
    assert.equal(readdirSync(join(install, 'cache', 'vault')).length, 1, 'the code cache was written');
    assert.equal(await run(), 'first build\n');
    build('other build');
    assert.equal(await run(), 'other build\n', "the first build's cached code ran");
    assert.equal(await run(), 'other build\n');
  } finally {
    rmSync(install, { recursive: true, force: true });
  }
});
