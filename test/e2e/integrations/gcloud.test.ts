// README's gcloud recipe, `vault exec google -- gcloud projects list`, with the real gcloud: the
// google preset's CLOUDSDK_AUTH_ACCESS_TOKEN is what gcloud sends as its bearer token. gcloud talks
// to a local Resource Manager stand-in (CLOUDSDK_API_ENDPOINT_OVERRIDES_*) that records it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { runCommand, runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { ACCOUNT, startTestServer, type TestServer } from '../../support/oidc-server.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { assertSameSecret, gcloudEnv } from '../../support/integrations.js';
import { loggedIn } from '../../support/vault-sandbox.js';

let server: TestServer;
let box: Sandbox;
let api: Server;
const authorizations: string[] = [];

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    string
  >;
  box = sandbox({ VAULT_STORE: 'file', VAULT_BROWSER: FETCH_BROWSER });
  // The google preset, pointed at the test server: its issuer and endpoints, everything else Google's.
  const added = await runVault(
    [
      'provider',
      'add',
      'google',
      '--preset',
      'google',
      '--client-id',
      server.publicClientId,
      '--offline',
      '--scope',
      'openid',
      '--issuer',
      server.issuer,
      '--authorization-endpoint',
      metadata.authorization_endpoint!,
      '--token-endpoint',
      metadata.token_endpoint!,
    ],
    { env: box.env },
  );
  assert.equal(added.code, 0, added.stderr);
  const login = await runVault(['login', 'google'], { env: box.env });
  assert.equal(login.code, 0, login.stderr);

  api = createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        projects: [
          { projectId: 'vault-test-project', name: 'Vault Test', projectNumber: '42', lifecycleState: 'ACTIVE' },
        ],
      }),
    );
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
});
after(async () => {
  api?.close();
  box?.cleanup();
  await server?.close();
});

test('vault exec google -- gcloud projects list: gcloud sends the vault token', async () => {
  const gcloudConfig = join(box.dir, 'gcloud');
  mkdirSync(gcloudConfig, { mode: 0o700 });
  const env = {
    ...box.env,
    // An empty gcloud configuration: no account of its own, so the token can only come from vault.
    CLOUDSDK_CONFIG: gcloudConfig,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER: `http://127.0.0.1:${(api.address() as AddressInfo).port}/`,
  };
  const result = await runVault(['exec', 'google', '--', 'gcloud', 'projects', 'list', '--format=value(projectId)'], {
    env,
    timeoutMs: 120_000,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'vault-test-project');
  assert.equal(authorizations.length, 1, `requests seen: ${authorizations.length}`);

  const token = await runVault(['token', 'google'], { env: box.env });
  assert.equal(token.code, 0, token.stderr);
  assertSameSecret(authorizations[0], `Bearer ${token.stdout.trim()}`, "gcloud's Authorization header");
});

test('exec --gce: gcloud prints a token for a login without the email scope (the subject is its account)', async () => {
  // A generic OIDC login, `openid offline_access` only: its ID token has a subject and no email.
  const generic = await loggedIn(server, {
    provider: { scopes: [], extra: ['--scope', 'openid', '--scope', 'offline_access'] },
  });
  try {
    const status = await runVault(['status', '--json'], { env: generic.env });
    assert.ok(!status.stdout.includes(ACCOUNT.email), 'the login has no email');
    const script = 'gcloud auth print-access-token && gcloud config list account --format="value(core.account)"';
    const result = await runVault(['exec', 'acme', '--gce', '--', 'sh', '-c', script], {
      env: gcloudEnv(generic),
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, result.stderr);
    const [printed, account] = result.stdout.trim().split('\n');
    const token = await runVault(['token', 'acme'], { env: generic.env });
    assert.equal(token.code, 0, token.stderr);
    assertSameSecret(printed, token.stdout.trim(), 'the token gcloud printed');
    assert.equal(account, ACCOUNT.sub, "gcloud's active account is the login's subject");

    // README: gcloud run once without the endpoint caches "not on GCE" in <CLOUDSDK_CONFIG>/gce
    // for 10 minutes; `--gce` then ends in the same "no active account" error, and
    // `--token-file CLOUDSDK_AUTH_ACCESS_TOKEN_FILE` still works.
    const env = gcloudEnv(generic);
    const bare = await runCommand('gcloud', ['auth', 'print-access-token'], { env, timeoutMs: 120_000 });
    assert.notEqual(bare.code, 0);
    assert.equal(readFileSync(join(env.CLOUDSDK_CONFIG!, 'gce'), 'utf8'), 'False');
    const cached = await runVault(['exec', 'acme', '--gce', '--', 'gcloud', 'auth', 'print-access-token'], {
      env,
      timeoutMs: 120_000,
    });
    assert.notEqual(cached.code, 0);
    assert.match(cached.stderr, /You do not currently have an active account selected/);
    const viaFile = await runVault(
      ['exec', 'acme', '--token-file', 'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE', '--', 'gcloud', 'auth', 'print-access-token'],
      { env, timeoutMs: 120_000 },
    );
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assertSameSecret(viaFile.stdout.trim(), token.stdout.trim(), 'the token gcloud read from the token file');
  } finally {
    generic.cleanup();
  }
});
