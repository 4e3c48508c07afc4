// vault as git's credential helper, with real git against a smart-HTTP server that accepts only
// access tokens the authorization server reports active.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test as nodeTest } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { runVault, VAULT_BIN, type Sandbox } from '../../support/cli.js';
import { startGitServer, type GitServer } from '../../support/git-http-server.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn, withProvider } from '../../support/vault-sandbox.js';
import { assertSameSecret, run } from '../../support/integrations.js';

const cleanups: (() => unknown)[] = [];

// Every case starts servers and sandboxes of its own, so they run side by side: `test` here only
// collects them for the describe at the end, and the token lifetimes one case waits out overlap the
// work of the others.
const cases: [string, () => Promise<void>][] = [];
function test(name: string, body: () => Promise<void>): void {
  cases.push([name, body]);
}
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.test',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.test',
};

/** git's environment for a sandbox: its own global config, no system config, never a prompt. */
function gitEnv(box: Sandbox, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...box.env,
    ...GIT_IDENTITY,
    GIT_CONFIG_GLOBAL: join(box.dir, 'gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

async function git(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  return run('git', args, { env, cwd });
}

/** A bare repository `repo.git` with one commit on main, served over smart HTTP. */
async function gitServer(server: TestServer): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'vault-git-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH,
    HOME: root,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    ...GIT_IDENTITY,
  };
  for (const args of [
    ['init', '-q', '--bare', '-b', 'main', join(root, 'repo.git')],
    ['init', '-q', '-b', 'main', join(root, 'seed')],
  ])
    assert.equal((await git(args, env)).code, 0);
  writeFileSync(join(root, 'seed', 'README'), 'hello\n');
  for (const args of [
    ['add', 'README'],
    ['commit', '-q', '-m', 'first'],
    ['push', '-q', join(root, 'repo.git'), 'main'],
  ]) {
    const r = await git(args, env, join(root, 'seed'));
    assert.equal(r.code, 0, r.stderr);
  }
  const gitHttp = await startGitServer({
    root,
    // GitLab insists on the username oauth2 for OAuth tokens; vault's default must satisfy it.
    authorize: async (username, password) => username === 'oauth2' && (await server.introspect(password)).active,
  });
  cleanups.push(() => gitHttp.close());
  return gitHttp;
}

async function oidcServer(accessTokenTtl: number): Promise<TestServer> {
  const server = await startTestServer({ accessTokenTtl });
  cleanups.push(() => server.close());
  return server;
}

function track(box: Sandbox): Sandbox {
  cleanups.push(() => box.cleanup());
  return box;
}

/** The password of the last request the git server accepted: the access token git used. */
function lastAcceptedToken(gitHttp: GitServer): string {
  const accepted = gitHttp.requests.filter((r) => r.status !== 401 && r.password);
  assert.ok(accepted.length, 'the git server accepted no request');
  return accepted[accepted.length - 1]!.password!;
}

/** Waits until the authorization server no longer accepts `token` (its TTL ran out). */
async function untilInactive(server: TestServer, token: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (!(await server.introspect(token)).active) return;
    await sleep(100);
  }
  assert.fail('the access token never expired');
}

test('setup-git adds the helper once, by absolute path, next to the helpers already there', async () => {
  const server = await oidcServer(300);
  const box = track(
    await withProvider(server, {
      provider: { scopes: [], extra: ['--git-host', 'git.example.test', '--git-host', '127.0.0.1:8443'] },
    }),
  );
  const env = gitEnv(box);
  const key = 'credential.https://git.example.test.helper';
  assert.equal((await git(['config', '--global', '--add', key, '!other-helper'], env)).code, 0);
  // An entry from an earlier setup-git at another path would fail on every git command.
  assert.equal(
    (await git(['config', '--global', '--add', key, "!'/old/node' '/old/lib/vault/bin/vault.js' git-credential"], env))
      .code,
    0,
  );

  for (let i = 0; i < 2; i++) {
    const setup = await runVault(['setup-git'], { env });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.stdout, '');
  }
  const helper = `!'${process.execPath}' '${VAULT_BIN}' git-credential`;
  const values = async (k: string) =>
    (await git(['config', '--global', '--get-all', k], env)).stdout.split('\n').filter(Boolean);
  assert.deepEqual(await values(key), ['!other-helper', helper]);
  assert.deepEqual(await values('credential.http://git.example.test.helper'), [], 'plain http only for loopback hosts');
  assert.deepEqual(await values('credential.https://127.0.0.1:8443.helper'), [helper]);
  assert.deepEqual(await values('credential.http://127.0.0.1:8443.helper'), [helper]);

  const none = track(await withProvider(server, { provider: { scopes: [] } }));
  const refused = await runVault(['setup-git', 'acme'], { env: gitEnv(none) });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /provider acme has no git hosts/);
});

