// The authorization URLs the presets build. Presets carry explicit endpoints, so a login prints
// its URL without any network request; the test reads it and cancels with Ctrl-C.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { runVault, sandbox, type Sandbox } from '../../support/cli.js';
import { callbackPort, fileStoreEntries, portRefuses, printedUrl, startVault } from '../../support/login.js';

const sandboxes: Sandbox[] = [];
after(() => {
  for (const sb of sandboxes) sb.cleanup();
});

/** Adds the preset, starts `vault --debug login <preset> --no-browser`, returns its URL, cancels. */
async function presetUrl(preset: string, clientId: string, secret?: string): Promise<URL> {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  const args = ['provider', 'add', preset, '--preset', preset, '--client-id', clientId];
  if (secret) args.push('--client-secret-stdin');
  const add = await runVault(args, { env: sb.env, ...(secret && { input: secret }) });
  assert.equal(add.code, 0, add.stderr);

  const vault = startVault(['--debug', 'login', preset, '--no-browser'], sb.env);
  const url = await printedUrl(vault);
  vault.child.kill('SIGINT');
  const result = await vault.exited;
  assert.equal(result.code, 130, result.stderr);
  assert.equal(result.stdout, '');
  // No discovery, no request of any kind: --debug logs every HTTP request.
  assert.doesNotMatch(result.stderr, /HTTP /);
  if (secret) assert.ok(!result.stderr.includes(secret));
  assert.equal(await portRefuses(callbackPort(url)), true);
  assert.deepEqual(Object.keys(fileStoreEntries(sb)), secret ? [`cs:${preset}`] : []);

  const params = url.searchParams;
  assert.equal(params.get('client_id'), clientId);
  assert.equal(params.get('response_type'), 'code');
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.match(params.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(params.get('redirect_uri'), `http://127.0.0.1:${callbackPort(url)}/callback`);
  assert.equal(params.get('client_secret'), null);
  return url;
}

test('google: v2 auth endpoint, offline access with consent, openid email profile, nonce', async () => {
  const url = await presetUrl('google', '123-abc.apps.googleusercontent.com', 'GOCSPX-test-secret');
  assert.equal(url.origin + url.pathname, 'https://accounts.google.com/o/oauth2/v2/auth');
  assert.equal(url.searchParams.get('access_type'), 'offline');
  assert.equal(url.searchParams.get('prompt'), 'consent');
  assert.equal(url.searchParams.get('scope'), 'openid email profile');
  assert.match(url.searchParams.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
});

test('github: the OAuth app endpoint with its scopes, no nonce without openid', async () => {
  const url = await presetUrl('github', 'Iv1.0123456789abcdef', 'github-test-secret');
  assert.equal(url.origin + url.pathname, 'https://github.com/login/oauth/authorize');
  assert.equal(url.searchParams.get('scope'), 'repo read:org gist');
  assert.equal(url.searchParams.get('nonce'), null);
  assert.equal(url.searchParams.get('prompt'), null);
});

test('gitlab and microsoft: their endpoints; no prompt added to a preset', async () => {
  const gitlab = await presetUrl('gitlab', 'gitlab-app-id');
  assert.equal(gitlab.origin + gitlab.pathname, 'https://gitlab.com/oauth/authorize');
  assert.equal(gitlab.searchParams.get('scope'), 'openid email read_repository write_repository');
  const microsoft = await presetUrl('microsoft', '00000000-0000-0000-0000-000000000000');
  assert.equal(microsoft.origin + microsoft.pathname, 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
  assert.equal(microsoft.searchParams.get('scope'), 'openid email profile offline_access');
  assert.equal(microsoft.searchParams.get('prompt'), null);
});
