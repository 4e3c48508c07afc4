// The App Service managed-identity protocol's pure rules: what is refused before a token is due,
// which scope a resource maps to, and the answer's shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { azureRoute, azureScopes, azureTokenBody } from '../../../../src/core/protocols/azure-identity.js';
import type { Provider } from '../../../../src/core/config/providers.js';

const HOST = '127.0.0.1:4000';
const QUERY = '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net';
const right = (value: string | undefined) => value === 'secret';
const ask = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  azureRoute({ method, url, headers: { host: HOST, 'x-identity-header': 'secret', ...headers } }, HOST, right);

test('a request with the secret, the api-version and a resource is due a token for that resource', () => {
  assert.deepEqual(ask(QUERY), { kind: 'token', resource: 'https://vault.azure.net' });
});

test('refusals come as {statusCode, message} with the status the SDKs expect', () => {
  const status = (answer: ReturnType<typeof ask>) => {
    assert.equal(answer.kind, 'reply');
    const body = JSON.parse((answer as { body: string }).body) as { statusCode: number; message: string };
    assert.equal(typeof body.message, 'string');
    return body.statusCode;
  };
  assert.equal(status(azureRoute({ method: 'GET', url: QUERY, headers: { host: HOST } }, HOST, right)), 401);
  assert.equal(status(ask(QUERY, { 'x-identity-header': 'guess' })), 401);
  assert.equal(status(ask(QUERY, { host: 'attacker.test:4000' })), 403);
  assert.equal(status(ask(QUERY, {}, 'POST')), 405);
  assert.equal(status(ask('/other?api-version=2019-08-01&resource=x')), 404);
  assert.equal(status(ask('/msi/token?api-version=2017-09-01&resource=x')), 400);
  assert.equal(status(ask('/msi/token?api-version=2019-08-01')), 400);
});

test('a resource maps to {resource}/.default for the microsoft preset, else azure_resources, else the login token', () => {
  const base: Provider = { name: 'p', client_id: 'c', issuer: 'https://issuer.test' };
  assert.deepEqual(azureScopes({ ...base, preset: 'microsoft' }, 'https://management.azure.com'), [
    'https://management.azure.com/.default',
  ]);
  const mapped = { ...base, azure_resources: { 'api://x': 'read write' } };
  assert.deepEqual(azureScopes(mapped, 'api://x'), ['read', 'write']);
  assert.equal(azureScopes(mapped, 'api://y'), undefined);
});

test('expires_on is a string of epoch seconds', () => {
  const body = JSON.parse(azureTokenBody('tok', 1_700_000_000_999, 'r', 'c')) as Record<string, unknown>;
  assert.deepEqual(body, {
    access_token: 'tok',
    expires_on: '1700000000',
    resource: 'r',
    token_type: 'Bearer',
    client_id: 'c',
  });
});
