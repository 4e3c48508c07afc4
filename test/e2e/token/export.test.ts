// `vault export` hands the refresh token to a CI secret, and the CI side of it: the login moves
// unless the provider is declared not to rotate (or --keep --force); a rejected
// VAULT_<NAME>_REFRESH_TOKEN says which variable to replace and how; a rejected stored token
// shows in `status`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runCommand } from '../../support/cli.js';
import { addProvider, loggedIn, login, vaultSandbox, withProvider } from '../../support/vault-sandbox.js';

let rotating: TestServer;
let steady: TestServer;
before(async () => {
  [rotating, steady] = await Promise.all([
    startTestServer({ accessTokenTtl: 300 }),
    startTestServer({ accessTokenTtl: 300, rotateRefreshToken: false }),
  ]);
});
after(() => Promise.all([rotating.close(), steady.close()]));

test('README recipe: a provider declared not to rotate keeps the login here, and the CI job gets an access token from the export', async () => {
  const v = await loggedIn(steady, { provider: { extra: ['--rotates-refresh-tokens', 'false'] } });
  const ci = vaultSandbox('file');
  try {
    const exported = await v.run(['export', 'acme']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, `${(await v.readLogin())!.refresh_token}\n`, 'the refresh token alone on stdout');
    assert.match(exported.stderr, /^note: acme does not rotate refresh tokens .*the login stays here/);
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
    const here = await v.run(['token', 'acme', '--force-refresh']);
    assert.equal(here.code, 0, `the login here still works: ${here.stderr}`);
  } finally {
    v.cleanup();
    ci.cleanup();
  }
});

test('export right after login of a rotating provider moves the login: printed, removed here, and it works in CI', async () => {
  // The keychain store: its access tokens sit in the runtime-dir cache the cached-token path answers from.
  const v = await loggedIn(rotating, { store: 'keychain' });
  const ci = vaultSandbox('file');
  try {
    const stored = (await v.readLogin())!.refresh_token!;
    assert.equal((await v.readLogin())!.rotated, undefined, 'no refresh has shown the rotation yet');
    assert.equal((await v.run(['token', 'acme'])).code, 0, 'an access token is cached');
    const moved = await v.run(['export', 'acme']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `${stored}\n`);
    assert.match(moved.stderr, /^Moved the login to acme out of .*: the printed refresh token is now its only copy/);
    assert.match(moved.stderr, /VAULT_ACME_REFRESH_TOKEN.*`vault login acme`.*`vault export acme --keep --force`/);
    assert.ok(!moved.stderr.includes(stored));

    assert.equal(await v.readLogin(), undefined, 'the local login is gone');
    const token = await v.run(['token', 'acme']);
    assert.equal(token.code, 3, `no cached access token answers for the moved login: ${token.stdout}${token.stderr}`);
    assert.equal(token.stdout, '');
    const status = await v.run(['status', '--json']);
    assert.deepEqual(JSON.parse(status.stdout).accounts, [], status.stderr);

    await addProvider(ci, rotating);
    for (let i = 0; i < 2; i++) {
      const job = await ci.run(['token', 'acme', '--force-refresh'], { VAULT_ACME_REFRESH_TOKEN: moved.stdout });
      assert.equal(job.code, 0, job.stderr);
      assert.ok((await rotating.introspect(job.stdout.trim())).active, 'the CI side refreshes with the moved token');
    }
  } finally {
    v.cleanup();
    ci.cleanup();
  }
});

test('an account other than default: the moved-login advice names it', async () => {
  const v = await withProvider(rotating);
  try {
    await login(v, 'ci');
    const moved = await v.run(['export', 'acme', '-a', 'ci']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(
      moved.stderr,
      /out of .*`vault login acme -a ci`.*`vault export acme -a ci --keep --force`.*`vault store migrate -a ci --to redis:\/\/HOST acme`/,
    );
    assert.equal(await v.readLogin('ci'), undefined);
  } finally {
    v.cleanup();
  }
});

test('--keep on a rotating provider is refused (exit 2) naming --keep --force and a fleet store; --keep --force keeps both with a warning', async () => {
  const v = await loggedIn(rotating);
  try {
    const refused = await v.run(['export', 'acme', '--keep']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^error: acme rotates refresh tokens.*`vault store migrate --to redis:\/\/.*`--keep --force`/,
    );
    assert.ok(await v.readLogin(), 'the refused export removed nothing');
    const kept = await v.run(['export', 'acme', '--keep', '--force']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, `${(await v.readLogin())!.refresh_token}\n`);
    assert.match(kept.stderr, /^warning: the refresh token of acme now lives in two places.*rotates refresh tokens/);
    assert.equal((await v.run(['token', 'acme'])).code, 0, 'the login is still here');
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
