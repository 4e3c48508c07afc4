// The status use case in-process: the rows a user sees, from the store and the CI environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Config } from '../../../../src/core/config/providers.js';
import { accessKey, loginKey } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import { status, type StatusDeps } from '../../../../src/core/usecases/status.js';
import { fakeClock, memoryStore } from '../../../support/fakes.js';

const clock = fakeClock();
const CONFIG: Config = {
  providers: {
    acme: { issuer: 'https://login.acme.test', client_id: 'vault-cli' },
    corp: { issuer: 'https://login.corp.test', client_id: 'vault-cli' },
  },
};
const login = (identity: string) =>
  JSON.stringify({ v: 1, refresh_token: 'rt-1', scope: 'openid email', identity, obtained_at: clock.now() });

async function deps(entries: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = [];
  const d: StatusDeps = {
    store: await memoryStore(entries),
    env,
    configFile: '/home/u/.config/vault/config.toml',
    config: () => CONFIG,
    debug: () => {},
    now: () => clock.now(),
    warn: (m) => void warnings.push(m),
  };
  return { d, warnings };
}

test('every stored login is a row with its identity, scopes and cached expiry; -a narrows the list', async () => {
  const expires = clock.now() + 3600_000;
  const { d } = await deps({
    [loginKey('acme', 'default')]: login('alice@acme.test'),
    [loginKey('acme', 'work')]: login('alice@work.test'),
    [accessKey('acme', 'work')]: JSON.stringify({
      v: 1,
      access_token: 'at-1',
      token_type: 'Bearer',
      expires_at: expires,
      issued_at: clock.now(),
      scope: 'openid email',
    }),
  });
  const rows = await status(d);
  assert.deepEqual(
    rows.map((r) => [r.provider, r.account, r.identity, r.scopes, r.access_cached, r.expires_at, r.store]),
    [
      ['acme', 'default', 'alice@acme.test', ['openid', 'email'], false, null, 'memory'],
      ['acme', 'work', 'alice@work.test', ['openid', 'email'], true, expires, 'memory'],
    ],
  );
  assert.deepEqual(
    (await status(d, undefined, 'work')).map((r) => r.account),
    ['work'],
  );
});

test('a CI refresh token of a configured provider is a row of store "env"', async () => {
  const { d } = await deps({}, { VAULT_CORP_REFRESH_TOKEN: 'rt-ci' });
  const rows = await status(d);
  assert.deepEqual(
    rows.map((r) => [r.provider, r.account, r.store, r.refresh_token_stored]),
    [['corp', 'default', 'env', true]],
  );
});

test('a named provider without a login is "login required", naming the login command', async () => {
  const { d } = await deps({});
  await assert.rejects(
    status(d, 'acme', 'work'),
    (e: unknown) =>
      e instanceof VaultError && e.kind === 'loginRequired' && /run `vault login acme -a work`/.test(e.message),
  );
  await assert.rejects(status(d, 'nope'), (e: unknown) => e instanceof VaultError && e.kind === 'usage');
});

test('a corrupt login entry gets a row with the command that removes it, and a warning', async () => {
  const { d, warnings } = await deps({
    [loginKey('acme', 'default')]: '{"v":1,',
    [loginKey('corp', 'default')]: login('bob@corp.test'),
  });
  const rows = await status(d);
  assert.deepEqual(
    rows.map((r) => [r.provider, r.fix]),
    [
      ['acme', 'vault logout acme'],
      ['corp', undefined],
    ],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rt:acme:default/);
});
