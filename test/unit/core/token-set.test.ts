// Unit tests of the token records: freshness with its capped margin, cache keys, parsing of
// stored entries, and where an expiry comes from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { StoreError } from '../../../src/core/errors.js';
import { expiresIn, isFresh, tokenTypeOf } from '../../../src/core/token-set.js';
import { accessKey, parseRecord, type AccessRecord } from '../../../src/core/credentials.js';
import { formatToken } from '../../../src/cli/token-output.js';
import { expiryOf } from '../../../src/infra/oauth/token-result.js';
import { exitCodeFor } from '../../../src/cli/root.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

function record(issuedAgoSec: number, leftSec: number | null): AccessRecord {
  return {
    v: 1,
    access_token: 'at',
    token_type: 'Bearer',
    issued_at: NOW - issuedAgoSec * 1000,
    expires_at: leftSec === null ? null : NOW + leftSec * 1000,
    scope: 'openid',
  };
}

describe('isFresh', () => {
  test('a token that does not expire is always fresh', () => {
    assert.equal(isFresh(record(10 ** 6, null), NOW, 10 ** 9), true);
  });

  test('fresh while more than min-valid is left, not at or below it', () => {
    const r = record(3000, 100);
    assert.equal(isFresh(r, NOW, 99), true);
    assert.equal(isFresh(r, NOW, 100), false);
    assert.equal(isFresh(r, NOW, 101), false);
    assert.equal(isFresh(r, NOW, 0), true);
  });

  test('an expired token is never fresh, whatever the margin', () => {
    assert.equal(isFresh(record(300, 0), NOW, 0), false);
    assert.equal(isFresh(record(300, -1), NOW, 0), false);
  });

  test('the margin is capped at half the lifetime', () => {
    // 5 s tokens: --min-valid 60 is capped at 2.5 s.
    assert.equal(isFresh(record(1, 4), NOW, 60), true);
    assert.equal(isFresh(record(3, 2), NOW, 60), false);
    // 3600 s tokens: the cap (1800 s) is above the default margin, which applies.
    assert.equal(isFresh(record(3500, 100), NOW, 60), true);
    assert.equal(isFresh(record(3550, 50), NOW, 60), false);
  });

  test('a record whose expiry precedes its issue time gets no margin', () => {
    const r: AccessRecord = { ...record(0, 10), issued_at: NOW + 60_000 };
    assert.equal(isFresh(r, NOW, 60), true);
  });
});

describe('expiresIn', () => {
  test('whole seconds left, never negative, null for non-expiring', () => {
    assert.equal(expiresIn(record(0, 90.9), NOW), 90);
    assert.equal(expiresIn(record(100, -5), NOW), 0);
    assert.equal(expiresIn(record(0, null), NOW), null);
  });
});

describe('accessKey', () => {
  test('the full grant is `*`', () => {
    assert.equal(accessKey('acme', 'default'), 'at:acme:default:*');
    assert.equal(accessKey('acme', 'default', []), 'at:acme:default:*');
  });

  test('scope sets are sorted and deduplicated, so order does not matter', () => {
    assert.equal(accessKey('acme', 'work', ['openid', 'email']), 'at:acme:work:email openid');
    assert.equal(accessKey('acme', 'work', ['email', 'openid', 'email']), 'at:acme:work:email openid');
    assert.notEqual(accessKey('acme', 'work', ['openid']), accessKey('acme', 'work', ['openid', 'email']));
    assert.notEqual(accessKey('acme', 'work', ['openid']), accessKey('acme', 'default', ['openid']));
  });
});

describe('parseRecord', () => {
  const where = 'entry "at:acme:default:*" of /x/credentials.json';
  const parse = (raw: string) => parseRecord<AccessRecord>(raw, where, ['access_token', 'expires_at', 'issued_at']);

  function rejects(raw: string, message: RegExp): void {
    assert.throws(
      () => parse(raw),
      (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.equal(exitCodeFor(error.kind), 5);
        assert.ok(error.message.includes(where), error.message);
        assert.match(error.message, message);
        return true;
      },
    );
  }

  test('a valid record is returned as is', () => {
    assert.deepEqual(parse(JSON.stringify(record(1, 2))), record(1, 2));
  });

  test('corrupt entries are reported with their location (exit 5)', () => {
    rejects('{"v":1,', /corrupt \(not JSON\)/);
    rejects('"a string"', /corrupt \(not an object\)/);
    rejects('null', /corrupt \(not an object\)/);
    rejects('{"access_token":"x"}', /corrupt \(unknown format undefined\)/);
    rejects('{"v":"1"}', /corrupt \(unknown format "1"\)/);
    rejects('{"v":1,"access_token":"x","issued_at":1}', /corrupt \(no "expires_at"\)/);
  });

  test('a record from a newer version says to upgrade', () => {
    rejects('{"v":2,"access_token":"x"}', /newer vault \(format v2\): upgrade vault/);
  });
});

describe('expiryOf', () => {
  const jwt = (claims: object) =>
    `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  test('expires_in counts from the response time', () => {
    assert.equal(expiryOf({ expires_in: 3600, access_token: 'opaque' }, NOW), NOW + 3_600_000);
    assert.equal(
      expiryOf({ expires_in: 60, access_token: jwt({ exp: 1 }) }, NOW),
      NOW + 60_000,
      'expires_in wins over exp',
    );
  });

  test("without expires_in, a JWT access token's exp", () => {
    assert.equal(expiryOf({ access_token: jwt({ exp: NOW / 1000 + 300, sub: 'alice' }) }, NOW), NOW + 300_000);
  });

  test('without either, the token does not expire', () => {
    assert.equal(expiryOf({ access_token: 'gho_opaque0123456789' }, NOW), null);
    assert.equal(expiryOf({ access_token: jwt({ sub: 'no-exp' }) }, NOW), null);
    assert.equal(expiryOf({ access_token: jwt({ exp: 'tomorrow' }) }, NOW), null);
    assert.equal(expiryOf({ access_token: 'a.b%%%.c' }, NOW), null);
  });
});

describe('output', () => {
  test('token_type uses the registered spelling', () => {
    assert.equal(tokenTypeOf('bearer'), 'Bearer');
    assert.equal(tokenTypeOf('DPOP'), 'DPoP');
    assert.equal(tokenTypeOf(undefined), 'Bearer');
    assert.equal(tokenTypeOf('N_A'), 'N_A');
  });

  test('--json, --header and plain output of one record', () => {
    const r: AccessRecord = { ...record(10, 290), token_type: 'bearer', scope: 'openid email' };
    assert.equal(formatToken(r, {}, 'acme', 'work', NOW), 'at\n');
    assert.equal(formatToken(r, { header: true }, 'acme', 'work', NOW), 'Authorization: Bearer at\n');
    assert.equal(
      formatToken(r, { json: true }, 'acme', 'work', NOW),
      '{"access_token":"at","token_type":"Bearer","expires_at":"2030-01-01T12:04:50.000Z","expires_in":290,"scope":"openid email","provider":"acme","account":"work"}\n',
    );
  });
});
