// How the CLI chooses and reports its store, seen from outside: the file-store fallback and its
// warning, a missing or locked keychain (exit 5, never "not logged in"), and a bad VAULT_STORE.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, runVault, sandbox, type RunResult, type Sandbox } from '../../support/cli.js';
import { addOfflineProvider, offlineProviderArgs } from '../../support/cli-setup.js';
import { startKeyringSession, type KeyringSession } from '../../support/keyring-session.js';

const KEYRING_PUT = fileURLToPath(new URL('../../support/keyring-put.ts', import.meta.url));

/** A sandbox without a session bus: no Secret Service can be reached. */
function busless(extra: NodeJS.ProcessEnv = {}): Sandbox {
  const box = sandbox(extra);
  delete box.env.DBUS_SESSION_BUS_ADDRESS;
  return box;
}

function configToml(box: Sandbox): string {
  return join(box.env.VAULT_CONFIG_DIR!, 'config.toml');
}

function credentialsJson(box: Sandbox): string {
  return join(box.env.VAULT_DATA_DIR!, 'credentials.json');
}

/** `r` exited `code` with exactly one line on stderr, an "error:" matching `message`. */
function assertRefused(r: RunResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
}

describe('store selection without a Secret Service', () => {
  test('auto: the client secret goes to credentials.json (0600) with a one-line warning, never to config.toml', async () => {
    const box = busless();
    try {
      const secret = `cs-${process.pid}-fallback-secret`;
      const r = await addOfflineProvider(box, 'acme', ['--client-secret-stdin'], secret);
      assert.equal(r.stdout, '');
      const warnings = r.stderr.split('\n').filter((l) => /^warning:/.test(l));
      assert.equal(warnings.length, 1, r.stderr);
      assert.ok(
        warnings[0]!.includes(credentialsJson(box)),
        `warning does not name the credentials file: ${warnings[0]}`,
      );
      assert.ok(!r.stderr.includes(secret), 'the secret was printed');

      const creds = JSON.parse(readFileSync(credentialsJson(box), 'utf8')) as {
        v: number;
        entries: Record<string, string>;
      };
      assert.equal(statSync(credentialsJson(box)).mode & 0o777, 0o600);
      assert.deepEqual(JSON.parse(creds.entries['cs:acme']!), { v: 1, client_secret: secret });
      const config = readFileSync(configToml(box), 'utf8');
      assert.match(config, /\[providers\.acme\]/);
      assert.ok(!config.includes(secret), 'the secret is in config.toml');
    } finally {
      box.cleanup();
    }
  });

  test('VAULT_STORE=keychain: exit 5 with a one-line message, and nothing is written anywhere', async () => {
    const box = busless({ VAULT_STORE: 'keychain' });
    try {
      const r = await runVault(offlineProviderArgs('acme', '--client-secret-stdin'), {
        env: box.env,
        input: 'some-secret',
      });
      assertRefused(r, 5, /keychain/i);
      assert.ok(!existsSync(configToml(box)), 'the provider was added although its secret could not be stored');
      assert.ok(!existsSync(credentialsJson(box)), 'VAULT_STORE=keychain fell back to the file store');
    } finally {
      box.cleanup();
    }
  });

  test('VAULT_STORE=bogus is a usage error (exit 2) naming the variable, for add and for token', async () => {
    const box = busless();
    try {
      await addOfflineProvider(box);
      const before = readFileSync(configToml(box), 'utf8');
      const env = { ...box.env, VAULT_STORE: 'bogus' };

      const add = await runVault(offlineProviderArgs('beta', '--client-secret-stdin'), { env, input: 'secret' });
      assertRefused(add, 2, /VAULT_STORE.*bogus/);
      assert.equal(readFileSync(configToml(box), 'utf8'), before);

      const token = await runVault(['token', 'acme'], { env });
      assertRefused(token, 2, /VAULT_STORE.*bogus/);
      assert.equal(token.stdout, '');

      // Checked before any command runs, even one that would not touch the store.
      assertRefused(await runVault(offlineProviderArgs('gamma'), { env }), 2, /VAULT_STORE.*bogus/);
      assert.equal(readFileSync(configToml(box), 'utf8'), before);
    } finally {
      box.cleanup();
    }
  });
});

describe('a locked keychain', () => {
  let session: KeyringSession;
  let box: Sandbox;
  const secret = `cs-${process.pid}-locked-secret`;

  before(async () => {
    session = await startKeyringSession();
    box = sandbox({ DBUS_SESSION_BUS_ADDRESS: session.address });
    const added = await addOfflineProvider(box, 'acme', ['--client-secret-stdin'], secret);
    assert.ok(!/warning/.test(added.stderr), `the keychain was not used: ${added.stderr}`);
    const login = JSON.stringify({
      v: 1,
      refresh_token: 'rt-stored-before-lock',
      scope: 'openid',
      obtained_at: Date.now(),
    });
    const put = await runCommand(
      process.execPath,
      ['--import', 'tsx', KEYRING_PUT, box.env.VAULT_KEYRING_SERVICE!, 'rt:acme:default', login],
      { env: box.env },
    );
    assert.equal(put.code, 0, put.stderr);
    await session.lock();
  });

  after(async () => {
    box?.cleanup();
    await session?.stop();
  });

  test('provider add with a secret: exit 5 saying it is locked; no file-store fallback, config unchanged', async () => {
    const before = readFileSync(configToml(box), 'utf8');
    const r = await runVault(offlineProviderArgs('beta', '--client-secret-stdin'), {
      env: box.env,
      input: 'beta-secret',
    });
    assertRefused(r, 5, /locked/);
    assert.equal(readFileSync(configToml(box), 'utf8'), before);
    assert.ok(!existsSync(credentialsJson(box)), 'a locked keychain made vault fall back to the file store');
  });

  test('token for a stored login: exit 5 saying it is locked, not 3 ("not logged in")', async () => {
    const r = await runVault(['token', 'acme'], { env: box.env });
    assertRefused(r, 5, /locked/);
    assert.equal(r.stdout, '');
  });

  test('token for an account with nothing readable: still exit 5, a locked keychain is not "nothing stored"', async () => {
    const r = await runVault(['token', 'acme', '-a', 'other'], { env: box.env });
    assertRefused(r, 5, /locked/);
  });
});
