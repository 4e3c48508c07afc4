// `store migrate` as a use case between real stores: a login moves from a runner's file store into
// a private redis-server (and back with --keep), the source going only once the target read the
// copy back; a target that already holds another login, or cannot be reached, leaves the source
// untouched. The moved login keeps working: the CLI refreshes it from Redis.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { migrateLogins, type MigrateRequest } from '../../../src/core/usecases/migrate.js';
import { refreshLock } from '../../../src/core/usecases/refresh-lock.js';
import { fileLocks } from '../../../src/infra/adapters.js';
import { accessKey, clientSecretKey, loginKey } from '../../../src/core/credentials.js';
import { lockDir } from '../../../src/infra/paths.js';
import { RedisStore, redisStoreOptions } from '../../../src/infra/stores/redis-store.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { startRedis, VAULT_ACL, type RedisServer } from '../../support/redis.js';
import { closedPort, loggedIn, type Vault } from '../../support/vault-sandbox.js';
import { ROOT } from '../../support/cli.js';
import { fleetEnv } from '../../support/fleet.js';
import type { SecretStore } from '../../../src/core/ports.js';
import { exitCodeFor } from '../../../src/cli/root.js';
import type { VaultError } from '../../../src/core/errors.js';

let server: TestServer;
let redis: RedisServer;
let v: Vault;
let redisEnv: NodeJS.ProcessEnv;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  redis = await startRedis();
  v = await loggedIn(server, { store: 'file' });
  redisEnv = fleetEnv(redis);
});
after(async () => {
  v?.cleanup();
  await redis?.close();
  await server?.close();
});

function redisStore(env: NodeJS.ProcessEnv = redisEnv): RedisStore {
  return new RedisStore(
    redisStoreOptions(
      { ...v.env, ...env },
      () => {},
      () => {},
    ),
  );
}

function request(from: SecretStore, to: SecretStore, extra: Partial<MigrateRequest> = {}): MigrateRequest {
  return {
    from,
    to,
    provider: 'acme',
    keep: false,
    lock: (store, provider, account) =>
      refreshLock({ store, locks: fileLocks(lockDir(v.env), () => {}) }, provider, account),
    debug: () => {},
    ...extra,
  };
}

test('a login and its client secret move from the file store to redis, and work from there', async () => {
  const file = v.store();
  await file.set(clientSecretKey('acme'), JSON.stringify({ v: 1, client_secret: 'not-used-by-the-public-client' }));
  const before = await file.get(loginKey('acme', 'default'));
  const target = redisStore();

  const result = await migrateLogins(request(file, target));

  assert.deepEqual(result.logins, [{ provider: 'acme', account: 'default', identity: 'alice@example.test' }]);
  assert.deepEqual(result.clientSecrets, ['acme']);
  assert.equal(await target.get(loginKey('acme', 'default')), before);
  assert.equal(await file.get(loginKey('acme', 'default')), null, 'moved, not copied');
  assert.equal(await file.get(clientSecretKey('acme')), null, 'no login of acme is left behind: its secret moved too');
  assert.deepEqual(await file.keys('at:acme:'), [], 'the cached access tokens of the moved login went with it');

  // The test server's public client takes no secret: the planted one has done its part.
  assert.equal(await target.delete(clientSecretKey('acme')), true);
  const fromRedis = await v.run(['token', 'acme', '--force-refresh'], { ...redisEnv });
  assert.equal(fromRedis.code, 0, fromRedis.stderr);
  assert.equal((await server.introspect(fromRedis.stdout.trim())).active, true);
  const local = await v.run(['token', 'acme']);
  assert.equal(local.code, 3, 'the file store no longer has the login');
});

test('--keep copies back and leaves the login in both stores', async () => {
  const file = v.store();
  const source = redisStore();
  const result = await migrateLogins(request(source, file, { keep: true }));
  assert.equal(result.logins.length, 1);
  assert.equal(await file.get(loginKey('acme', 'default')), await source.get(loginKey('acme', 'default')));
  assert.notEqual(await source.get(loginKey('acme', 'default')), null);
});

test('a target holding another login for the account is never overwritten, and the source stays', async () => {
  const file = v.store();
  const target = redisStore();
  const other = JSON.stringify({ v: 1, refresh_token: 'another-login', scope: 'openid', obtained_at: 1 });
  await file.set(loginKey('acme', 'default'), other);
  const inRedis = await target.get(loginKey('acme', 'default'));
  await assert.rejects(
    migrateLogins(request(file, target)),
    (e: VaultError) => exitCodeFor(e.kind) === 2 && /already holds a login for acme/.test(e.message),
  );
  assert.equal(await target.get(loginKey('acme', 'default')), inRedis);
  assert.equal(await file.get(loginKey('acme', 'default')), other);
});

test('an unreachable target is exit 4 and the source keeps everything', async () => {
  const file = v.store();
  const before = await file.get(loginKey('acme', 'default'));
  const down = redisStore({ ...redisEnv, VAULT_STORE: `redis://127.0.0.1:${await closedPort()}/0` });
  await assert.rejects(migrateLogins(request(file, down)), (e: VaultError) => exitCodeFor(e.kind) === 4);
  assert.equal(await file.get(loginKey('acme', 'default')), before);
  assert.notEqual(await file.get(accessKey('acme', 'default')), undefined);
});

