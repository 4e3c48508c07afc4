// The pure parts of `provider add --mcp`: the RFC 9728 challenge parameter, the scopes chosen,
// and the config keys it writes as the config parser reads them back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkResourceIndicator, mcpScopes, resourceMetadataParam } from '../../../src/core/config/mcp.js';
import { parseConfig } from '../../../src/core/config/parse-config.js';
import { authorizationParams } from '../../../src/core/usecases/login.js';
import { VaultError } from '../../../src/core/errors.js';

const META = 'https://notes.test/.well-known/oauth-protected-resource/mcp';

test('resource_metadata is read from a Bearer challenge, quoted or not, among other challenges and parameters', () => {
  const cases: [string | null, string | undefined][] = [
    [`Bearer resource_metadata="${META}"`, META],
    [`Bearer error="invalid_token", error_description="expired, try again", resource_metadata="${META}"`, META],
    [`bearer Resource_Metadata="${META}"`, META],
    // An unquoted URL is no token (RFC 9110 §5.6.2): malformed, not followed.
    [`Bearer resource_metadata=${META}`, undefined],
    [`Bearer realm=x, resource_metadata=abc`, 'abc'],
    [`Basic realm="a, b", Bearer resource_metadata="${META}"`, META],
    [`Negotiate abc==, Bearer resource_metadata="${META}"`, META],
    [`Basic dXNl/cjpw, Bearer resource_metadata="${META}"`, META],
    // Another scheme's parameter of that name is not the Bearer challenge's.
    [`DPoP resource_metadata="${META}"`, undefined],
    [`Bearer resource_metadata="a\\"b"`, 'a"b'],
    ['Bearer', undefined],
    ['', undefined],
    [null, undefined],
  ];
  for (const [header, expected] of cases) assert.equal(resourceMetadataParam(header), expected, String(header));
});

test('scopes: the resource scopes, plus offline_access only when the authorization server lists it', () => {
  assert.deepEqual(mcpScopes({ resourceScopes: ['a'], serverScopes: ['openid', 'offline_access'] }), [
    'a',
    'offline_access',
  ]);
  assert.deepEqual(mcpScopes({ resourceScopes: ['a'], serverScopes: ['openid'] }), ['a']);
  assert.deepEqual(mcpScopes({ resourceScopes: ['offline_access'], serverScopes: ['offline_access'] }), [
    'offline_access',
  ]);
});

test('resource indicators are absolute URIs without a fragment (RFC 8707 §2)', () => {
  assert.equal(checkResourceIndicator('https://notes.test/mcp'), undefined);
  assert.match(checkResourceIndicator('/mcp')!, /absolute/);
  assert.match(checkResourceIndicator('https://notes.test/mcp#x')!, /fragment/);
});

test('config: mcp_url and resource round-trip; a bad one is a usage error naming the key', () => {
  const ok = parseConfig(
    '[providers.notes]\nissuer = "https://auth.test"\nclient_id = "c"\nresource = "https://notes.test/mcp"\nmcp_url = "https://notes.test/mcp"\n',
    'config.toml',
  );
  assert.equal(ok.providers.notes?.mcp_url, 'https://notes.test/mcp');
  assert.equal(ok.providers.notes?.resource, 'https://notes.test/mcp');
  for (const [line, key] of [
    ['mcp_url = "http://notes.test/mcp"', 'mcp_url'],
    ['resource = "https://notes.test/mcp#x"', 'resource'],
    ['resource = 3', 'resource'],
  ])
    assert.throws(
      () => parseConfig(`[providers.notes]\nissuer = "https://auth.test"\nclient_id = "c"\n${line}\n`, 'config.toml'),
      (e: unknown) => e instanceof VaultError && e.kind === 'usage' && e.message.includes(`providers.notes.${key}:`),
    );
});

test('a login asks for the provider resource (RFC 8707); an exchanged provider keeps its resource for the exchange', () => {
  const base = { name: 'notes', issuer: 'https://auth.test', client_id: 'c' };
  assert.equal(
    authorizationParams({ ...base, resource: 'https://notes.test/mcp' }, ['a']).resource,
    'https://notes.test/mcp',
  );
  assert.equal(authorizationParams(base, ['a']).resource, undefined);
  const exchanged = {
    name: 'api',
    exchange_from: 'acme',
    exchange: 'rfc8693' as const,
    resource: 'https://api.test',
    client_id: '',
  };
  assert.equal(authorizationParams(exchanged, ['a']).resource, undefined);
});
