// The configuration decides where refresh tokens are sent, so a config directory or config.toml
// that others can write to, or that someone else owns, is refused (exit 2, naming the fix) before
// any request; following the advice makes the command work again.
import assert from 'node:assert/strict';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { expire, loggedIn, type Vault } from '../../support/vault-sandbox.js';

let server: TestServer;
let v: Vault;
before(async () => {
  server = await startTestServer();
  v = await loggedIn(server);
});
after(async () => {
  v.cleanup();
  await server.close();
});

/** `vault token acme` on an expired cache is refused with `fix` in the message, and no refresh reaches the server. */
async function refused(fix: RegExp): Promise<void> {
  await expire(v);
  const refreshes = server.counts.refresh;
  const r = await v.run(['token', 'acme']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, fix);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.equal(server.counts.refresh, refreshes, 'a refresh was sent under an untrusted configuration');
}

async function works(): Promise<void> {
  const r = await v.run(['token', 'acme']);
  assert.equal(r.code, 0, r.stderr);
}

test('a config directory writable by the group or others: exit 2 naming chmod 700, before any request', async () => {
  const dir = v.env.VAULT_CONFIG_DIR!;
  for (const mode of [0o770, 0o707]) {
    chmodSync(dir, mode);
    await refused(
      new RegExp(
        `^error: the configuration directory ${dir} is writable by other users \\(mode ${mode.toString(8)}\\).*: run \`chmod 700 ${dir}\``,
      ),
    );
    chmodSync(dir, 0o700);
    await works();
  }
});

test('a config.toml writable by the group or others: exit 2 naming chmod 600; provider add refuses too', async () => {
  const file = join(v.env.VAULT_CONFIG_DIR!, 'config.toml');
  chmodSync(file, 0o666);
  await refused(
    new RegExp(
      `^error: the configuration file ${file} is writable by other users \\(mode 666\\).*: run \`chmod 600 ${file}\``,
    ),
  );
  const add = await v.run([
    'provider',
    'add',
    'other',
    '--authorization-endpoint',
    'https://other.test/a',
    '--token-endpoint',
    'https://other.test/t',
    '--client-id',
    'x',
  ]);
  assert.equal(add.code, 2, add.stderr);
  chmodSync(file, 0o600);
  await works();
});

test(
  'a config directory or file owned by someone else: exit 2 naming chown',
  { skip: process.getuid?.() !== 0 && 'needs root to hand a file to nobody' },
  async () => {
    const dir = v.env.VAULT_CONFIG_DIR!;
    const file = join(dir, 'config.toml');
    for (const path of [file, dir]) {
      chownSync(path, 65534, 65534);
      await refused(new RegExp(`belongs to another user \\(uid 65534\\).*run \`sudo chown 0 ${path}\``));
      chownSync(path, 0, 0);
    }
    await works();
  },
);
