// `vault login` against a stand-in for GitHub's OAuth endpoints (github-standin.ts): errors as
// HTTP 200, device polling answers as HTTP 200, and access tokens that never expire and come
// without a refresh token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../support/github-standin.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { fileStoreEntries, printedUrl, startVault } from '../../support/login.js';

let github: GitHubStandIn;
const sandboxes: Sandbox[] = [];

before(async () => {
  github = await startGitHubStandIn({ deviceAnswers: ['authorization_pending', 'slow_down'] });
});
after(async () => {
  await github.close();
  for (const sb of sandboxes) sb.cleanup();
});

/** A `github`-preset provider whose endpoints point at the stand-in. */
async function githubBox(secret?: string): Promise<Sandbox> {
  const sb = sandbox({ VAULT_STORE: 'file', VAULT_BROWSER: FETCH_BROWSER });
  sandboxes.push(sb);
  const args = [
    'provider',
    'add',
    'gh',
    '--preset',
    'github',
    '--client-id',
    github.clientId,
    '--authorization-endpoint',
    `${github.url}/login/oauth/authorize`,
    '--token-endpoint',
    `${github.url}/login/oauth/access_token`,
    '--device-authorization-endpoint',
    `${github.url}/login/device/code`,
  ];
  if (secret !== undefined) args.push('--client-secret-stdin');
  const add = await runVault(args, { env: sb.env, ...(secret !== undefined && { input: secret }) });
  assert.equal(add.code, 0, add.stderr);
  return sb;
}

/** The stored login is the non-expiring access token, and `vault token` hands it out as is. */
async function assertLongLivedToken(sb: Sandbox, token: string): Promise<void> {
  const entries = fileStoreEntries(sb);
  const login = JSON.parse(entries['rt:gh:default']!) as Record<string, unknown>;
  assert.equal(login.refresh_token, undefined);
  assert.equal(login.access_token, token);
  assert.equal(
    login.scope,
    'repo read:org gist',
    "GitHub's comma-separated scope is stored space-delimited (RFC 6749 §3.3)",
  );
  assert.equal((JSON.parse(entries['at:gh:default:*']!) as { expires_at: unknown }).expires_at, null);

  const requests = { ...github.tokenRequests };
  const printed = await runVault(['token', 'gh'], { env: sb.env });
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout, `${token}\n`);
  const json = await runVault(['token', 'gh', '--json', '--min-valid', '86400'], { env: sb.env });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    access_token: token,
    token_type: 'Bearer',
    expires_at: null,
    expires_in: null,
    scope: 'repo read:org gist',
    provider: 'gh',
    account: 'default',
  });
  // Narrowing scopes takes a refresh grant, which this login cannot make: a usage error, not "log in again".
  const scoped = await runVault(['token', 'gh', '--scope', 'repo'], { env: sb.env });
  assert.equal(scoped.code, 2, scoped.stderr);
  assert.match(
    scoped.stderr,
    /^error: --scope needs a refresh token, and the login to gh has only a non-expiring access token/,
  );
  assert.deepEqual(github.tokenRequests, requests, 'no token request after the login');
}

test('web flow: JSON asked for, the non-expiring token stored as the long-lived credential', async () => {
  const sb = await githubBox(github.clientSecret);
  const vault = startVault(['login', 'gh'], sb.env);
  const url = await printedUrl(vault);
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Logged in to gh\.\n$/);
  assert.equal(url.origin + url.pathname, `${github.url}/login/oauth/authorize`);
  assert.equal(url.searchParams.get('scope'), 'repo read:org gist');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('nonce'), null);
  assert.equal(github.issued.length, 1);
  assert.ok(!result.stderr.includes(github.issued[0]!) && !result.stderr.includes(github.clientSecret));
  await assertLongLivedToken(sb, github.issued[0]!);
});

test('web flow: an error reported with HTTP 200 fails the login (exit 1) and stores nothing', async () => {
  const sb = await githubBox('wrong-secret');
  const issued = github.issued.length;
  const result = await runVault(['login', 'gh'], { env: sb.env });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    /error: login for gh failed: incorrect_client_credentials \(The client_id and\/or client_secret passed are incorrect\.\)/,
  );
  assert.equal(github.issued.length, issued);
  assert.deepEqual(Object.keys(fileStoreEntries(sb)), ['cs:gh']);
  const token = await runVault(['token', 'gh'], { env: sb.env });
  assert.equal(token.code, 3, token.stderr);
});

test('device flow: authorization_pending, then slow_down, then the token, all as HTTP 200', async () => {
  const sb = await githubBox();
  const vault = startVault(['login', 'gh', '--device'], sb.env);
  const [, uri, code] = await vault.waitForStderr(/open (\S+) and enter the code:\n\n {2}(\S+)\n/);
  assert.equal(uri, `${github.url}/login/device`);
  assert.equal(code, 'WDJB-MJHT');
  const result = await vault.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /Logged in to gh\.\n$/);
  // The stand-in answers a poll that comes before its interval with another slow_down: exactly
  // three polls mean the interval, and the 5 s more after slow_down (RFC 8628 §3.5), were kept.
  assert.deepEqual(
    github.polls.map((p) => p.answer),
    ['authorization_pending', 'slow_down', 'access_token'],
  );
  await assertLongLivedToken(sb, github.issued.at(-1)!);
});
