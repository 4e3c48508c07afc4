// How a refused refresh is reported, with the real server's own invalid_grant answer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { LoginRequiredError } from '../../../../src/core/errors.js';
import type { Provider } from '../../../../src/core/config/providers.js';
import { configure, refreshGrant } from '../../../../src/infra/oauth/index.js';
import { startTestServer, type TestServer } from '../../../support/oidc-server.js';
import { exitCodeFor } from '../../../../src/cli/root.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const deps = { env: {}, debug: () => {} };

async function refuse(provider: Provider, account: string): Promise<LoginRequiredError> {
  const config = await configure(provider, undefined, deps);
  const error = await refreshGrant(config, provider, account, 'not-a-refresh-token', undefined, Date.now).then(
    () => assert.fail('the server accepted a bogus refresh token'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof LoginRequiredError, String(error));
  assert.equal(exitCodeFor(error.kind), 3);
  return error;
}

test('invalid_grant: exit 3 with the login command', async () => {
  const provider: Provider = { name: 'acme', issuer: server.issuer, client_id: server.publicClientId };
  const error = await refuse(provider, 'default');
  assert.match(error.message, /^refresh for acme failed: invalid_grant .* run `vault login acme`$/);
  assert.doesNotMatch(error.message, /7 days/);
  assert.match((await refuse(provider, 'work')).message, /run `vault login acme -a work`$/);
});

test('invalid_grant from a Google provider: the 7-day Testing-status hint', async () => {
  const provider: Provider = {
    name: 'google',
    preset: 'google',
    issuer: server.issuer,
    authorization_endpoint: `${server.issuer}/auth`,
    token_endpoint: `${server.issuer}/token`,
    client_id: server.publicClientId,
  };
  const error = await refuse(provider, 'default');
  assert.match(error.message, /Google expires refresh tokens after 7 days for apps in "Testing" status/);
  assert.match(error.message, /run `vault login google`$/);
});
