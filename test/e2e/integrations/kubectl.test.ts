// The installed kubectl runs `vault kube-credential` from a kubeconfig exec entry, in both
// apiVersions kubeconfigs use, against a local HTTPS API endpoint that checks the bearer token.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { runVault, VAULT_BIN, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { selfSignedCertificate } from '../../support/tls.js';
import { loggedIn } from '../../support/vault-sandbox.js';
import { assertSameSecret, run } from '../../support/integrations.js';

let server: TestServer;
let box: Sandbox;
let api: Server;
let apiUrl: string;
let caData: string;
/** Bearer tokens the API endpoint received, and whether the issuer called each active. */
const seen: { token: string; active: boolean }[] = [];

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  box = await loggedIn(server, { provider: { scopes: [] } });
  const { cert, key } = selfSignedCertificate();
  caData = Buffer.from(cert).toString('base64');
  api = createServer({ cert, key }, (req, res) => {
    void (async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const active = token !== undefined && (await server.introspect(token)).active;
      if (token) seen.push({ token, active });
      const status = active ? 200 : 401;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          active
            ? { major: '1', minor: '32', gitVersion: 'v1.32.0-vault-test' }
            : { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 },
        ),
      );
    })();
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
after(async () => {
  api?.closeAllConnections();
  api?.close();
  box?.cleanup();
  await server?.close();
});

function kubeconfig(apiVersion: string): string {
  const file = join(box.dir, `kubeconfig-${apiVersion.split('/')[1]}`);
  // JSON is YAML: kubectl reads it as is.
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: apiUrl, 'certificate-authority-data': caData } }],
      users: [
        {
          name: 'acme',
          user: {
            exec: {
              apiVersion,
              command: process.execPath,
              args: [VAULT_BIN, 'kube-credential', 'acme'],
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'acme' } }],
      'current-context': 'local',
    }),
    { mode: 0o600 },
  );
  return file;
}

for (const version of ['v1', 'v1beta1']) {
  test(`kubectl accepts the ExecCredential in client.authentication.k8s.io/${version} and sends its token`, async () => {
    seen.length = 0;
    const apiVersion = `client.authentication.k8s.io/${version}`;
    const result = await run('kubectl', ['--kubeconfig', kubeconfig(apiVersion), 'get', '--raw', '/version'], {
      env: box.env,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /v1\.32\.0-vault-test/);
    // kubectl may first probe /version for its skew warning: every request carried the token.
    assert.ok(seen.length >= 1, 'no request with a bearer token reached the API endpoint');
    const cached = await runVault(['token', 'acme'], { env: box.env });
    for (const { token, active } of seen) {
      assert.equal(active, true, 'the issuer calls the token active');
      assertSameSecret(token, cached.stdout.trim(), 'the bearer token');
    }
  });
}

test('an apiVersion vault does not speak is exit 2 naming the ones it does', async () => {
  const info = JSON.stringify({
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1alpha1',
    spec: { interactive: false },
  });
  const result = await runVault(['kube-credential', 'acme'], { env: { ...box.env, KUBERNETES_EXEC_INFO: info } });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    /^error: .*v1alpha1.*client\.authentication\.k8s\.io\/v1 or client\.authentication\.k8s\.io\/v1beta1/,
  );
});
