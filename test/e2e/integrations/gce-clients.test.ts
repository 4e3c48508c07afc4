// `vault exec --gce`: Google's Node client library and the installed gcloud find vault's metadata
// endpoint by themselves, and get a fresh token from it after the first one expired.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT, runVault, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn } from '../../support/vault-sandbox.js';
import { gcloudEnv } from '../../support/integrations.js';

const TTL = 8;
let server: TestServer;
let box: Sandbox;

before(async () => {
  server = await startTestServer({ accessTokenTtl: TTL });
  box = await loggedIn(server, {
    provider: {
      scopes: [],
      extra: [
        '--scope',
        'openid',
        '--scope',
        'offline_access',
        '--scope',
        'email',
        '--scope',
        'api:read',
        '--param',
        'project_id=vault-test-project',
        '--param',
        'project_number=42',
      ],
    },
  });
});
after(async () => {
  box?.cleanup();
  await server?.close();
});

/** Two tokens a client printed: distinct, both issued by the test server, the first expired by now. */
async function assertRefreshed(first: string | undefined, second: string | undefined, who: string): Promise<void> {
  assert.ok(first && second, `${who} printed no token`);
  assert.ok(first !== second, `${who} got the same token after it expired`);
  const issued = server.issuedTokens();
  assert.ok(issued.includes(first) && issued.includes(second), `${who} printed tokens the server did not issue`);
  assert.equal(
    (await server.introspect(first)).active,
    false,
    'the first token should have expired before the second was asked for',
  );
}

test('google-auth-library 10 gets a token from `exec --gce`, and a fresh one after it expired', async () => {
  const client = join(ROOT, 'test', 'support', 'google-auth-client.mjs');
  // A key file the library would prefer to the metadata server: vault removes the variable.
  const env = { ...box.env, GOOGLE_APPLICATION_CREDENTIALS: join(box.dir, 'no-such-key.json') };
  const result = await runVault(['exec', 'acme', '--gce', '--', process.execPath, client, String(TTL + 1)], {
    env,
    timeoutMs: 120_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const [project, first, second] = result.stdout.trim().split('\n');
  assert.equal(project, 'vault-test-project', "the project comes from the provider's project_id param");
  await assertRefreshed(first, second, 'google-auth-library');
});

test('a downscoped token for the scopes the library asks for, when the login has them', async () => {
  const client = join(ROOT, 'test', 'support', 'google-auth-client.mjs');
  const result = await runVault(['exec', 'acme', '--gce', '--', process.execPath, client, '0', 'api:read'], {
    env: box.env,
    timeoutMs: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const token = result.stdout.trim().split('\n')[1]!;
  const cached = await runVault(['token', 'acme', '--scope', 'api:read'], { env: box.env });
  assert.ok(cached.stdout.trim() === token, 'not the token `vault token --scope api:read` has cached');
  const full = await runVault(['token', 'acme'], { env: box.env });
  assert.ok(full.stdout.trim() !== token, "the login's full token was handed out");
});

test('gcloud gets a token from `exec --gce`, and a fresh one after it expired', async () => {
  const script = `gcloud auth print-access-token && sleep ${TTL + 1} && gcloud auth print-access-token`;
  const result = await runVault(['exec', 'acme', '--gce', '--', 'sh', '-c', script], {
    env: gcloudEnv(box),
    timeoutMs: 180_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const [first, second] = result.stdout.trim().split('\n');
  await assertRefreshed(first, second, 'gcloud');
});

test('the project params stay with vault: the authorization request does not carry them', async () => {
  const login = await runVault(['login', 'acme', '--no-browser', '--timeout', '1'], { env: box.env });
  const url = /http:\/\/127\.0\.0\.1:\d+\/auth\?\S+/.exec(login.stderr)?.[0];
  assert.ok(url, login.stderr);
  const params = new URL(url).searchParams;
  assert.equal(params.get('client_id'), server.publicClientId);
  assert.equal(params.get('project_id'), null);
  assert.equal(params.get('project_number'), null);
});
