// `vault docker-credential` / `docker-credential-vault` and `vault setup-docker`: the real skopeo
// pushes to and inspects a local docker-registry that accepts only tokens the issuer calls active,
// with credentials from vault through the helper named in credHelpers.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT, runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startRegistry, writeOciImage, type Registry } from '../../support/registry.js';
import { addProvider, loggedIn } from '../../support/vault-sandbox.js';
import { run } from '../../support/integrations.js';

let server: TestServer;
let registry: Registry;
let box: Sandbox;
let dockerConfig: string;
let skopeoEnv: NodeJS.ProcessEnv;

// What the user's docker config held before vault was set up: all of it must survive.
const EXISTING = {
  auths: { 'other.test': { auth: 'b3RoZXI6c2VjcmV0' } },
  credHelpers: { 'other.test': 'osxkeychain' },
  psFormat: 'table {{.ID}}',
};

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  registry = await startRegistry(server, 'vault-user');
  box = await loggedIn(server, {
    provider: {
      scopes: [],
      extra: [
        '--registry-host',
        registry.host,
        '--registry-host',
        '*.registry.test',
        '--registry-host',
        '*-docker.pkg.dev',
        '--registry-username',
        'vault-user',
      ],
    },
  });
  const docker = join(box.dir, 'docker');
  mkdirSync(docker, { mode: 0o700 });
  dockerConfig = join(docker, 'config.json');
  writeFileSync(dockerConfig, JSON.stringify(EXISTING), { mode: 0o644 });
  // docker-credential-vault on PATH, as `npm install -g` puts it there; node beside it.
  const bin = join(box.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(join(ROOT, 'bin', 'docker-credential-vault.js'), join(bin, 'docker-credential-vault'));
  skopeoEnv = {
    ...box.env,
    DOCKER_CONFIG: docker,
    REGISTRY_AUTH_FILE: dockerConfig,
    PATH: [bin, dirname(process.execPath), box.env.PATH].join(':'),
  };
});
after(async () => {
  await registry?.close();
  box?.cleanup();
  await server?.close();
});

function skopeo(args: string[]) {
  return run('skopeo', ['--insecure-policy', ...args], { env: skopeoEnv, timeoutMs: 120_000 });
}

test('setup-docker names vault in credHelpers for the exact hosts, keeps everything else, writes 0600', async () => {
  const setup = await runVault(['setup-docker', 'acme'], { env: skopeoEnv });
  assert.equal(setup.code, 0, setup.stderr);
  assert.deepEqual(JSON.parse(readFileSync(dockerConfig, 'utf8')), {
    ...EXISTING,
    credHelpers: { 'other.test': 'osxkeychain', [registry.host]: 'vault' },
  });
  assert.equal(statSync(dockerConfig).mode & 0o777, 0o600);
  assert.match(setup.stderr, new RegExp(`Configured: ${registry.host.replace(/\./g, '\\.')} in credHelpers`));
  assert.match(setup.stderr, /note: \*\.registry\.test is a pattern/);
  assert.doesNotMatch(setup.stderr, /not on PATH/);
  const again = await runVault(['setup-docker', 'acme'], { env: skopeoEnv });
  assert.match(again.stderr, /Nothing to change/);
});

