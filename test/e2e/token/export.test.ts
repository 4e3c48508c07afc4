// `vault export` hands the refresh token to a CI secret, and the CI side of it: a rejected
// VAULT_<NAME>_REFRESH_TOKEN says which variable to replace and how; a rejected stored token
// shows in `status`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runCommand } from '../../support/cli.js';
import { addProvider, loggedIn, vaultSandbox } from '../../support/vault-sandbox.js';

let rotating: TestServer;
let steady: TestServer;
before(async () => {
  [rotating, steady] = await Promise.all([
    startTestServer({ accessTokenTtl: 300 }),
    startTestServer({ accessTokenTtl: 300, rotateRefreshToken: false }),
  ]);
});
after(() => Promise.all([rotating.close(), steady.close()]));

test('README recipe: export into a CI secret, then the job gets an access token from it', async () => {
  const v = await loggedIn(steady);
  const ci = vaultSandbox('file');
  try {
    const exported = await v.run(['export', 'acme']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, `${(await v.readLogin())!.refresh_token}\n`, 'the refresh token alone on stdout');
    assert.match(exported.stderr, /^warning: the refresh token of acme now lives in two places/);
    assert.ok(!exported.stderr.includes(exported.stdout.trim()));

    // The CI secret as a masked variable holds what the pipe carried (`gh secret set` reads stdin).
    const secretFile = join(ci.sb.dir, 'secret');
    const piped = await runCommand('sh', ['-c', `"${process.execPath}" "$VAULT_BIN" export acme > "${secretFile}"`], {
      env: { ...v.env, VAULT_BIN: join(import.meta.dirname, '..', '..', '..', 'bin', 'vault.js') },
    });
    assert.equal(piped.code, 0, piped.stderr);
    await addProvider(ci, steady);
    const githubEnv = join(ci.sb.dir, 'github_env');
    writeFileSync(githubEnv, '');
    const job = await ci.run(['env', 'acme', '--format', 'github-actions'], {
      VAULT_ACME_REFRESH_TOKEN: readFileSync(secretFile, 'utf8'),
      GITHUB_ENV: githubEnv,
    });
    assert.equal(job.code, 0, job.stderr);
    const token = /ACME_ACCESS_TOKEN<<(\S+)\n(.*)\n\1\n/.exec(readFileSync(githubEnv, 'utf8'))?.[2];
    assert.ok(token && (await steady.introspect(token)).active, 'the job got a live access token');
  } finally {
    v.cleanup();
    ci.cleanup();
  }
});

test('once the login has seen its refresh token rotate, export refuses without --force and points to a fleet store', async () => {
  const v = await loggedIn(rotating);
  try {
    assert.equal((await v.run(['token', 'acme', '--force-refresh'])).code, 0);
    assert.equal((await v.readLogin())!.rotated, true, 'the rotation is recorded');
    const refused = await v.run(['export', 'acme']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: acme rotates refresh tokens.*`vault store migrate --to redis:\/\/.*--force/);
    const forced = await v.run(['export', 'acme', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, `${(await v.readLogin())!.refresh_token}\n`);
    assert.match(forced.stderr, /two places/);
  } finally {
    v.cleanup();
  }
});

test('a rejected VAULT_ACME_REFRESH_TOKEN is exit 3 naming the variable and `vault export acme`, not `vault login`', async () => {
  const v = vaultSandbox('file', { VAULT_ACME_REFRESH_TOKEN: 'spent-or-revoked-refresh-token' });
  try {
    await addProvider(v, rotating);
    const r = await v.run(['token', 'acme']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: .*VAULT_ACME_REFRESH_TOKEN.*`vault export acme`/);
    assert.doesNotMatch(r.stderr, /vault login/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  } finally {
    v.cleanup();
  }
});

test('a stored refresh token the server refused shows as rejected in status, and export will not hand it out', async () => {
  const v = await loggedIn(rotating);
  try {
    await rotating.revokeGrantOf((await v.readLogin())!.refresh_token!);
    const r = await v.run(['token', 'acme', '--force-refresh']);
    assert.equal(r.code, 3, r.stderr);
    const status = await v.run(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^acme\s+default\s.*\srejected\s+file$/m);
    const exported = await v.run(['export', 'acme']);
    assert.equal(exported.code, 3);
    assert.match(exported.stderr, /vault login acme/);
  } finally {
    v.cleanup();
  }
});
