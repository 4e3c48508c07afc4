// `vault exec --azure` / `vault serve --azure`: Azure's identity library finds vault's App Service
// managed-identity endpoint by itself and gets a fresh token after the first expired; requests
// without the per-run secret, with a wrong one, relayed by a proxy or from another user are refused.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';

import { ROOT, killGroup, runCommand, runVault, startVaultUntil, type StartedVault } from '../../support/cli.js';
import { curlAsOtherUser } from '../../support/other-user.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startTinyproxy } from '../../support/tinyproxy.js';
import { loggedIn, type Vault } from '../../support/vault-sandbox.js';

const TTL = 8;
const CLIENT = join(ROOT, 'test', 'support', 'azure-identity-client.mjs');
// What an Azure SDK asks for: a scope, sent to the endpoint as the resource (the scope minus /.default).
const RESOURCE = 'api://vault-test';
let server: TestServer;
let box: Vault;
let serve: (StartedVault & { endpoint: string; secret: string }) | undefined;
const groups = new Set<ChildProcess>();

before(async () => {
  server = await startTestServer({ accessTokenTtl: TTL });
  box = await loggedIn(server);
  // The provider's table maps the resource to a scope of the login (config.toml, `azure_resources`).
  const file = join(box.env.VAULT_CONFIG_DIR!, 'config.toml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text.replace('[providers.acme]\n', `[providers.acme]\nazure_resources = { "${RESOURCE}" = "api:read" }\n`),
  );
});
afterEach(() => {
  for (const child of groups) killGroup(child);
  groups.clear();
  serve = undefined;
});
after(async () => {
  box?.cleanup();
  await server?.close();
});

/**
 * Two tokens a client printed: distinct, issued by the test server, the first expired by now, the
 * second the one vault holds for the scope azure_resources maps the resource to.
 */
async function assertRefreshed(output: string, who: string): Promise<void> {
  const [first, second] = output.trim().split('\n');
  assert.ok(first && second, `${who} printed no token`);
  assert.notEqual(first, second, `${who} got the same token after it expired`);
  const issued = server.issuedTokens();
  assert.ok(issued.includes(first) && issued.includes(second), `${who} printed tokens the server did not issue`);
  assert.equal((await server.introspect(first)).active, false, 'the first token should have expired');
  const held = await box.readAccess('default', ['api:read']);
  assert.equal(held?.access_token, second, 'the token is the one vault holds for api:read');
}

