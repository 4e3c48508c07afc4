// The refresh-lock protocol in-process: which lock a refresh takes, what a holder may write, and
// (with the real lock files) that processes queued on the lock read the winner's token instead of
// spending the rotated refresh token a second time (RFC 9700 §4.14.2).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { Provider } from '../../../../src/core/config/providers.js';
import { accessKey, loginKey, type AccessRecord, type LoginRecord } from '../../../../src/core/credentials.js';
import { getAccessToken } from '../../../../src/core/usecases/get-token.js';
import { lockName, proveWritable, refreshLock, withRefreshLock } from '../../../../src/core/usecases/refresh-lock.js';
import { fileLocks } from '../../../../src/infra/adapters.js';
import type { Locks, RefreshLock } from '../../../../src/core/ports.js';
import { MemoryStore, fakeClock, fakeLocks, fakeTokenDeps } from '../../../support/fakes.js';

const HOUR = 3600_000;
const PROVIDER: Provider = { name: 'acme', client_id: 'vault-public', issuer: 'https://issuer.test' };
const LOGIN = loginKey('acme', 'default');

/** A store shared across machines, with its own lock: `commit` is that lock's fenced write. */
function sharedStore(taken: string[], commit: RefreshLock['commit'] = async () => true) {
  return Object.assign(new MemoryStore(), {
    lock: async (name: string): Promise<RefreshLock> => {
      taken.push(`store ${name}`);
      return {
        release: async () => {},
        stillOurs: async () => true,
        commitToGrant: async () => true,
        commit,
      };
    },
  });
}

test('a refresh lock is named <provider>.<account>, which no other lock name can be', () => {
  assert.equal(lockName('acme', 'work'), 'acme.work');
  assert.notEqual(lockName('acme', 'default'), 'config');
});

test('the per-user lock file, unless the store is shared and brings its own lock', async () => {
  const taken: string[] = [];
  const store = new MemoryStore();
  await (await refreshLock({ store, locks: fakeLocks({ taken }) }, 'acme', 'work')).release();
  assert.deepEqual(taken, ['acme.work', 'released acme.work']);

  await (await refreshLock({ store: sharedStore(taken), locks: fakeLocks({ taken }) }, 'acme', 'work')).release();
  assert.deepEqual(taken.slice(2), ['store acme.work'], 'the lock file is not taken as well');
});

test('withRefreshLock releases the lock when the work fails', async () => {
  const taken: string[] = [];
  const deps = { store: new MemoryStore(), locks: fakeLocks({ taken }) };
  await assert.rejects(
    withRefreshLock(deps, 'acme', 'default', async () => {
      throw new Error('grant failed');
    }),
    /grant failed/,
  );
  assert.deepEqual(taken, ['acme.default', 'released acme.default']);
});

test('a fenced lock refuses the commit of a holder that a later holder overtook: nothing is written', async () => {
  const shared = sharedStore([], async () => false);
  const fenced = await refreshLock({ store: shared, locks: fakeLocks() }, 'acme', 'default');
  assert.equal(await fenced.commit([{ key: LOGIN, value: '{"v":1}' }]), false);
  assert.deepEqual(await shared.keys(''), []);
  const store = new MemoryStore();
  const plain = await refreshLock({ store, locks: fakeLocks() }, 'acme', 'default');
  assert.equal(await plain.commit([{ key: LOGIN, value: '{"v":1}' }]), true, 'a lock file commits to the store');
  assert.equal(await store.get(LOGIN), '{"v":1}');
});

test('before a grant, a lost lock file writes nothing back; a CI login’s probe entry is taken back', async () => {
  const store = new MemoryStore();
  const lost = await refreshLock({ store, locks: fakeLocks({ ours: () => false }) }, 'acme', 'default');
  assert.equal(await proveWritable(store, lost, LOGIN, '{"v":1,"refresh_token":"rt-old"}', true), false);
  assert.deepEqual(await store.keys(''), []);

  const ours = await refreshLock({ store, locks: fakeLocks() }, 'acme', 'default');
  assert.equal(await proveWritable(store, ours, LOGIN, '{"v":1}', false), true);
  assert.deepEqual(await store.keys(''), [], 'the CI variable stays the only copy of its refresh token');
});

test('a lock file is committed to a grant only when asked: whether it is still ours changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-locks-'));
  const marker = join(dir, 'acme.default.inflight');
  try {
    const lock = await fileLocks(dir, () => {}).acquire('acme.default');
    assert.equal(await lock.stillOurs(), true);
    assert.equal(existsSync(marker), false, 'asking wrote the in-flight marker');
    assert.equal(await lock.commitToGrant(), true);
    assert.equal(existsSync(marker), true, 'waiters are not told that a grant may be in flight');
    await lock.release();
    assert.equal(existsSync(marker), false, 'the released lock left its marker behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A store holding a login whose access token has expired, and deps whose grants are counted. */
async function expiredLogin(locks: Locks, grants: string[]) {
  const store = new MemoryStore();
  const clock = fakeClock();
  const login: LoginRecord = { v: 1, refresh_token: 'rt-1', scope: 'openid', obtained_at: clock.now() - HOUR };
  await store.set(LOGIN, JSON.stringify(login));
  const deps = fakeTokenDeps(store, clock, locks, async (_account, refreshToken) => {
    grants.push(refreshToken);
    // The server's answer takes a while: the other process is queued on the lock meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const n = grants.length + 1;
    return { access_token: `at-${n}`, token_type: 'Bearer', refresh_token: `rt-${n}`, expires_at: clock.now() + HOUR };
  });
  return { store, clock, deps };
}

const request = { provider: PROVIDER, account: 'default', minValid: 60 };

test('two refreshes at once on the real lock files: one grant, and both hand out its token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-locks-'));
  try {
    const grants: string[] = [];
    const { store, deps } = await expiredLogin(
      fileLocks(dir, () => {}),
      grants,
    );
    const [a, b] = await Promise.all([getAccessToken(request, deps), getAccessToken(request, deps)]);
    assert.deepEqual(grants, ['rt-1'], 'the rotated refresh token is never spent twice');
    assert.equal(a.access_token, 'at-2');
    assert.equal(b.access_token, 'at-2');
    assert.equal((JSON.parse((await store.get(LOGIN))!) as LoginRecord).refresh_token, 'rt-2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token another process stored while this one waited for the lock is read under the lock: no grant', async () => {
  const grants: string[] = [];
  const world = await expiredLogin(
    {
      // Another process held the lock and refreshed; it releases the lock as this one gets it.
      acquire: async (name) => {
        const fresh: AccessRecord = {
          v: 1,
          access_token: 'at-other',
          token_type: 'Bearer',
          expires_at: world.clock.now() + HOUR,
          issued_at: world.clock.now(),
          scope: 'openid',
        };
        await world.store.set(accessKey('acme', 'default'), JSON.stringify(fresh));
        return fakeLocks().acquire(name);
      },
    },
    grants,
  );
  const record = await getAccessToken(request, world.deps);
  assert.equal(record.access_token, 'at-other');
  assert.deepEqual(grants, []);
});
