// Changing a provider as a user would: `provider set` edits single fields, `provider add` never
// silently replaces one, a preset with --issuer takes its endpoints from discovery, and the
// messages around a changed or refused client say what to do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { sandbox, type Sandbox, vault } from '../../support/cli.js';
import { addProvider, login, providerAddArgs } from '../../support/vault-sandbox.js';
import { ok, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';
import { startFaultProxy } from '../../support/fault-proxy.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function show(sb: Sandbox, name = 'acme'): Promise<Record<string, unknown>> {
  return JSON.parse(ok(await vault(sb, ['provider', 'show', name, '--json']), 'show').stdout) as Record<
    string,
    unknown
  >;
}

function configText(sb: Sandbox): string {
  return readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml'), 'utf8');
}

test('add on an existing name is refused (exit 2, naming set and --replace); set changes only what it is given; --replace replaces', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(sb, server, {
      clientId: 'old',
      scopes: ['openid'],
      extra: ['--offline', '--env-name', 'ACME_TOKEN', '--git-host', 'git.acme.test', '--param', 'audience=api'],
    });
    const before = configText(sb);

    const again = await vault(sb, providerAddArgs(server, { clientId: 'new', scopes: [], extra: ['--offline'] }));
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^error: provider acme already exists.*`vault provider set acme .*--replace/);
    assert.equal(again.stderr.trimEnd().split('\n').length, 1);
    assert.equal(configText(sb), before, 'config.toml is untouched');

    const set = await vault(sb, [
      'provider',
      'set',
      'acme',
      '--client-id',
      'new',
      '--scope',
      'email',
      '--scope',
      'profile',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /Updated provider acme.*client_id/);
    const edited = await show(sb);
    assert.equal(edited.client_id, 'new');
    assert.deepEqual(edited.scopes, ['email', 'profile'], 'a repeated flag replaces the list');
    assert.deepEqual(edited.env_names, ['ACME_TOKEN']);
    assert.deepEqual(edited.git_hosts, ['git.acme.test']);
    assert.deepEqual(edited.params, { audience: 'api' });
    assert.equal(edited.issuer, server.issuer);

    const nothing = await vault(sb, ['provider', 'set', 'acme']);
    assert.equal(nothing.code, 2);
    const unknown = await vault(sb, ['provider', 'set', 'nope', '--client-id', 'x']);
    assert.equal(unknown.code, 2);

    const replaced = await vault(
      sb,
      providerAddArgs(server, { clientId: 'third', scopes: [], extra: ['--offline', '--replace'] }),
    );
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stderr, /Replaced provider acme/);
    const whole = await show(sb);
    assert.equal(whole.client_id, 'third');
    assert.equal(whole.scopes, undefined);
    assert.deepEqual(whole.env_names, ['ACME_ACCESS_TOKEN']);
  } finally {
    sb.cleanup();
  }
});

test("--preset with --issuer takes the endpoints from discovery and keeps the preset's scopes, params and env names", async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(sb, server, { ...LIFECYCLE_PROVIDER, extra: ['--preset', 'google'] });
    const shown = await show(sb);
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'revocation_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
    ]) {
      assert.equal(shown[key], undefined, `${key} is not Google's`);
    }
    assert.deepEqual(shown.params, { access_type: 'offline', prompt: 'consent' });
    assert.deepEqual(shown.env_names, ['GOOGLE_OAUTH_ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN']);
    const counts = { ...server.counts };
    await login(sb);
    assert.equal(server.counts.authorizationCode, counts.authorizationCode + 1, 'the login went to the issuer');

    // The same through set: a preset provider moved to another issuer.
    const moved = sandbox({ VAULT_STORE: 'file' });
    try {
      ok(await vault(moved, ['provider', 'add', 'g', '--preset', 'google', '--client-id', 'x']), 'add g');
      ok(await vault(moved, ['provider', 'set', 'g', '--issuer', server.issuer]), 'set g');
      const g = await show(moved, 'g');
      assert.equal(g.token_endpoint, undefined);
      assert.equal(g.issuer, server.issuer);
      assert.deepEqual(g.scopes, ['openid', 'email', 'profile']);
    } finally {
      moved.cleanup();
    }
  } finally {
    sb.cleanup();
  }
});