for (const kind of ['managed', 'default'] as const) {
  const name = kind === 'managed' ? 'ManagedIdentityCredential' : 'DefaultAzureCredential';
  test(`@azure/identity ${name} gets a token from \`exec --azure\`, and a fresh one after it expired`, async () => {
    // Settings that would make the library pick another credential or protocol first: vault removes them.
    const env = {
      ...box.env,
      AZURE_TENANT_ID: 'tenant',
      AZURE_CLIENT_ID: server.publicClientId,
      AZURE_CLIENT_SECRET: 'not-a-secret',
      IDENTITY_SERVER_THUMBPRINT: 'AB',
      IMDS_ENDPOINT: 'http://127.0.0.1:1',
    };
    const args = ['exec', 'acme', '--azure', '--', process.execPath, CLIENT, kind, `${RESOURCE}/.default`];
    const result = await runVault([...args, String(TTL + 1)], { env, timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    await assertRefreshed(result.stdout, name);
  });
}

/** Starts `vault serve acme --azure` and resolves once it printed its two exports. */
async function startServe(): Promise<NonNullable<typeof serve>> {
  const started = await startVaultUntil(
    ['serve', 'acme', '--azure'],
    { env: box.env, groups },
    (out) => out.split('\n').length > 2,
  );
  const out = started.stdout();
  const endpoint = /^export IDENTITY_ENDPOINT='(http:\/\/127\.0\.0\.1:\d+\/msi\/token)'$/m.exec(out)?.[1];
  const secret = /^export IDENTITY_HEADER='([A-Za-z0-9_-]+)'$/m.exec(out)?.[1];
  assert.ok(endpoint && secret, out);
  assert.ok(Buffer.from(secret, 'base64url').length >= 32, 'the secret has at least 32 random bytes');
  return (serve = { ...started, endpoint, secret });
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

function get(query: string, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(`${serve!.endpoint}?${query}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

const QUERY = `api-version=2019-08-01&resource=${encodeURIComponent(RESOURCE)}`;

test('serve --azure answers the secret with a token, and refuses what lacks it, relays and other users', async () => {
  await startServe();
  const ok = await get(QUERY, { 'x-identity-header': serve!.secret });
  assert.equal(ok.status, 200);
  assert.deepEqual(Object.keys(ok.json).sort(), ['access_token', 'client_id', 'expires_on', 'resource', 'token_type']);
  assert.equal(ok.json.resource, RESOURCE);
  assert.equal(ok.json.token_type, 'Bearer');
  assert.equal(ok.json.client_id, server.publicClientId);
  assert.match(String(ok.json.expires_on), /^\d+$/);
  assert.ok(Math.abs(Number(ok.json.expires_on) - Date.now() / 1000 - TTL) < 60, 'expires_on is in epoch seconds');
  assert.equal((await server.introspect(String(ok.json.access_token))).active, true);

  for (const [what, headers] of [
    ['no header', {}],
    ['a wrong secret', { 'x-identity-header': `${serve!.secret.slice(1)}x` }],
    ['an empty secret', { 'x-identity-header': '' }],
  ] as const) {
    const refused = await get(QUERY, headers);
    assert.equal(refused.status, 401, what);
    assert.equal(refused.json.statusCode, 401, what);
    assert.equal(typeof refused.json.message, 'string', what);
    assert.equal(refused.json.access_token, undefined, what);
  }
  for (const relay of ['via', 'forwarded', 'x-forwarded-for', 'x-real-ip']) {
    const refused = await get(QUERY, { 'x-identity-header': serve!.secret, [relay]: '127.0.0.1' });
    assert.equal(refused.status, 403, relay);
    assert.equal(refused.json.access_token, undefined, relay);
  }
  const badVersion = await get(`api-version=2017-09-01&resource=x`, { 'x-identity-header': serve!.secret });
  assert.equal(badVersion.status, 400);

  // A real proxy in the way (tinyproxy adds Via), run by the same user.
  const proxy = await startTinyproxy();
  try {
    const viaProxy = await runCommand(
      'curl',
      ['-s', '-x', proxy.url, '-H', '@-', '-w', '\n%{http_code}', `${serve!.endpoint}?${QUERY}`],
      { env: { PATH: process.env.PATH }, input: `X-IDENTITY-HEADER: ${serve!.secret}\n`, timeoutMs: 30_000 },
    );
    assert.match(viaProxy.stdout, /\n403$/);
  } finally {
    await proxy.close();
  }

  // Another user who learnt the secret still gets nothing.
  const theirs = await curlAsOtherUser(`${serve!.endpoint}?${QUERY}`, { 'X-IDENTITY-HEADER': serve!.secret });
  assert.equal(theirs.status, 403);
  assert.doesNotMatch(theirs.body, /access_token/);
});

test('the library surfaces the refusal of a wrong IDENTITY_HEADER', async () => {
  const started = await startServe();
  const env = { ...box.env, IDENTITY_ENDPOINT: started.endpoint, IDENTITY_HEADER: 'wrong' };
  const result = await runCommand(process.execPath, [CLIENT, 'managed', `${RESOURCE}/.default`, '0'], {
    env,
    timeoutMs: 60_000,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /wrong X-IDENTITY-HEADER/);
  assert.equal(result.stdout, '');
});

// `az` is not among the clients here: Debian 12's azure-cli 2.45 finds a managed identity only
// through MSI_ENDPOINT/MSI_SECRET (api-version 2017-09-01), never IDENTITY_ENDPOINT/IDENTITY_HEADER,
// so `az login --identity` there would not ask this endpoint at all.
