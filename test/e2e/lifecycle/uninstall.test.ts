// README's uninstall recipe, run as written against a keychain login with git and docker set up:
// the login is revoked, and nothing of vault is left in the keychain, git's or docker's config,
// while the user's other git helper stays.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { ROOT, runCommand, sandbox, type Sandbox, vault } from '../../support/cli.js';
import { addProvider, login } from '../../support/vault-sandbox.js';
import { confidentialProvider, ok } from '../../support/lifecycle.js';

let server: TestServer;
let sb: Sandbox;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  sb = sandbox({ VAULT_STORE: 'auto' });
  sb.env.DOCKER_CONFIG = join(sb.dir, 'home', '.docker');
  await addProvider(
    sb,
    server,
    confidentialProvider(server, {
      scopes: ['openid', 'offline_access'],
      extra: ['--git-host', 'git.acme.test', '--registry-host', 'registry.acme.test'],
    }),
  );
  await login(sb);
  // Answered from the cache: the hot path writes its compile cache under ~/.cache/vault.
  for (let i = 0; i < 2; i++) ok(await vault(sb, ['token', 'acme']), 'token');
  ok(
    await runCommand('git', ['config', '--global', 'credential.helper', 'store'], { env: sb.env }),
    "the user's own helper",
  );
  ok(await vault(sb, ['setup-git', 'acme']), 'setup-git');
  ok(await vault(sb, ['setup-docker', 'acme']), 'setup-docker');
});
after(async () => {
  sb?.cleanup();
  await server?.close();
});

test('uninstall: logout, provider remove, setup-git --remove, setup-docker --remove leave nothing behind', async () => {
  const service = sb.env.VAULT_KEYRING_SERVICE!;
  const entries = async () => (await runCommand('secret-tool', ['search', 'service', service], { env: sb.env })).stdout;
  assert.notEqual(await entries(), '', 'the login and client secret are in the keychain');

  const status = ok(await vault(sb, ['status']), 'status');
  assert.match(status.stdout, /^acme\s+default\s.*\skeychain$/m);
  const logout = ok(await vault(sb, ['logout', 'acme']), 'logout');
  assert.match(logout.stderr, /Revoked the refresh token at acme/);
  assert.equal(server.counts.revocations, 1);
  ok(await vault(sb, ['provider', 'remove', 'acme']), 'provider remove');
  ok(await vault(sb, ['setup-git', '--remove']), 'setup-git --remove');
  ok(await vault(sb, ['setup-docker', '--remove']), 'setup-docker --remove');

  assert.equal(await entries(), '', 'secret-tool search service vault prints nothing');
  const helpers = await runCommand('git', ['config', '--global', '--get-regexp', '^credential\\.'], { env: sb.env });
  assert.equal(helpers.stdout, 'credential.helper store\n');
  assert.doesNotMatch(readFileSync(join(sb.env.DOCKER_CONFIG!, 'config.json'), 'utf8'), /vault/);
});

test("README's rm line, with ~ as this HOME, removes every directory vault wrote there", async () => {
  const home = sb.env.HOME!;
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = /^rm -r (~\/.+?)\s+#/m.exec(readme);
  assert.ok(line, 'README has the rm line');
  const paths = line[1]!.split(/\s+/).map((p) => p.replace(/^~/, home));
  assert.ok(existsSync(join(home, '.cache', 'vault')), 'vault wrote its cache under HOME');
  ok(await runCommand('rm', ['-rf', ...paths], { env: sb.env }), 'rm');
  assert.ok(!existsSync(join(home, '.cache', 'vault')), '~/.cache/vault is left behind');
});
