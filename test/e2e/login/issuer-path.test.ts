// Issuers with a path: Microsoft's `{origin}/{tenant}/v2.0` (the microsoft preset's issuer
// template, on a shared `common` endpoint and on a tenant's own), Keycloak-style realms through
// --issuer, and issuers that do not match, against oidc-provider mounted under that path.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { runVault, sandbox, type RunResult, type Sandbox } from '../../support/cli.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { fileStoreEntries } from '../../support/login.js';

const TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const OTHER = '72f988bf-86f1-41af-91ab-2d7cd011db47';

let tenant: TestServer;
/** Mounted under one tenant, but its ID tokens name another (a forged or mixed-up tenant). */
let liar: TestServer;
let realm: TestServer;
const sandboxes: Sandbox[] = [];

before(async () => {
  [tenant, liar, realm] = await Promise.all([
    startTestServer({ issuerPath: `/${TENANT}/v2.0`, tenantId: TENANT }),
    startTestServer({ issuerPath: `/${TENANT}/v2.0`, tenantId: OTHER }),
    startTestServer({ issuerPath: '/realms/acme' }),
  ]);
});
after(async () => {
  await Promise.all([tenant.close(), liar.close(), realm.close()]);
  for (const sb of sandboxes) sb.cleanup();
});

function box(): Sandbox {
  const sb = sandbox({ VAULT_STORE: 'file', VAULT_BROWSER: FETCH_BROWSER });
  sandboxes.push(sb);
  return sb;
}

/** Runs vault in `sb`; it must exit `code`. */
async function run(sb: Sandbox, args: string[], code = 0): Promise<RunResult> {
  const r = await runVault(args, { env: sb.env });
  assert.equal(r.code, code, r.stderr);
  return r;
}

/** The flags of endpoints written out under `base`, as the server serves them. */
function endpoints(base: string): string[] {
  return ['--authorization-endpoint', `${base}/auth`, '--token-endpoint', `${base}/token`];
}

/** The microsoft preset with its endpoints under `/<segment>/v2.0` of a local server. */
async function microsoft(server: TestServer, segment: string): Promise<Sandbox> {
  const sb = box();
  const base = `http://127.0.0.1:${server.port}/${segment}/v2.0`;
  const client = ['--client-id', server.publicClientId];
  await run(sb, ['provider', 'add', 'ms', '--preset', 'microsoft', ...endpoints(base), ...client]);
  return sb;
}

for (const segment of ['common', 'organizations', TENANT]) {
  test(`microsoft preset on /${segment === TENANT ? '<tenant>' : segment}/v2.0: logs in and refreshes, iss checked against the tenant's issuer`, async () => {
    const sb = await microsoft(tenant, segment);
    const login = await run(sb, ['login', 'ms']);
    assert.match(login.stderr, /Logged in to ms as alice@example\.test\./);
    const refresh = await run(sb, ['token', 'ms', '--force-refresh']);
    assert.match(refresh.stdout, /^\S+\n$/);
  });
}

test("microsoft preset: a callback from another tenant's issuer is refused before the code is exchanged", async () => {
  const sb = await microsoft(tenant, OTHER);
  const codes = tenant.counts.authorizationCode;
  const login = await run(sb, ['login', 'ms'], 1);
  assert.match(login.stderr, /^error: login for ms failed: .*iss/m);
  assert.equal(tenant.counts.authorizationCode, codes);
  assert.deepEqual(fileStoreEntries(sb), {});
});

test("microsoft preset on /common: an ID token whose tid is not its issuer's tenant is refused, nothing stored", async () => {
  const sb = await microsoft(liar, 'common');
  const login = await run(sb, ['login', 'ms'], 1);
  assert.match(login.stderr, /^error: login for ms failed: .*iss/m);
  assert.doesNotMatch(login.stderr, /Logged in/);
  assert.deepEqual(fileStoreEntries(sb), {});
});

test('an issuer with a path (Keycloak realm) through --issuer: discovery, and --offline with explicit endpoints', async () => {
  const discovered = box();
  await run(discovered, ['provider', 'add', 'kc', '--issuer', realm.issuer, '--client-id', realm.publicClientId]);
  await run(discovered, ['login', 'kc']);

  const client = ['--client-id', realm.publicClientId, '--scope', 'openid', '--scope', 'offline_access'];
  const offline = box();
  const explicit = ['--issuer', realm.issuer, ...endpoints(realm.issuer), ...client, '--offline'];
  await run(offline, ['provider', 'add', 'kc', ...explicit]);
  await run(offline, ['login', 'kc']);
  await run(offline, ['token', 'kc', '--force-refresh']);

  // The same endpoints with the realm's origin as issuer: the ID token's iss does not match.
  const wrong = box();
  await run(wrong, ['provider', 'add', 'kc', ...endpoints(realm.issuer), ...client]);
  await run(wrong, ['login', 'kc'], 1);
  assert.deepEqual(Object.keys(fileStoreEntries(wrong)), []);
});
