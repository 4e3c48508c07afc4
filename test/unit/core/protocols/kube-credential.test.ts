// The kubectl exec credential plugin's answer: the version kubectl asked for, the token, and an
// expiry kubectl can parse (RFC 3339 without fractions), or none for a token that never expires.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { execCredential, requestedApiVersion } from '../../../../src/core/protocols/kube-credential.js';
import { UsageError } from '../../../../src/core/errors.js';
import type { AccessRecord } from '../../../../src/core/credentials.js';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const record = (expires_at: number | null): AccessRecord => ({
  v: 1,
  access_token: 'tok',
  token_type: 'Bearer',
  expires_at,
  issued_at: 0,
  scope: '',
});

test('the apiVersion kubectl asks for is echoed; unset means v1', () => {
  assert.equal(requestedApiVersion(undefined), V1);
  assert.equal(requestedApiVersion(''), V1);
  assert.equal(requestedApiVersion(JSON.stringify({ apiVersion: V1BETA1, spec: {} })), V1BETA1);
  assert.equal(requestedApiVersion(JSON.stringify({ apiVersion: V1 })), V1);
});

test('an exec info vault cannot answer is a usage error naming what it asked', () => {
  assert.throws(
    () => requestedApiVersion('{not json'),
    (e) => e instanceof UsageError && /not JSON/.test(e.message),
  );
  assert.throws(
    () => requestedApiVersion(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v2' })),
    (e) => e instanceof UsageError && e.message.includes('"client.authentication.k8s.io/v2"'),
  );
  assert.throws(() => requestedApiVersion('{}'), /no apiVersion/);
});

test('an ExecCredential with the token and a second-precision expiry, or none', () => {
  const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
  assert.deepEqual(JSON.parse(execCredential(record(at), V1BETA1)), {
    apiVersion: V1BETA1,
    kind: 'ExecCredential',
    status: { token: 'tok', expirationTimestamp: '2030-01-02T03:04:05Z' },
  });
  const never = JSON.parse(execCredential(record(null))) as { apiVersion: string; status: object };
  assert.equal(never.apiVersion, V1);
  assert.deepEqual(never.status, { token: 'tok' });
});
