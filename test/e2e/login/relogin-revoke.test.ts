// A new login over an existing one revokes the refresh token it replaces (RFC 7009 §2) where the
// provider revokes that token alone (`revoke_replaced`, GitLab's preset), and sends nothing where a
// revocation would end the whole grant, which the new login shares (Google; oidc-provider's default).
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { configFile } from '../../../src/infra/paths.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { loggedIn, login, type Vault } from '../../support/vault-sandbox.js';

/** A refresh grant sent straight to the server with `refreshToken`: its HTTP status. */
async function refreshStatus(server: TestServer, refreshToken: string): Promise<number> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'vault-public', refresh_token: refreshToken }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function reloginReplacing(server: TestServer, revokeReplaced: boolean): Promise<{ v: Vault; old: string }> {
  const v = await loggedIn(server);
  if (revokeReplaced) appendFileSync(configFile(v.env), 'revoke_replaced = true\n');
  const old = (await v.readLogin())?.refresh_token;
  assert.ok(old, 'the first login stored a refresh token');
  await login(v);
  assert.notEqual((await v.readLogin())?.refresh_token, old, 'the new login stored its own refresh token');
  return { v, old };
}

describe('re-login on a server that revokes one token at a time', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accessTokenTtl: 300, revokeWholeGrant: false });
  });
  after(() => server.close());

  test('with revoke_replaced the replaced refresh token is revoked, and the new login keeps working', async () => {
    const { v, old } = await reloginReplacing(server, true);
    try {
      assert.equal(server.counts.revocations, 1);
      assert.equal(await refreshStatus(server, old), 400, 'the replaced refresh token no longer refreshes');
      const r = await v.run(['token', 'acme', '--force-refresh']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      v.cleanup();
    }
  });

  test('without it nothing is revoked: the replaced token stays live at the server', async () => {
    const before = server.counts.revocations;
    const { v, old } = await reloginReplacing(server, false);
    try {
      assert.equal(server.counts.revocations, before);
      assert.equal(await refreshStatus(server, old), 200);
    } finally {
      v.cleanup();
    }
  });
});

describe('re-login on a server whose revocation ends the whole grant', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accessTokenTtl: 300 });
  });
  after(() => server.close());

  test('a provider without revoke_replaced sends no revocation, so the new login survives', async () => {
    const { v } = await reloginReplacing(server, false);
    try {
      assert.equal(server.counts.revocations, 0);
      const r = await v.run(['token', 'acme', '--force-refresh']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      v.cleanup();
    }
  });
});

test('revoke_replaced must be true or false', async () => {
  const server = await startTestServer();
  const v = await loggedIn(server);
  try {
    appendFileSync(configFile(v.env), 'revoke_replaced = "yes"\n');
    const r = await v.run(['token', 'acme']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /revoke_replaced: expected true or false/);
    assert.ok(await v.readLogin(), 'the stored login is untouched');
  } finally {
    v.cleanup();
    await server.close();
  }
});
