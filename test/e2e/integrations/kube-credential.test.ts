// `vault kube-credential`: kubectl's exec credential plugin protocol (client.authentication.k8s.io/v1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { runVault, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn, withProvider } from '../../support/vault-sandbox.js';
import { assertSameSecret } from '../../support/integrations.js';

let server: TestServer;
let box: Sandbox;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  box = await loggedIn(server, { provider: { scopes: [] } });
});
after(async () => {
  box?.cleanup();
  await server?.close();
});

interface ExecCredential {
  apiVersion: string;
  kind: string;
  status: { token: string; expirationTimestamp?: string };
}

test('prints an ExecCredential whose token the server accepts, with its expiry in RFC 3339', async () => {
  const r = await runVault(['kube-credential', 'acme'], { env: box.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const credential = JSON.parse(r.stdout) as ExecCredential;
  assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1');
  assert.equal(credential.kind, 'ExecCredential');
  assert.equal((await server.introspect(credential.status.token)).active, true);
  const cached = await runVault(['token', 'acme'], { env: box.env });
  assertSameSecret(credential.status.token, cached.stdout.trim(), 'the ExecCredential token');
  assert.match(credential.status.expirationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const left = Date.parse(credential.status.expirationTimestamp!) - Date.now();
  assert.ok(left > 500_000 && left <= 600_000, `expires in ${left} ms`);
});

test('a CI pass-through token has no expiry; no login is exit 3 with nothing on stdout', async () => {
  const passed = await runVault(['kube-credential', 'acme'], {
    env: { ...box.env, VAULT_ACME_ACCESS_TOKEN: 'ci-token' },
  });
  assert.equal(passed.code, 0, passed.stderr);
  assert.deepEqual(JSON.parse(passed.stdout), {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { token: 'ci-token' },
  });
  const fresh = await withProvider(server, { provider: { scopes: [] } });
  try {
    const none = await runVault(['kube-credential', 'acme'], { env: fresh.env });
    assert.equal(none.code, 3);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /`vault login acme`/);
  } finally {
    fresh.cleanup();
  }
});
