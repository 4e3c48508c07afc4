// The key of an encrypted file store opens every login in it: `vault exec` and the browser command
// never pass VAULT_FILE_PASSPHRASE on. A nested `vault token` for the same provider inside `exec`
// keeps working through the VAULT_<NAME>_ACCESS_TOKEN pass-through.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { runVault, VAULT_BIN, type Sandbox } from '../../support/cli.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { FETCH_BROWSER } from '../../support/fetch-browser.js';
import { loggedIn } from '../../support/vault-sandbox.js';

const PASSPHRASE = 'correct horse battery staple for the store';
let server: TestServer;
let box: Sandbox;

before(async () => {
  server = await startTestServer({ accessTokenTtl: 600 });
  box = await loggedIn(server, {
    provider: { scopes: [] },
    env: {
      VAULT_FILE_PASSPHRASE: PASSPHRASE,
      VAULT_BROWSER: `env > "$VAULT_TEST_BROWSER_ENV"; ${FETCH_BROWSER}`,
    },
  });
});
after(async () => {
  box?.cleanup();
  await server?.close();
});

test('the store is encrypted, and the browser command got no passphrase', async () => {
  assert.doesNotMatch(readFileSync(join(box.env.VAULT_DATA_DIR!, 'credentials.json'), 'utf8'), /rt:acme/);
  const envFile = join(box.dir, 'browser.env');
  const again = await runVault(['login', 'acme'], { env: { ...box.env, VAULT_TEST_BROWSER_ENV: envFile } });
  assert.equal(again.code, 0, again.stderr);
  const seen = readFileSync(envFile, 'utf8');
  assert.match(seen, /^VAULT_TEST_BROWSER_ENV=/m, 'the browser command ran');
  assert.doesNotMatch(seen, /VAULT_FILE_PASSPHRASE|correct horse/);
});

test("exec: no passphrase in the command's environment; a nested vault token for the provider still works", async () => {
  const nested = `printf '%s|' "\${VAULT_FILE_PASSPHRASE-unset}"; ${JSON.stringify(process.execPath)} ${JSON.stringify(VAULT_BIN)} token acme`;
  const r = await runVault(['exec', 'acme', '--', 'sh', '-c', `${nested}; printf '|%s' "$ACME_ACCESS_TOKEN"`], {
    env: box.env,
  });
  assert.equal(r.code, 0, r.stderr);
  const [passphrase, inner, outer] = r.stdout.split('|');
  assert.equal(passphrase, 'unset');
  assert.ok(outer && inner === `${outer}\n`, 'the nested vault token printed the token exec handed over');
  // Another provider's login cannot be read without the key: the nested call says what is missing.
  const other = await runVault(['exec', 'acme', '--', process.execPath, VAULT_BIN, 'status'], { env: box.env });
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /VAULT_FILE_PASSPHRASE/);
});
