// Proves the test authorization server and the fetch browser with openid-client alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';

import { authorizeWithFetch } from './fetch-browser.js';
import { startTestServer, type TestServer } from './oidc-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function discover(target: TestServer, confidential = false): Promise<oidc.Configuration> {
  const options = { execute: [oidc.allowInsecureRequests] };
  return confidential
    ? oidc.discovery(
        new URL(target.issuer),
        target.confidentialClientId,
        target.confidentialClientSecret,
        oidc.ClientSecretBasic(target.confidentialClientSecret),
        options,
      )
    : oidc.discovery(new URL(target.issuer), target.publicClientId, undefined, oidc.None(), options);
}

/** A code flow with PKCE through the fetch browser; `port` is the (unheard) loopback port. */
async function codeFlow(config: oidc.Configuration, scope: string, port = 53682) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `http://127.0.0.1:${port}/callback`,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await authorizeWithFetch(url.href);
  return {
    callback,
    tokens: await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
  };
}

function isInvalidGrant(error: unknown): boolean {
  return error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant';
}

test('discovery over plain http, with RFC 9207 iss and offline_access advertised', async () => {
  const metadata = (await discover(server)).serverMetadata();
  assert.equal(metadata.issuer, server.issuer);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.ok(metadata.scopes_supported?.includes('offline_access'));
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.ok(metadata.device_authorization_endpoint && metadata.revocation_endpoint && metadata.introspection_endpoint);
});

test('code flow with PKCE through the fetch browser issues access and refresh tokens', async () => {
  const config = await discover(server);
  const { callback, tokens } = await codeFlow(config, 'openid email profile api:read');
  assert.equal(callback.origin, 'http://127.0.0.1:53682');
  assert.equal(callback.searchParams.get('iss'), server.issuer);
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token);
  assert.equal(tokens.expires_in, 5);
  assert.equal(tokens.claims()?.sub, 'alice');
  assert.equal(server.counts.authorizationCode, 1);

  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, 'alice');
  assert.equal(userinfo.email, 'alice@example.test');
  assert.equal(userinfo.name, 'Alice');

  const issued = server.issuedTokens();
  for (const token of [tokens.access_token, tokens.refresh_token, tokens.id_token, callback.searchParams.get('code')]) {
    assert.ok(token && issued.includes(token));
  }
});

test('a PKCE-less authorization request of the public client is refused', async () => {
  const url = oidc.buildAuthorizationUrl(await discover(server), {
    redirect_uri: 'http://127.0.0.1:53682/callback',
    scope: 'openid',
  });
  const callback = await authorizeWithFetch(url.href);
  assert.equal(callback.searchParams.get('error'), 'invalid_request');
});

test('refresh rotates; reusing the old refresh token revokes the whole grant', async () => {
  const config = await discover(server);
  const { tokens } = await codeFlow(config, 'openid email profile');
  const before = { ...server.counts };

  const narrowed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid email' });
  assert.equal(narrowed.scope, 'openid email');
  assert.ok(narrowed.refresh_token);
  assert.notEqual(narrowed.refresh_token, tokens.refresh_token);
  assert.equal(server.counts.refresh, before.refresh + 1);
  assert.equal((await server.introspect(narrowed.refresh_token)).scope, 'openid email profile');

  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), isInvalidGrant);
  assert.equal(server.counts.grantErrors, before.grantErrors + 1);
  assert.ok(server.counts.grantRevoked >= before.grantRevoked + 1);
  assert.deepEqual(server.events.slice(-2), [
    { name: 'grant.revoked' },
    { name: 'grant.error', grantType: 'refresh_token', error: 'invalid_grant' },
  ]);
  assert.equal((await server.introspect(narrowed.refresh_token)).active, false);
  assert.equal((await server.introspect(narrowed.access_token)).active, false);
});

test('revokeGrantOf kills the refresh token server-side', async () => {
  const config = await discover(server);
  const { tokens } = await codeFlow(config, 'openid');
  assert.equal((await server.introspect(tokens.refresh_token!)).active, true);
  await server.revokeGrantOf(tokens.refresh_token!);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), isInvalidGrant);
});

test('device flow: approveDevice completes the user side, polling gets tokens', async () => {
  const config = await discover(server, true);
  const started = Date.now();
  const authorization = await oidc.initiateDeviceAuthorization(config, { scope: 'openid api:read' });
  assert.equal(authorization.interval, 1);
  await server.approveDevice(authorization.user_code);
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, authorization);
  assert.ok(tokens.access_token && tokens.refresh_token);
  assert.equal(server.counts.deviceCode, 1);
  assert.ok(Date.now() - started < 3000);
  assert.ok(server.issuedTokens().includes(authorization.device_code));
});

test('revocation of a refresh token is counted and ends the grant', async () => {
  const config = await discover(server);
  const { tokens } = await codeFlow(config, 'openid');
  const before = server.counts.revocations;
  await oidc.tokenRevocation(config, tokens.refresh_token!);
  assert.equal(server.counts.revocations, before + 1);
  assert.equal(server.events.at(-1)?.name, 'revocation.success');
  assert.equal((await server.introspect(tokens.refresh_token!)).active, false);
  assert.equal((await server.introspect(tokens.access_token)).active, false);
});

test('devInteractions login and consent pages work with the fetch browser', async () => {
  const pages = await startTestServer({ autoLogin: false });
  try {
    const { tokens } = await codeFlow(await discover(pages), 'openid email');
    assert.equal(tokens.claims()?.sub, 'alice');
    assert.ok(tokens.refresh_token);
  } finally {
    await pages.close();
  }
});

test('fetch-browser-cli delivers the callback to the loopback listener', async () => {
  const config = await discover(server);
  const listener = createServer((request, response) => {
    response.end('done');
    listener.emit('callback', new URL(request.url ?? '/', 'http://127.0.0.1'));
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  try {
    const { port } = listener.address() as AddressInfo;
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `http://127.0.0.1:${port}/callback`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const script = fileURLToPath(new URL('fetch-browser-cli.ts', import.meta.url));
    const [[callback], { stdout }] = await Promise.all([
      once(listener, 'callback') as Promise<[URL]>,
      promisify(execFile)(process.execPath, ['--import', 'tsx', script, url.href]),
    ]);
    assert.equal(stdout, '');
    assert.ok(callback.searchParams.get('code'));
  } finally {
    listener.close();
  }
});