test('git clone and push authenticate with the access token; a revoked token is erased and the next command refreshes', async () => {
  const server = await oidcServer(300);
  const gitHttp = await gitServer(server);
  const box = track(await loggedIn(server, { provider: { scopes: [], extra: ['--git-host', gitHttp.host] } }));
  const env = gitEnv(box);
  const setup = await runVault(['setup-git', 'acme'], { env });
  assert.equal(setup.code, 0, setup.stderr);

  const work = join(box.dir, 'work');
  const clone = await git(['clone', '-q', `${gitHttp.url}/repo.git`, work], env);
  assert.equal(clone.code, 0, clone.stderr);
  writeFileSync(join(work, 'NEW'), 'pushed over http\n');
  for (const args of [
    ['add', 'NEW'],
    ['commit', '-q', '-m', 'second'],
  ])
    assert.equal((await git(args, env, work)).code, 0);
  const push = await git(['push', '-q', 'origin', 'main'], env, work);
  assert.equal(push.code, 0, push.stderr);
  const remote = await git(['ls-remote', `${gitHttp.url}/repo.git`, 'refs/heads/main'], env);
  const local = await git(['rev-parse', 'HEAD'], env, work);
  assert.equal(remote.stdout.split('\t')[0], local.stdout.trim(), 'the push reached the server');
  assert.equal(server.counts.refresh, 0, 'the login token was still fresh');

  // What git got: the token it used, and when it expires (git >= 2.41 stops using it then).
  const answer = await runVault(['git-credential', 'get'], { env, input: `protocol=http\nhost=${gitHttp.host}\n\n` });
  const fields = Object.fromEntries(
    answer.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.deepEqual(Object.keys(fields), ['username', 'password', 'password_expiry_utc']);
  assertSameSecret(fields.password, lastAcceptedToken(gitHttp), 'the password');
  const expiresIn = Number(fields.password_expiry_utc) - Date.now() / 1000;
  assert.ok(expiresIn > 60 && expiresIn <= 300, `password_expiry_utc is ${expiresIn}s away`);

  const revoked = lastAcceptedToken(gitHttp);
  await server.revokeAccessToken(revoked);
  assert.equal((await server.introspect(revoked)).active, false);
  const refreshesBefore = server.counts.refresh;
  // git sends the cached (revoked) token, gets 401, and tells the helper to erase it.
  await git(['fetch', '-q'], env, work);
  assert.ok(
    gitHttp.requests.some((r) => r.status === 401 && r.password === revoked),
    'the server refused the revoked token',
  );
  const retry = await git(['fetch', '-q'], env, work);
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal(server.counts.refresh, refreshesBefore + 1, 'the next get refreshed');
  assert.ok(lastAcceptedToken(gitHttp) !== revoked, 'git still uses the revoked token');
});

test('after the access token expires, the next git fetch goes through a refresh', async () => {
  // Ten-second tokens: a refreshed token must still be active when git presents it, however
  // loaded the machine (three seconds were not enough there).
  const server = await oidcServer(10);
  const gitHttp = await gitServer(server);
  const box = track(await loggedIn(server, { provider: { scopes: [], extra: ['--git-host', gitHttp.host] } }));
  const env = gitEnv(box);
  assert.equal((await runVault(['setup-git'], { env })).code, 0);
  const first = await runVault(['token', 'acme', '--min-valid', '0'], { env });
  assert.equal(first.code, 0, first.stderr);

  // Each git command starts after the token it would get from the cache has expired.
  await untilInactive(server, first.stdout.trim());
  const work = join(box.dir, 'work');
  const clone = await git(['clone', '-q', `${gitHttp.url}/repo.git`, work], env);
  assert.equal(clone.code, 0, clone.stderr);
  assert.equal(server.counts.refresh, 1);

  await untilInactive(server, lastAcceptedToken(gitHttp));
  const fetched = await git(['fetch', '-q'], env, work);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal(server.counts.refresh, 2);
});

test('without a login and without a terminal, git gets no answer and a hint on stderr', async () => {
  const server = await oidcServer(300);
  const gitHttp = await gitServer(server);
  const box = track(
    await withProvider(server, {
      provider: { scopes: [], extra: ['--git-host', gitHttp.host] },
      env: { VAULT_BROWSER: 'false' },
    }),
  );
  const env = gitEnv(box);
  assert.equal((await runVault(['setup-git'], { env })).code, 0);
  const clone = await git(['clone', '-q', `${gitHttp.url}/repo.git`, join(box.dir, 'work')], env);
  assert.notEqual(clone.code, 0);
  assert.match(clone.stderr, /vault login acme/);
  assert.equal(server.counts.authorizationCode, 0, 'no login was started');
});

test('without a login, in a terminal, git-credential runs the browser login and git goes on', async () => {
  const server = await oidcServer(300);
  const gitHttp = await gitServer(server);
  const box = track(await withProvider(server, { provider: { scopes: [], extra: ['--git-host', gitHttp.host] } }));
  const env = gitEnv(box);
  delete env.GIT_TERMINAL_PROMPT;
  assert.equal((await runVault(['setup-git'], { env })).code, 0);
  // script(1) gives git and its helper a pseudo-terminal, as in an interactive shell.
  const work = join(box.dir, 'work');
  const clone = await run('script', ['-qec', `git clone -q '${gitHttp.url}/repo.git' '${work}'`, '/dev/null'], { env });
  assert.equal(clone.code, 0, clone.stdout);
  assert.equal(server.counts.authorizationCode, 1, 'one browser login');
  const status = await git(['log', '--format=%s'], env, work);
  assert.equal(status.stdout.trim(), 'first');
});

describe("vault as git's credential helper", { concurrency: true }, () => {
  for (const [name, body] of cases) nodeTest(name, body);
});
