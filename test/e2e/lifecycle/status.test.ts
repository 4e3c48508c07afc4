// `vault status`: the table and JSON for logged-in, expired and logged-out accounts, read from the
// store without a refresh and without a secret in sight.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ACCOUNT, startTestServer, type TestServer } from '../../support/oidc-server.js';
import { sandbox, type RunResult, type Sandbox, vault } from '../../support/cli.js';
import { plantEntry } from '../../support/cli-setup.js';
import { addProvider, login } from '../../support/vault-sandbox.js';
import { assertNoSecret, fileEntries, ok, storedTokens, LIFECYCLE_PROVIDER } from '../../support/lifecycle.js';

let server: TestServer;
let sb: Sandbox;
const outputs: RunResult[] = [];

async function status(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const result = await vault(sb, ['status', ...args], extra);
  outputs.push(result);
  return result;
}

interface StatusJson {
  accounts: {
    provider: string;
    account: string;
    identity: string | null;
    scopes: string[];
    expires_at: string | null;
    refresh_token_stored: boolean;
    refresh_token_rejected: boolean;
    store: string;
    state: string;
  }[];
}

before(async () => {
  // Tokens that outlive the file on any machine: "expires in" never races the clock, and the
  // expiry test ages the cached tokens in the store instead of waiting for them.
  server = await startTestServer({ accessTokenTtl: 3600 });
  sb = sandbox({ VAULT_STORE: 'file' });
});
after(async () => {
  await server.close();
  sb.cleanup();
});

test('with no logins: a note on stderr, an empty table, exit 0', async () => {
  const table = await status([]);
  assert.equal(table.code, 0);
  assert.equal(table.stdout, '');
  assert.match(table.stderr, /No logins/);
  const json = await status(['--json']);
  assert.equal(json.code, 0);
  assert.equal(json.stdout, '{"accounts":[]}\n');
});

test('a named provider without a login exits 3 and names the login command', async () => {
  await addProvider(sb, server, LIFECYCLE_PROVIDER);
  const plain = await status(['acme']);
  assert.equal(plain.code, 3);
  assert.match(plain.stderr, /`vault login acme`/);
  const work = await status(['acme', '-a', 'work', '--json']);
  assert.equal(work.code, 3);
  assert.equal(work.stdout, '');
  assert.match(work.stderr, /`vault login acme -a work`/);
  const unknown = await status(['nosuch']);
  assert.equal(unknown.code, 2, 'an unconfigured provider is a usage error, not a missing login');
});

test('logged in: identity, scopes, expiry, refresh token and store, in the table and in JSON', async () => {
  await login(sb);
  const table = ok(await status([]), 'status');
  const lines = table.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^PROVIDER\s+ACCOUNT\s+IDENTITY\s+SCOPES\s+ACCESS TOKEN\s+REFRESH TOKEN\s+STORE$/);
  // The identity is the ID token's email, else its subject.
  assert.match(
    lines[1]!,
    new RegExp(
      `^acme\\s+default\\s+(${ACCOUNT.email}|${ACCOUNT.sub})\\s+.*openid.*\\s+expires in \\d+[smh]\\s+yes\\s+file$`,
    ),
  );

  await login(sb, 'work');
  const token = JSON.parse(ok(await vault(sb, ['token', 'acme', '--json']), 'token --json').stdout) as {
    expires_at: string;
  };
  const json = ok(await status(['--json']), 'status --json');
  const doc = JSON.parse(json.stdout) as StatusJson;
  assert.deepEqual(Object.keys(doc), ['accounts']);
  assert.deepEqual(
    doc.accounts.map((a) => a.account),
    ['default', 'work'],
  );
  const [first] = doc.accounts;
  assert.deepEqual(Object.keys(first!), [
    'provider',
    'account',
    'identity',
    'scopes',
    'expires_at',
    'refresh_token_stored',
    'refresh_token_rejected',
    'store',
    'state',
  ]);
  assert.equal(first!.provider, 'acme');
  assert.ok(first!.identity === ACCOUNT.email || first!.identity === ACCOUNT.sub, `identity ${first!.identity}`);
  assert.ok(first!.scopes.includes('openid') && first!.scopes.includes('email'), `scopes ${first!.scopes.join(' ')}`);
  assert.equal(first!.refresh_token_stored, true);
  assert.equal(first!.refresh_token_rejected, false);
  assert.equal(first!.state, 'valid');
  assert.equal(first!.store, 'file');
  assert.equal(first!.expires_at, token.expires_at, "status reports the cached token's expiry");
  assert.match(first!.expires_at!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const narrowed = JSON.parse(
    ok(await status(['acme', '-a', 'work', '--json']), 'status acme -a work').stdout,
  ) as StatusJson;
  assert.deepEqual(
    narrowed.accounts.map((a) => a.account),
    ['work'],
  );
});

test('after the access token\'s lifetime: "expired", and status neither refreshes nor calls the server', async () => {
  // Past its lifetime as vault reads it: issued an hour ago, expired a second ago.
  const now = Date.now();
  for (const [key, record] of Object.entries(fileEntries(sb)).filter(([k]) => k.startsWith('at:')))
    plantEntry(sb, key, JSON.stringify({ ...record, issued_at: now - 3_600_000, expires_at: now - 1000 }));
  const refreshes = server.counts.refresh;
  const table = ok(await status(['--debug']), 'status --debug');
  assert.match(table.stdout, /^acme\s+default\s.*\sexpired\s+yes\s+file$/m);
  assert.match(table.stdout, /^acme\s+work\s.*\sexpired\s+yes\s+file$/m);
  assert.equal(server.counts.refresh, refreshes);
  assert.doesNotMatch(table.stderr, /HTTP/);
  assert.match(table.stderr, /store: 2 login\(s\) found in file/);
  const json = JSON.parse(ok(await status(['--json']), 'status --json').stdout) as StatusJson;
  assert.ok(json.accounts.every((a) => a.expires_at !== null && Date.parse(a.expires_at) < Date.now()));
  assert.deepEqual(
    json.accounts.map((a) => a.state),
    ['refreshable', 'refreshable'],
    'an expired access token with a refresh token stored',
  );
});

