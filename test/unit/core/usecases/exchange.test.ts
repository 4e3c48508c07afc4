// The exchange use case in-process: what each kind of exchange sends (grant type, subject and its
// type, the configured parameters), that an ID token subject comes from a fresh refresh of the
// source and is never cached, and that the exchanged token is cached while no refresh token is.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Provider } from '../../../../src/core/config/providers.js';
import { accessKey, loginKey } from '../../../../src/core/credentials.js';
import { getAccessToken, type TokenDeps } from '../../../../src/core/usecases/get-token.js';
import { MemoryStore, fakeClock, fakeLocks, fakeTokenDeps } from '../../../support/fakes.js';

const SOURCE: Provider = { name: 'corp', client_id: 'cli', issuer: 'https://corp.test' };
const HOUR = 3_600_000;

async function world(exchanged: Provider) {
  const store = new MemoryStore();
  const clock = fakeClock();
  const login = { v: 1, refresh_token: 'rt-1', scope: 'openid api', obtained_at: clock.now() };
  await store.set(loginKey('corp', 'default'), JSON.stringify(login));
  const sent: { grantType: string; params: Record<string, string>; subjectOf: string }[] = [];
  const refreshes: string[] = [];
  const base = fakeTokenDeps(store, clock, fakeLocks(), async (_account, refreshToken) => {
    refreshes.push(refreshToken);
    return {
      access_token: `at-${refreshes.length}`,
      token_type: 'Bearer',
      expires_at: clock.now() + HOUR,
      issued_at: clock.now(),
      id_token: `id-${refreshes.length}`,
    };
  });
  const deps: TokenDeps = {
    ...base,
    provider: (name) => (name === 'corp' ? SOURCE : exchanged),
    oauth: {
      async client(provider, secret) {
        const client = await base.oauth.client(provider, secret);
        return {
          ...client,
          async exchange(grantType, params, subjectOf) {
            sent.push({ grantType, params, subjectOf });
            return {
              access_token: 'exchanged',
              token_type: 'Bearer',
              expires_at: clock.now() + HOUR,
              refresh_token: 'x',
            };
          },
        };
      },
    },
  };
  return { store, clock, deps, sent, refreshes };
}

test('rfc8693 with --subject-token id: a fresh refresh of the source gives the ID token, which is not cached', async () => {
  const api: Provider = {
    name: 'api',
    client_id: undefined as unknown as string,
    exchange_from: 'corp',
    exchange: 'rfc8693',
    subject_token: 'id',
    audience: 'https://api.test',
    resource: 'https://api.test/v1',
    scopes: ['read'],
  };
  const w = await world(api);
  const token = await getAccessToken({ provider: api, account: 'default', minValid: 60 }, w.deps);
  assert.equal(token.access_token, 'exchanged');
  assert.deepEqual(w.refreshes, ['rt-1']);
  assert.equal(w.sent.length, 1);
  assert.equal(w.sent[0]!.grantType, 'urn:ietf:params:oauth:grant-type:token-exchange');
  assert.deepEqual(w.sent[0]!.params, {
    subject_token: 'id-1',
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'https://api.test',
    resource: 'https://api.test/v1',
    scope: 'read',
  });
  const cachedSource = await w.store.get(accessKey('corp', 'default'));
  assert.ok(cachedSource && !cachedSource.includes('id-1'), 'the ID token is not cached');
  // The exchanged token is cached; the refresh token in the exchange's answer is not stored.
  assert.ok((await w.store.get(accessKey('api', 'default')))?.includes('exchanged'));
  assert.deepEqual(await w.store.keys('rt:api'), []);
  await getAccessToken({ provider: api, account: 'default', minValid: 60 }, w.deps);
  assert.equal(w.sent.length, 1, 'a cached exchanged token costs no exchange');
});

test('token-vault: the source refresh token is the subject, with the connection and login hint', async () => {
  const gv: Provider = {
    name: 'gv',
    client_id: undefined as unknown as string,
    exchange_from: 'corp',
    exchange: 'token-vault',
    connection: 'google-oauth2',
    login_hint: 'alice@example.test',
  };
  const w = await world(gv);
  await getAccessToken({ provider: gv, account: 'default', minValid: 60 }, w.deps);
  assert.deepEqual(w.refreshes, [], 'no refresh of the source');
  assert.deepEqual(w.sent, [
    {
      grantType: 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token',
      params: {
        subject_token: 'rt-1',
        subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
        requested_token_type: 'http://auth0.com/oauth/token-type/federated-connection-access-token',
        connection: 'google-oauth2',
        login_hint: 'alice@example.test',
      },
      subjectOf: 'corp',
    },
  ]);
});
