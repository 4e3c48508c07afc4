// Broken or hostile answers from the authorization server, made by the fault proxy in front of the
// real oidc-provider: lifetimes that are missing or absurd, bodies that never end, and text meant
// for the terminal (escape sequences, forged lines) in identities, scopes and error messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_ANSWERS } from './cases.js';
import { vault, type Sandbox } from '../../support/cli.js';
import {
  PROVIDER,
  TOKEN_PATH,
  assertLoginIntact,
  credentialsFile,
  loggedInVia,
  ok,
  startWorld,
  storedRefreshToken,
  type World,
} from '../../support/world.js';
import { FileStore } from '../../../src/infra/stores/file-store.js';

let world: World;
const boxes: Sandbox[] = [];
before(async () => {
  world = await startWorld();
});
after(async () => {
  for (const b of boxes) b.cleanup();
  await world.close();
});

async function box(): Promise<Sandbox> {
  const b = await loggedInVia(world);
  boxes.push(b);
  return b;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const HOSTILE = '\x1b[2J\x1b]0;owned\x07\u202e\nacme  default  forged@example.test  openid';
/** No raw control character, bidi override or line break beyond the line's own end. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Changes the payload of the ID token in a token response (its signature is not checked at the token endpoint, RFC 9068 aside). */
function idTokenClaims(body: Record<string, unknown>, change: (claims: Record<string, unknown>) => void): void {
  const [header, payload, signature] = String(body.id_token).split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  body.id_token = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

/**
 * A forced refresh while the token endpoint answers `status` with a body that never ends: it
 * exits `code` saying the answer is larger than 1 MiB. Returns how many token requests it made.
 */
async function refreshFlooded(b: Sandbox, status: number, code: number): Promise<number> {
  const seen = world.proxy.attempts.length;
  world.proxy.set(TOKEN_PATH, { kind: 'flood', status });
  const r = await vault(b, ['token', PROVIDER, '--force-refresh'], { VAULT_HTTP_TIMEOUT: '20' });
  world.proxy.set(TOKEN_PATH, undefined);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, /^error: .*larger than 1 MiB/m);
  return world.proxy.attempts.slice(seen).filter((a) => a.path === TOKEN_PATH).length;
}

const CASES: Record<(typeof HOSTILE_ANSWERS)[number], () => Promise<void>> = {
  async 'a refreshable token without expires_in lives an hour'() {
    const b = await box();
    world.proxy.set(TOKEN_PATH, { kind: 'rewrite', change: (body) => delete body.expires_in });
    const r = await ok(b, ['token', PROVIDER, '--force-refresh', '--json']);
    world.proxy.set(TOKEN_PATH, undefined);
    const json = JSON.parse(r.stdout) as { expires_in: number | null };
    assert.ok(
      json.expires_in !== null && json.expires_in > 3500 && json.expires_in <= 3600,
      `expires_in ${json.expires_in}`,
    );
  },

  async 'an absurd expires_in is clamped, every date printable'() {
    const b = await box();
    world.proxy.set(TOKEN_PATH, { kind: 'rewrite', change: (body) => (body.expires_in = 1e20) });
    const r = await ok(b, ['token', PROVIDER, '--force-refresh', '--json']);
    world.proxy.set(TOKEN_PATH, undefined);
    const at = Date.parse((JSON.parse(r.stdout) as { expires_at: string }).expires_at);
    assert.ok(at > Date.now() + TEN_YEARS_MS - 86_400_000 && at <= Date.now() + TEN_YEARS_MS, `expires_at ${at}`);
    for (const args of [
      ['token', PROVIDER, '--json'],
      ['status', '--json'],
      ['status'],
      ['kube-credential', PROVIDER],
    ]) {
      const out = await ok(b, args);
      assert.doesNotMatch(out.stderr + out.stdout, /Invalid time value/);
    }
  },

  async 'an absurd expiry already stored is printable'() {
    const b = await box();
    const store = new FileStore(credentialsFile(b));
    const key = `at:${PROVIDER}:default:*`;
    const record = JSON.parse((await store.get(key))!) as Record<string, unknown>;
    await store.set(key, JSON.stringify({ ...record, expires_at: 1e20 }));
    for (const args of [
      ['token', PROVIDER, '--json'],
      ['status', '--json'],
      ['kube-credential', PROVIDER],
    ]) {
      const out = await ok(b, args);
      assert.doesNotMatch(out.stderr + out.stdout, /Invalid time value/);
    }
  },

  async 'an endless 200 body is cut at 1 MiB: exit 1, one attempt'() {
    const b = await box();
    const refreshToken = storedRefreshToken(b);
    const sent = world.proxy.flooded();
    assert.equal(await refreshFlooded(b, 200, 1), 1);
    // Reading stopped at the limit: what the proxy got out is the limit plus what sockets buffer.
    assert.ok(world.proxy.flooded() - sent < 32 * 1024 * 1024, `${world.proxy.flooded() - sent} bytes sent`);
    // The refresh request reached the proxy only, so the stored refresh token is still the live one.
    await assertLoginIntact(world, b, refreshToken);
  },

  async 'an endless 503 body is cut at 1 MiB: exit 4 after retries'() {
    const b = await box();
    assert.equal(await refreshFlooded(b, 503, 4), 3);
  },

  async 'escapes and forged lines in the identity and scopes'() {
    const b = await box();
    world.proxy.set(TOKEN_PATH, {
      kind: 'rewrite',
      change(body) {
        if (body.id_token) idTokenClaims(body, (claims) => (claims.email = `${HOSTILE}${'x'.repeat(500)}`));
        body.scope = `${body.scope} ${HOSTILE.replace(/\s/g, '')}`;
      },
    });
    const login = await ok(b, ['login', PROVIDER]);
    world.proxy.set(TOKEN_PATH, undefined);
    assert.doesNotMatch(login.stderr, RAW_CONTROL);
    assert.match(
      login.stderr,
      /Logged in to acme as \\x1b\[2J\\x1b\]0;owned\\x07\\u202e\\nacme {2}default {2}forged@example\.test {2}openidx+…\./,
    );
    assert.equal(login.stderr.split('\n').filter((l) => /forged/.test(l)).length, 1);
    const table = await ok(b, ['status']);
    assert.doesNotMatch(table.stdout, RAW_CONTROL);
    assert.equal(table.stdout.trimEnd().split('\n').length, 2, `header and one row:\n${table.stdout}`);
    const json = JSON.parse((await ok(b, ['status', '--json'])).stdout) as {
      accounts: { identity: string; scopes: string[] }[];
    };
    assert.equal(json.accounts.length, 1);
    assert.ok(json.accounts[0]!.identity.length <= 201, `identity of ${json.accounts[0]!.identity.length} characters`);
    for (const text of [json.accounts[0]!.identity, ...json.accounts[0]!.scopes])
      assert.doesNotMatch(text, RAW_CONTROL);
  },

  async 'escapes and forged lines in an error code and description'() {
    const b = await box();
    const body = JSON.stringify({
      error: 'invalid_request\x1b[31m',
      error_description: `bad\nerror: forged line\x1b]8;;http://evil.test\x07${'y'.repeat(400)}`,
    });
    world.proxy.set(TOKEN_PATH, { kind: 'status', status: 400, headers: { 'content-type': 'application/json' }, body });
    const r = await vault(b, ['token', PROVIDER, '--force-refresh']);
    world.proxy.set(TOKEN_PATH, undefined);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, RAW_CONTROL);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^error: refresh for acme failed: invalid_request\\x1b\[31m \(bad\\nerror: forged line\\x1b\]8;;http:\/\/evil\.test\\x07y+…\)$/,
    );
  },

  async 'timeouts no timer can hold are usage errors'() {
    const b = await box();
    const seen = world.proxy.attempts.length;
    const login = await vault(b, ['login', PROVIDER, '--timeout', '99999999999']);
    assert.equal(login.code, 2, login.stderr);
    assert.match(login.stderr, /^error: --timeout 99999999999 is longer than vault can wait: at most 2147483 seconds/m);
    const token = await vault(b, ['token', PROVIDER, '--force-refresh'], { VAULT_HTTP_TIMEOUT: '3000000' });
    assert.equal(token.code, 2, token.stderr);
    assert.match(token.stderr, /^error: VAULT_HTTP_TIMEOUT=3000000 is longer than vault can wait/m);
    assert.doesNotMatch(login.stderr + token.stderr, /Warning/);
    assert.equal(world.proxy.attempts.length, seen, 'a request was sent');
  },
};

for (const name of HOSTILE_ANSWERS) test(name, CASES[name]);