test('a damaged cached token is reported with its location, and the account is still listed', async () => {
  const file = plantEntry(sb, 'at:acme:work:*', '{"v":1,"access_token":');
  const table = ok(await status([]), 'status');
  assert.match(table.stdout, /^acme\s+work\s.*\snone cached\s+yes\s+file$/m);
  assert.match(
    table.stderr,
    /^warning: entry "at:acme:work:\*" of .*credentials\.json is corrupt \(not JSON\); the next `vault token acme -a work` replaces it$/m,
  );
  ok(await vault(sb, ['token', 'acme', '-a', 'work']), 'token -a work');
  const after = ok(await status([]), 'status');
  assert.equal(after.stderr, `Stores consulted: file store ${file}, environment (VAULT_<NAME>_REFRESH_TOKEN).\n`);
  assert.match(after.stdout, /^acme\s+work\s.*\sexpires in \d+[smh]\s+yes\s+file$/m);
});

test('after logout the account is gone from the list, and naming it exits 3', async () => {
  ok(await vault(sb, ['logout', 'acme']), 'logout');
  const table = ok(await status(['acme']), 'status acme');
  assert.doesNotMatch(table.stdout, /\sdefault\s/);
  assert.match(table.stdout, /^acme\s+work\s/m);
  const named = await status(['acme', '-a', 'default', '--json']);
  assert.equal(named.code, 3);
  assert.match(named.stderr, /`vault login acme`/);
});

test('a corrupt login entry gets a row saying so, with the command that removes it; the other rows still print', async () => {
  plantEntry(sb, 'rt:acme:broken', '{"v":1,"refresh_token":');
  const table = ok(await status([]), 'status');
  assert.match(table.stdout, /^acme\s+broken\s+-\s+-\s+-\s+corrupt: run `vault logout acme -a broken`\s+file$/m);
  assert.match(table.stdout, /^acme\s+work\s.*\syes\s+file$/m);
  assert.match(table.stderr, /^warning: entry "rt:acme:broken" of .*credentials\.json is corrupt \(not JSON\)/m);
  const json = JSON.parse(ok(await status(['acme', '--json']), 'status --json').stdout) as StatusJson;
  assert.deepEqual(
    json.accounts.map((a) => a.account),
    ['broken', 'work'],
  );
  assert.deepEqual(json.accounts[0], {
    provider: 'acme',
    account: 'broken',
    identity: null,
    scopes: [],
    expires_at: null,
    refresh_token_stored: false,
    refresh_token_rejected: false,
    store: 'file',
    state: 'corrupt',
    corrupt: true,
    fix: 'vault logout acme -a broken',
  });
  ok(await vault(sb, ['logout', 'acme', '-a', 'broken']), 'the command the row names');
  const after = ok(await status([]), 'status');
  assert.doesNotMatch(after.stdout, /broken/);
  assert.match(after.stdout, /^acme\s+work\s/m);
});

test('a CI refresh token from VAULT_<NAME>_REFRESH_TOKEN is listed with store "env"', async () => {
  const json = JSON.parse(
    ok(await status(['acme', '--json'], { VAULT_ACME_REFRESH_TOKEN: 'ci-refresh-token-value' }), 'status').stdout,
  ) as StatusJson;
  const ci = json.accounts.find((a) => a.account === 'default');
  assert.deepEqual(ci, {
    provider: 'acme',
    account: 'default',
    identity: null,
    scopes: [],
    expires_at: null,
    refresh_token_stored: true,
    refresh_token_rejected: false,
    store: 'env',
    state: 'refreshable',
  });
  assertNoSecret(outputs.map((o) => o.stdout + o.stderr).join('\n'), ['ci-refresh-token-value'], 'status output');
});

test('a refresh token the server rejected: stored, rejected, state "rejected" in JSON as in the table', async () => {
  const refreshToken = fileEntries(sb)['rt:acme:work']!.refresh_token as string;
  await server.revokeGrantOf(refreshToken);
  const refused = await vault(sb, ['token', 'acme', '-a', 'work', '--force-refresh']);
  assert.equal(refused.code, 3, refused.stderr);
  const table = ok(await status(['acme', '-a', 'work']), 'status');
  assert.match(table.stdout, /^acme\s+work\s.*\srejected\s+file$/m);
  const json = JSON.parse(ok(await status(['acme', '-a', 'work', '--json']), 'status --json').stdout) as StatusJson;
  assert.equal(json.accounts.length, 1);
  assert.equal(json.accounts[0]!.refresh_token_stored, true);
  assert.equal(json.accounts[0]!.refresh_token_rejected, true);
  assert.equal(json.accounts[0]!.state, 'rejected');
});

test('no output of status carries a token the server issued or the store holds', () => {
  const secrets = [...server.issuedTokens(), ...storedTokens(fileEntries(sb))];
  assertNoSecret(outputs.map((o) => o.stdout + o.stderr).join('\n'), secrets, 'status output');
});