test('skopeo pushes and inspects through docker-credential-vault with a token the registry accepts', async () => {
  const image = join(box.dir, 'image');
  writeOciImage(image);
  const ref = `docker://${registry.host}/vault/hello:1`;
  const pushed = await skopeo(['copy', '--dest-tls-verify=false', `oci:${image}:latest`, ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const inspected = await skopeo(['inspect', '--tls-verify=false', ref]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal((JSON.parse(inspected.stdout) as { Name: string }).Name, `${registry.host}/vault/hello`);
  const token = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
  assert.ok(registry.seen.length > 0, 'skopeo sent no credentials');
  for (const { username, password, active } of registry.seen) {
    assert.equal(username, 'vault-user');
    assert.ok(password === token && active, "skopeo sent another password than vault's active token");
  }
});

test("setup-docker --remove takes out only vault's entries; skopeo is then refused", async () => {
  const removed = await runVault(['setup-docker', '--remove'], { env: skopeoEnv });
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(JSON.parse(readFileSync(dockerConfig, 'utf8')), EXISTING);
  const refused = await skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/vault/hello:1`]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /unauthorized|authentication required/i);
});

test('get: exact hosts and one-label wildcards; anything else is "credentials not found" with exit 1', async () => {
  const token = (await runVault(['token', 'acme'], { env: box.env })).stdout.trim();
  for (const url of [
    registry.host,
    `https://${registry.host}`,
    'eu.registry.test',
    'https://europe-west1-docker.pkg.dev/v2/',
  ]) {
    const got = await runVault(['docker-credential', 'get'], { env: box.env, input: `${url}\n` });
    assert.equal(got.code, 0, `${url}: ${got.stderr}`);
    const answer = JSON.parse(got.stdout) as { ServerURL: string; Username: string; Secret: string };
    assert.equal(answer.ServerURL, url);
    assert.equal(answer.Username, 'vault-user');
    assert.ok(answer.Secret === token, `${url}: not vault's token`);
  }
  for (const url of [
    'registry.test',
    'a.b.registry.test',
    'docker.pkg.dev',
    'europe-docker.pkg.dev.attacker.test',
    'https://user:pw@eu.registry.test',
    'index.docker.io',
    '',
    // No WHATWG normalisation: fullwidth letters, percent-encoding and another scheme are not the host.
    'ｅｕ.registry.test',
    'eu%2eregistry.test',
    'https://eu.registry%2Etest/v2/',
    `ftp://${registry.host}`,
    'ftp://eu.registry.test:21',
  ]) {
    const missed = await runVault(['docker-credential', 'get'], { env: box.env, input: url });
    assert.equal(missed.code, 1, url);
    assert.equal(missed.stdout, 'credentials not found in native keychain\n', url);
  }
});

test('list, store and erase; the docker-credential-vault bin; no login is exit 3 said on stdout too', async () => {
  const listed = await run('docker-credential-vault', ['list'], { env: skopeoEnv });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), {
    [registry.host]: 'vault-user',
    '*.registry.test': 'vault-user',
    '*-docker.pkg.dev': 'vault-user',
  });
  for (const op of ['store', 'erase']) {
    const r = await runVault(['docker-credential', op], {
      env: box.env,
      input: JSON.stringify({ ServerURL: registry.host, Username: 'u', Secret: 's' }),
    });
    assert.equal(r.code, 0, op);
    assert.equal(r.stdout, '');
  }
  const bad = await runVault(['docker-credential', 'steal'], { env: box.env });
  assert.equal(bad.code, 2);
  const fresh = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(fresh, server, { scopes: [], extra: ['--registry-host', 'r.test'] });
    const none = await runVault(['docker-credential', 'get'], { env: fresh.env, input: 'r.test' });
    assert.equal(none.code, 3);
    assert.match(none.stdout, /not logged in to acme.*vault login acme/);
    assert.match(none.stderr, /^error: not logged in to acme/);
  } finally {
    fresh.cleanup();
  }
});

test('presets: google serves gcr.io, *.gcr.io and *-docker.pkg.dev as oauth2accesstoken; github ghcr.io', async () => {
  const presets = sandbox({ VAULT_STORE: 'file' });
  try {
    for (const name of ['google', 'github']) {
      const added = await runVault(['provider', 'add', name, '--preset', name, '--client-id', 'id', '--offline'], {
        env: presets.env,
      });
      assert.equal(added.code, 0, added.stderr);
    }
    const env = {
      ...presets.env,
      VAULT_GOOGLE_ACCESS_TOKEN: 'google-ci-token',
      VAULT_GITHUB_ACCESS_TOKEN: 'github-ci-token',
    };
    for (const [url, username, secret] of [
      ['gcr.io', 'oauth2accesstoken', 'google-ci-token'],
      ['https://eu.gcr.io', 'oauth2accesstoken', 'google-ci-token'],
      ['https://gcr.io', 'oauth2accesstoken', 'google-ci-token'],
      ['us-central1-docker.pkg.dev', 'oauth2accesstoken', 'google-ci-token'],
      ['https://us-docker.pkg.dev/my-project/images', 'oauth2accesstoken', 'google-ci-token'],
      ['ghcr.io', 'oauth2', 'github-ci-token'],
    ]) {
      const got = await runVault(['docker-credential', 'get'], { env, input: url });
      assert.equal(got.code, 0, `${url}: ${got.stderr}`);
      assert.deepEqual(JSON.parse(got.stdout), { ServerURL: url, Username: username, Secret: secret });
    }
    // What a WHATWG URL parser would turn into gcr.io is not gcr.io as docker sends it.
    for (const url of ['ｇｃｒ.io', 'gcr%2eio', 'ftp://gcr.io:21', 'https://ｇｃｒ.io/v2/']) {
      const missed = await runVault(['docker-credential', 'get'], { env, input: url });
      assert.equal(missed.code, 1, `${url}: ${missed.stdout}`);
      assert.equal(missed.stdout, 'credentials not found in native keychain\n', url);
    }
    // README's recipe: the registries used, by name, then setup-docker.
    const dockerEnv = { ...presets.env, DOCKER_CONFIG: join(presets.dir, 'docker') };
    const first = await runVault(['setup-docker', 'google'], { env: dockerEnv });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /note: \*-docker\.pkg\.dev is a pattern/);
    const set = await runVault(
      ['provider', 'set', 'google', '--registry-host', 'gcr.io', '--registry-host', 'europe-west1-docker.pkg.dev'],
      { env: presets.env },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await runVault(['setup-docker', 'google'], { env: dockerEnv })).code, 0);
    const written = JSON.parse(readFileSync(join(presets.dir, 'docker', 'config.json'), 'utf8')) as unknown;
    assert.deepEqual(written, { credHelpers: { 'gcr.io': 'vault', 'europe-west1-docker.pkg.dev': 'vault' } });
  } finally {
    presets.cleanup();
  }
});
