// `vault store info | encrypt | decrypt` as a user runs them, and the rule they exist for: a
// passphrase never converts an existing plaintext store by itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { addOfflineProvider } from '../../support/cli-setup.js';
import { startTestServer } from '../../support/oidc-server.js';
import { loggedIn } from '../../support/vault-sandbox.js';

const SECRET = 'client-secret-kept-in-the-store';

function fileDoc(sb: Sandbox): Record<string, unknown> {
  return JSON.parse(readFileSync(join(sb.env.VAULT_DATA_DIR!, 'credentials.json'), 'utf8')) as Record<string, unknown>;
}

test('VAULT_FILE_PASSPHRASE leaves a plaintext store plaintext (with a warning) until store encrypt; decrypt undoes it', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  const vault = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) =>
    runVault(args, { env: { ...sb.env, ...env }, input });
  const pass = { VAULT_FILE_PASSPHRASE: 'correct horse battery staple' };
  try {
    await addOfflineProvider(sb, 'acme', ['--client-secret-stdin'], SECRET);

    // A write with the passphrase set keeps the format, and says how to convert.
    const set = await vault(['provider', 'set', 'acme', '--client-secret-stdin'], pass, SECRET);
    assert.equal(set.code, 0, set.stderr);
    assert.match(
      set.stderr,
      /^warning: VAULT_FILE_PASSPHRASE is set, but .*credentials\.json is not encrypted.*`vault store encrypt`$/m,
    );
    assert.equal(set.stderr.split('\n').filter((l) => l.startsWith('warning:')).length, 1, 'said once');
    assert.ok('entries' in fileDoc(sb), 'still plaintext');
    const without = await vault(['provider', 'show', 'acme', '--json']);
    assert.equal(without.code, 0, 'everything without the passphrase still works');

    const info = await vault(['store', 'info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^store\s+file$/m);
    assert.match(info.stdout, new RegExp(`^location\\s+${join(sb.env.VAULT_DATA_DIR!, 'credentials.json')}$`, 'm'));
    assert.match(info.stdout, /^health\s+ok$/m);
    assert.match(info.stdout, /^encrypted\s+no$/m);

    const noPass = await vault(['store', 'encrypt']);
    assert.equal(noPass.code, 2);
    assert.match(noPass.stderr, /^error: set VAULT_FILE_PASSPHRASE/);

    const encrypted = await vault(['store', 'encrypt'], pass);
    assert.equal(encrypted.code, 0, encrypted.stderr);
    assert.doesNotMatch(encrypted.stderr, /warning/, 'store encrypt does not tell you to run store encrypt');
    const doc = fileDoc(sb);
    assert.equal(doc.cipher, 'aes-256-gcm');
    assert.ok(!JSON.stringify(doc).includes(SECRET));
    const json = await vault(['store', 'info', '--json'], pass);
    assert.deepEqual(JSON.parse(json.stdout), {
      store: 'file',
      location: join(sb.env.VAULT_DATA_DIR!, 'credentials.json'),
      health: 'ok',
      encrypted: true,
      logins: 0,
    });
    const locked = await vault(['store', 'info']);
    assert.equal(locked.code, 5);
    assert.match(locked.stdout, /^health\s+.*encrypted: set VAULT_FILE_PASSPHRASE$/m);
    assert.equal((await vault(['provider', 'show', 'acme'], pass)).code, 0);

    const decrypted = await vault(['store', 'decrypt'], pass);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    const plain = fileDoc(sb) as { entries: Record<string, string> };
    assert.match(plain.entries['cs:acme']!, new RegExp(SECRET), 'the secret survived both conversions');
  } finally {
    sb.cleanup();
  }
});

test('store info names the keychain when it is the store in use, and conversions refuse it', async () => {
  const sb = sandbox({ VAULT_STORE: 'keychain' });
  try {
    const info = await runVault(['store', 'info'], { env: sb.env });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^store\s+keychain$/m);
    assert.match(info.stdout, /^health\s+ok$/m);
    const encrypt = await runVault(['store', 'encrypt'], { env: { ...sb.env, VAULT_FILE_PASSPHRASE: 'x' } });
    assert.equal(encrypt.code, 2);
    assert.match(encrypt.stderr, /^error: the store in use is the keychain/);
  } finally {
    sb.cleanup();
  }
});

test('store migrate carries the still-valid access token: the next call in the target store spends no refresh', async () => {
  const server = await startTestServer({ accessTokenTtl: 600 });
  const v = await loggedIn(server, { store: 'file' }).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  const keychain = { VAULT_STORE: 'keychain' };
  try {
    const first = await v.run(['token', 'acme']);
    assert.equal(first.code, 0, first.stderr);
    const moved = await v.run(['store', 'migrate', '--to', 'keychain']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stderr, /^Use them with VAULT_STORE=keychain\.$/m);
    const refreshes = server.counts.refresh;
    const next = await v.run(['token', 'acme'], keychain);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stdout, first.stdout, 'the same access token, from the target store');
    assert.equal(server.counts.refresh, refreshes, 'a refresh was spent for nothing');
  } finally {
    await v.run(['logout', 'acme', '--no-revoke'], keychain);
    v.cleanup();
    await server.close();
  }
});

test('VAULT_STORE and store migrate --to take one of the stores, and a wrong one is a usage error that lists them all', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  const stores = 'keychain, file or redis://host:port/db';
  try {
    for (const args of [['token', 'acme'], ['status']]) {
      const typo = await runVault(args, { env: { ...sb.env, VAULT_STORE: 'fiel' } });
      assert.equal(typo.code, 2, typo.stderr);
      assert.equal(typo.stderr, `error: invalid VAULT_STORE "fiel": use auto, ${stores}\n`);
    }
    const auto = await runVault(['store', 'migrate', '--to', 'auto'], { env: sb.env });
    assert.equal(auto.code, 2, auto.stderr);
    assert.equal(auto.stderr, `error: --to names one store: ${stores}\n`);
    // A malformed URL of a store is that store's error, and never repeats a password.
    const target = await runVault(['store', 'migrate', '--to', 'redis://vault:hunter2@'], { env: sb.env });
    assert.equal(target.code, 2, target.stderr);
    assert.match(target.stderr, /^error: invalid VAULT_STORE: not a URL of the form redis:/);
    assert.doesNotMatch(target.stderr, /hunter2/);
  } finally {
    sb.cleanup();
  }
});