test('the store in use is not a target, and naming a provider without a login is exit 3', async () => {
  const file = v.store();
  await assert.rejects(migrateLogins(request(file, v.store())), (e: VaultError) => exitCodeFor(e.kind) === 2);
  await assert.rejects(
    migrateLogins(request(file, redisStore(), { provider: 'nobody' })),
    (e: VaultError) => exitCodeFor(e.kind) === 3,
  );
});

test('vault store migrate --to redis://… moves a login from the command line; store info shows redis and its health, never the password', async () => {
  const w = await loggedIn(server, { store: 'file' });
  try {
    const env: NodeJS.ProcessEnv = { ...redisEnv, VAULT_REDIS_PREFIX: 'cli:' };
    const target = `redis://127.0.0.1:${redis.port}/0`;
    const moved = await w.run(['store', 'migrate', '--to', target, 'acme'], {
      VAULT_STORE_KEY: env.VAULT_STORE_KEY,
      VAULT_REDIS_PASSWORD: env.VAULT_REDIS_PASSWORD,
      VAULT_REDIS_PREFIX: 'cli:',
    });
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(
      moved.stderr,
      new RegExp(
        `Moved acme \\(account default, alice@example\\.test\\) from .*credentials\\.json to redis://127\\.0\\.0\\.1:${redis.port}/0`,
      ),
    );
    assert.equal((await w.run(['token', 'acme'])).code, 3, 'the file store no longer holds it');

    const token = await w.run(['token', 'acme', '--force-refresh'], env);
    assert.equal(token.code, 0, token.stderr);
    const info = await w.run(['store', 'info'], env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^store +redis$/m);
    assert.match(info.stdout, new RegExp(`^location +redis://127\\.0\\.0\\.1:${redis.port}/0$`, 'm'));
    assert.match(info.stdout, /^health +ok$/m);
    assert.match(info.stdout, /^durability +appendonly, appendfsync always$/m);
    assert.match(info.stdout, /^prefix +cli:$/m);
    assert.doesNotMatch(info.stdout + info.stderr + moved.stderr, new RegExp(redis.password));

    const kept = await w.run(['store', 'migrate', '--to', 'file', 'acme', '--keep'], env);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /^warning: these logins now live in two places/m);
    const down = await w.run(['store', 'info'], { ...env, VAULT_STORE: `redis://127.0.0.1:${await closedPort()}/0` });
    assert.equal(down.code, 4, down.stderr);
    assert.match(down.stdout, /^health +cannot reach redis/m);
  } finally {
    w.cleanup();
  }
});

test("store migrate --to README's ACL user: the VAULT_STORE line keeps the user, never the password; store info cannot check appendfsync and says so", async () => {
  const acl = await startRedis();
  const w = await loggedIn(server, { store: 'file' });
  try {
    const { name, password } = acl.aclUser;
    const key = fleetEnv(acl).VAULT_STORE_KEY;
    const moved = await w.run(
      ['store', 'migrate', '--to', `redis://${name}:${password}@127.0.0.1:${acl.port}/0`, 'acme'],
      {
        VAULT_STORE_KEY: key,
      },
    );
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(
      moved.stderr,
      new RegExp(
        `^Use them with VAULT_STORE=redis://vault@127\\.0\\.0\\.1:${acl.port}/0 \\(and the same VAULT_STORE_KEY\\)\\.$`,
        'm',
      ),
    );
    assert.doesNotMatch(moved.stderr, new RegExp(password));

    // The line as printed, the password given apart, as README's recipe does.
    const env = {
      VAULT_STORE: /VAULT_STORE=(\S+)/.exec(moved.stderr)![1]!,
      VAULT_REDIS_PASSWORD: password,
      VAULT_STORE_KEY: key,
    };
    const token = await w.run(['token', 'acme', '--force-refresh'], env);
    assert.equal(token.code, 0, token.stderr);
    const info = await w.run(['store', 'info'], env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^health +ok$/m);
    assert.match(
      info.stdout,
      /^durability +appendonly, appendfsync cannot check \(CONFIG not allowed for this user\)$/m,
    );
    assert.doesNotMatch(info.stdout + info.stderr, /unknown|use always/);
    assert.doesNotMatch(info.stdout + info.stderr, new RegExp(password));
  } finally {
    w.cleanup();
    await acl.close();
  }
});

test("README's fleet ACL is the one the suites' redis-server gives vault's user", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const recipe = /redis-cli ACL SETUSER vault on '>PASSWORD' ([^\n]*)\\\n\s*([^\n]*)/.exec(readme);
  assert.ok(recipe, "README's ACL SETUSER recipe");
  const rules = `${recipe[1]} ${recipe[2]}`.replace(/'/g, '').split(/\s+/).filter(Boolean);
  assert.deepEqual(rules, VAULT_ACL.split(' '));
});