test('endpoint flags given with --issuer win over discovery, which fills the rest: add and set', async () => {
  // The explicit endpoints are a proxy in front of the issuer: what reaches it went where the flag said.
  const proxy = await startFaultProxy(server.issuer);
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(sb, server, { ...LIFECYCLE_PROVIDER, extra: ['--token-endpoint', `${proxy.url}/token`] });
    const shown = await show(sb);
    assert.equal(shown.token_endpoint, `${proxy.url}/token`);
    assert.equal(shown.authorization_endpoint, undefined, 'the authorization endpoint comes from discovery');
    const tokenPosts = () => proxy.attempts.filter((a) => a.method === 'POST' && a.path === '/token').length;
    await login(sb);
    assert.equal(tokenPosts(), 1, 'the code exchange went to the explicit token endpoint');
    ok(await vault(sb, ['token', 'acme', '--force-refresh']), 'refresh');
    assert.equal(tokenPosts(), 2, 'and so did the refresh');

    ok(await vault(sb, ['provider', 'set', 'acme', '--revocation-endpoint', `${proxy.url}/token/revocation`]), 'set');
    const out = ok(await vault(sb, ['logout', 'acme']), 'logout');
    assert.match(out.stderr, /Revoked the refresh token/);
    assert.equal(
      proxy.attempts.filter((a) => a.path === '/token/revocation').length,
      1,
      'the revocation went to the endpoint set',
    );

    // --issuer drops the endpoints the provider had (here a preset's): only those given with it stay.
    ok(await vault(sb, ['provider', 'add', 'g', '--preset', 'google', '--client-id', 'x']), 'add g');
    ok(
      await vault(sb, ['provider', 'set', 'g', '--issuer', server.issuer, '--token-endpoint', `${proxy.url}/token`]),
      'set g',
    );
    const g = await show(sb, 'g');
    assert.equal(g.token_endpoint, `${proxy.url}/token`);
    assert.equal(g.authorization_endpoint, undefined, "Google's authorization endpoint is gone");
    assert.equal(g.revocation_endpoint, undefined);
  } finally {
    sb.cleanup();
    await proxy.close();
  }
});

test('show says whether a client secret is stored, never the secret', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(sb, server, LIFECYCLE_PROVIDER);
    assert.equal((await show(sb)).client_secret_stored, false);
    const secret = 'a-client-secret-that-must-not-show';
    ok(await vault(sb, ['provider', 'set', 'acme', '--client-secret-stdin'], {}, secret), 'set secret');
    const json = await vault(sb, ['provider', 'show', 'acme', '--json']);
    assert.equal((JSON.parse(json.stdout) as Record<string, unknown>).client_secret_stored, true);
    const text = await vault(sb, ['provider', 'show', 'acme']);
    assert.match(text.stdout, /^client_secret_stored\s+yes$/m);
    for (const out of [json.stdout, json.stderr, text.stdout, text.stderr]) assert.ok(!out.includes(secret));
  } finally {
    sb.cleanup();
  }
});

test('a client id changed under a login warns; the refused refresh (invalid_client) names the fix', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  try {
    await addProvider(sb, server, LIFECYCLE_PROVIDER);
    await login(sb);
    const set = await vault(sb, ['provider', 'set', 'acme', '--client-id', server.confidentialClientId]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(
      set.stderr,
      /^warning: client_id changed; the logins of acme \(default\) were issued to the old client and may need `vault login acme`$/m,
    );

    const r = await vault(sb, ['token', 'acme', '--force-refresh']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: refresh for acme failed: invalid_client.*no client secret was sent.*`printf %s "\$SECRET" \| vault provider set acme --client-secret-stdin`.*`vault provider set acme --client-id ID`/,
    );
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  } finally {
    sb.cleanup();
  }
});
