// Exchanged providers: tokens got by exchanging the login to another provider, at a real
// oidc-provider emulating Auth0 Token Vault's federated-connection grant and RFC 8693 token
// exchange. The exchanged tokens are valid at the server, cached with their expiry, replaced after
// it with one exchange (and one refresh of the source login) for twenty processes at once, and a
// revoked source login is exit 3 naming the source provider.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { ROOT, runVault } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { expire, loggedIn, type Vault } from '../../support/vault-sandbox.js';
import { accessKey } from '../../../src/core/credentials.js';

const CONNECTION = 'google-oauth2';
let server: TestServer;
let box: Vault;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 300, tokenExchange: { connection: CONNECTION } });
  // The source login, with the confidential client: Token Vault takes only authenticated clients.
  box = await loggedIn(server, {
    provider: { clientId: server.confidentialClientId, secret: server.confidentialClientSecret },
  });
  await add(['gvault', '--exchange-from', 'acme', '--exchange', 'token-vault', '--connection', CONNECTION]);
  await add([
    'api',
    '--exchange-from',
    'acme',
    '--exchange',
    'rfc8693',
    '--audience',
    'https://api.test',
    '--scope',
    'api:read',
  ]);
});
after(async () => {
  box?.cleanup();
  await server?.close();
});

async function add(args: string[]): Promise<void> {
  const r = await box.run(['provider', 'add', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

/** The exchanged token `name` has cached (account default, all scopes). */
async function cached(name: string) {
  const raw = await box.store().get(accessKey(name, 'default'));
  return raw === null ? undefined : (JSON.parse(raw) as { access_token: string; expires_at: number });
}

async function ageExchanged(name: string): Promise<void> {
  const record = await cached(name);
  assert.ok(record, `no cached token for ${name}`);
  await box
    .store()
    .set(accessKey(name, 'default'), JSON.stringify({ ...record, issued_at: 0, expires_at: Date.now() - 1000 }));
}

test('Token Vault: `vault token` returns the federated token, valid at the server, cached with its expiry', async () => {
  const before = { ...server.counts };
  const first = await box.run(['token', 'gvault', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const json = JSON.parse(first.stdout) as { access_token: string; expires_in: number; provider: string };
  assert.equal(json.provider, 'gvault');
  assert.ok(json.expires_in > 200 && json.expires_in <= 300, `expires_in ${json.expires_in}`);
  const info = await server.introspect(json.access_token);
  assert.equal(info.active, true);
  assert.equal(info.scope, `federated:${CONNECTION}`, "the connection's token, not the login's own");
  assert.equal(server.counts.tokenVault - before.tokenVault, 1);
  assert.equal(server.counts.refresh - before.refresh, 0, 'the refresh token is the subject; no refresh is needed');
  // Cached: the next call costs the server nothing. No refresh token was stored for it.
  const again = await box.run(['token', 'gvault']);
  assert.equal(again.stdout.trim(), json.access_token);
  assert.equal(server.counts.tokenVault - before.tokenVault, 1);
  assert.equal(await box.store().get('rt:gvault:default'), null);
  // The source login is untouched: still its own token.
  const own = await box.run(['token', 'acme']);
  assert.notEqual(own.stdout.trim(), json.access_token);
});

test('RFC 8693: the source access token is exchanged for one narrowed to the configured scope', async () => {
  const r = await box.run(['token', 'api']);
  assert.equal(r.code, 0, r.stderr);
  const info = await server.introspect(r.stdout.trim());
  assert.equal(info.active, true);
  assert.equal(info.scope, 'api:read');
});

for (const name of ['gvault', 'api']) {
  test(`${name}: after expiry, 20 processes get one new token from one exchange and at most one source refresh`, async () => {
    await runVault(['token', name], { env: box.env });
    const old = (await cached(name))!.access_token;
    await ageExchanged(name);
    await expire(box); // the source's cached access token too: an RFC 8693 exchange needs a fresh one
    const before = { ...server.counts };
    const results = await Promise.all(Array.from({ length: 20 }, () => box.run(['token', name])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const printed = new Set(results.map((r) => r.stdout.trim()));
    assert.equal(printed.size, 1, 'every process prints the same token');
    const token = [...printed][0]!;
    assert.notEqual(token, old);
    assert.equal((await server.introspect(token)).active, true);
    const exchanges = server.counts.tokenVault + server.counts.tokenExchange - before.tokenVault - before.tokenExchange;
    assert.equal(exchanges, 1, 'exactly one exchange');
    assert.equal(server.counts.refresh - before.refresh, name === 'api' ? 1 : 0, 'source refreshes');
    assert.equal(server.counts.grantErrors, before.grantErrors);
  });
}

/**
 * A resource server on 127.0.0.1: a request with a bearer token the authorization server calls
 * active (RFC 7662) gets 200 and the token's scope, anything else 401.
 */
async function startResourceServer(): Promise<{ url: string; close(): Promise<void> }> {
  const api = createServer((req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    void (token ? server.introspect(token) : Promise.resolve({ active: false, scope: '' })).then((info) => {
      res.writeHead(info.active ? 200 : 401).end(info.active ? String(info.scope) : 'invalid token');
    });
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  return {
    url: `http://127.0.0.1:${(api.address() as AddressInfo).port}/`,
    close: async () => {
      api.close();
      api.closeAllConnections();
      await once(api, 'close');
    },
  };
}

test('every integration works on an exchanged provider: exec and env', async () => {
  const api = await startResourceServer();
  try {
    for (const [name, scope] of [
      ['gvault', `federated:${CONNECTION}`],
      ['api', 'api:read'],
    ]) {
      const variable = `${name.toUpperCase()}_ACCESS_TOKEN`;
      const script = `curl -s --noproxy '*' -H "Authorization: Bearer $${variable}" ${api.url}`;
      const exec = await box.run(['exec', name, '--', 'sh', '-c', script]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(exec.stdout, scope, `${name}: the resource server accepts the exchanged token`);
    }
  } finally {
    await api.close();
  }
  const token = (await box.run(['token', 'gvault'])).stdout.trim();
  const env = await box.run(['env', 'gvault', '--format', 'dotenv']);
  assert.equal(env.stdout.trim(), `GVAULT_ACCESS_TOKEN=${token}`);
});

test('Azure SDKs under `exec --azure` and Google libraries under `exec --gce` get the exchanged token', async () => {
  const token = (await box.run(['token', 'gvault'])).stdout.trim();
  const azure = join(ROOT, 'test', 'support', 'azure-identity-client.mjs');
  const a = await box.run([
    'exec',
    'gvault',
    '--azure',
    '--',
    process.execPath,
    azure,
    'managed',
    'api://x/.default',
    '0',
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(a.stdout.trim().split('\n'), [token, token]);
  const google = join(ROOT, 'test', 'support', 'google-auth-client.mjs');
  const g = await box.run(['exec', 'gvault', '--gce', '--', process.execPath, google, '0']);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.stdout.trim().split('\n')[1], token);
});

test('an exchanged provider has no login of its own: `vault login` says which to log in to', async () => {
  const r = await box.run(['login', 'gvault', '--no-browser', '--timeout', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /vault login acme/);
});

test('a revoked source login is exit 3 naming the source provider, on either exchange', async () => {
  const login = await box.readLogin();
  await server.revokeGrantOf(login!.refresh_token!);
  for (const name of ['gvault', 'api']) {
    await ageExchanged(name);
    const r = await box.run(['token', name]);
    assert.equal(r.code, 3, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /login to acme/, name);
    assert.match(r.stderr, /vault login acme/, name);
    assert.equal(r.stdout, '');
  }
});
