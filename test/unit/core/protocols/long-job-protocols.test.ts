// The pure protocol rules behind the long-job routes: which registry hosts a pattern covers, which
// metadata requests are refused and what the others are answered, and the token file's schedule.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  editCredHelpers,
  providerForRegistry,
  registryHostOf,
  registryMatches,
} from '../../../../src/core/protocols/docker-credential.js';
import {
  refusal,
  route,
  serviceAccountName,
  type MetadataRequest,
} from '../../../../src/core/protocols/gce-metadata.js';
import type { Provider } from '../../../../src/core/config/providers.js';
import { freshUntil, isFresh } from '../../../../src/core/token-set.js';
import type { AccessRecord } from '../../../../src/core/credentials.js';

test('registry patterns cover one DNS label, never deeper or a look-alike suffix', () => {
  assert.ok(registryMatches('*.gcr.io', 'eu.gcr.io'));
  assert.ok(registryMatches('*-docker.pkg.dev', 'europe-west1-docker.pkg.dev'));
  for (const host of ['gcr.io', 'a.b.gcr.io', '.gcr.io', 'evilgcr.io', '-.gcr.io'])
    assert.ok(!registryMatches('*.gcr.io', host), host);
  for (const host of ['docker.pkg.dev', '-docker.pkg.dev', 'a.b-docker.pkg.dev'])
    assert.ok(!registryMatches('*-docker.pkg.dev', host), host);
  assert.equal(registryHostOf('https://EU.gcr.io/v2/'), 'eu.gcr.io');
  assert.equal(registryHostOf('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(registryHostOf('https://u:p@gcr.io'), undefined);
  assert.equal(registryHostOf('gcr.io evil'), undefined);
  assert.equal(registryHostOf('gcr.io'), 'gcr.io');
  assert.equal(registryHostOf('https://gcr.io'), 'gcr.io');
  assert.equal(registryHostOf('https://us-docker.pkg.dev/project/repo/image'), 'us-docker.pkg.dev');
  assert.equal(registryHostOf('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  // The host as docker sends it: no WHATWG mapping of fullwidth letters, percent-decoding, or
  // dropping a default port, and no scheme but https and http.
  for (const url of [
    'ｇｃｒ.io',
    'https://ｇｃｒ.io',
    'gcr%2eio',
    'https://gcr%2Eio/v2/',
    'ftp://gcr.io:21',
    'ftp://gcr.io',
    'https://gcr.io:443x',
    'https://gcr.io?x=1',
    'https://gcr.io#a',
    'gcr.io\\evil.test',
  ])
    assert.equal(registryHostOf(url), undefined, url);
  assert.equal(registryHostOf('https://gcr.io:443'), 'gcr.io:443', 'a port given stays: gcr.io:443 is not gcr.io');
  const p = (name: string, registry_hosts: string[]) => ({ name, client_id: 'x', registry_hosts }) as Provider;
  // An exact entry wins over an earlier provider's wildcard.
  assert.equal(providerForRegistry([p('wide', ['*.gcr.io']), p('exact', ['eu.gcr.io'])], 'eu.gcr.io')?.name, 'exact');
});

test("credHelpers edits keep other keys and helpers, and remove only vault's entries", () => {
  const doc = { auths: { a: {} }, credHelpers: { a: 'osxkeychain', b: 'vault' } };
  assert.deepEqual(editCredHelpers(doc, ['c'], false), {
    doc: { auths: { a: {} }, credHelpers: { a: 'osxkeychain', b: 'vault', c: 'vault' } },
    changed: ['c'],
  });
  assert.deepEqual(editCredHelpers(doc, undefined, true), {
    doc: { auths: { a: {} }, credHelpers: { a: 'osxkeychain' } },
    changed: ['b'],
  });
  assert.deepEqual(editCredHelpers({ x: 1 }, undefined, true), { doc: { x: 1 }, changed: [] });
});

const HOST = '127.0.0.1:8173';
const req = (url: string, headers: Record<string, string> = {}, method = 'GET'): MetadataRequest => ({
  method,
  url,
  headers: { host: HOST, 'metadata-flavor': 'Google', ...headers },
});

test('metadata refusals', () => {
  assert.equal(refusal(req('/computeMetadata/v1/instance'), HOST), undefined);
  assert.equal(
    refusal({ method: 'GET', url: '/', headers: { host: HOST } }, HOST),
    undefined,
    '/ needs no Metadata-Flavor',
  );
  assert.ok(refusal({ method: 'GET', url: '/computeMetadata/v1/instance', headers: { host: HOST } }, HOST));
  assert.ok(refusal(req('/', { host: 'rebound.test:8173' }), HOST));
  assert.ok(refusal(req('/', { 'x-forwarded-for': '10.0.0.1' }), HOST));
  assert.ok(refusal(req('/', {}, 'POST'), HOST));
  assert.ok(refusal(req('http://other.test/computeMetadata/v1/instance'), HOST), 'absolute-form targets');
});

test('metadata routes: downscoping only for a proper subset of the granted scopes', () => {
  const who = { name: 'a@example.test', scopes: ['openid', 'email', 'api:read'] };
  const token = '/computeMetadata/v1/instance/service-accounts/default/token';
  assert.deepEqual(route(req(`${token}?scopes=api:read`), who), { kind: 'token', scopes: ['api:read'] });
  assert.deepEqual(route(req(`${token}?scopes=api:read,cloud-platform`), who), { kind: 'token' });
  assert.deepEqual(route(req(`${token}?scopes=openid,email,api:read`), who), { kind: 'token' });
  assert.deepEqual(route(req('/computeMetadata/v1/instance/service-accounts/a@example.test/token'), who), {
    kind: 'token',
  });
  assert.equal(
    (route(req('/computeMetadata/v1/instance/service-accounts/b@example.test/token'), who) as { status: number })
      .status,
    404,
  );
  assert.equal((route(req('/computeMetadata/v1/project/project-id'), who) as { status: number }).status, 404);
  assert.equal((route(req('/computeMetadata/v1/project/numeric-project-id'), who) as { body: string }).body, '0');
});

test('the service account name: the email, else the subject, else the account; always served', () => {
  assert.equal(serviceAccountName('a@example.test', 'ci'), 'a@example.test');
  assert.equal(serviceAccountName('248289761001', 'ci'), '248289761001');
  assert.equal(serviceAccountName('auth0|abc/def', 'ci'), 'ci', 'a subject that is no path segment');
  assert.equal(serviceAccountName(undefined, 'ci'), 'ci');
  const who = { name: 'alice', scopes: ['openid', 'offline_access'] };
  const sa = '/computeMetadata/v1/instance/service-accounts/';
  assert.deepEqual(route(req(`${sa}default/email`), who), { kind: 'reply', status: 200, body: 'alice', json: false });
  assert.equal((route(req(sa), who) as { body: string }).body, 'default/\nalice/\n');
  assert.equal(
    (route(req(`${sa}alice/?recursive=true`), who) as { body: string }).body,
    JSON.stringify({ aliases: ['default'], email: 'alice', scopes: ['openid', 'offline_access'] }),
  );
  assert.deepEqual(route(req(`${sa}alice/token`), who), { kind: 'token' });
  assert.equal((route(req(sa), { name: 'default', scopes: [] }) as { body: string }).body, 'default/\n');
});

test('a token stays fresh until its margin, capped at half its lifetime', () => {
  const record: AccessRecord = {
    v: 1,
    access_token: 't',
    token_type: 'Bearer',
    issued_at: 0,
    expires_at: 3_600_000,
    scope: '',
  };
  assert.equal(freshUntil(record, 300), 3_300_000);
  assert.equal(freshUntil({ ...record, expires_at: 60_000 }, 300), 30_000);
  assert.equal(freshUntil({ ...record, expires_at: null }, 300), Infinity);
  assert.ok(isFresh(record, 3_299_999, 300) && !isFresh(record, 3_300_000, 300));
});
