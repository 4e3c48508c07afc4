// The token use case in-process: the memory store, a fake clock, fake locks and a scripted OAuth
// port. What it must guarantee: a fresh cached token costs no grant, an expired one costs exactly
// one, a rotated refresh token is committed together with (never after) the access token handed
// out, a refused refresh token means "log in again", and a lost lock writes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LoginRequiredError, RefreshRejectedError } from '../../../../src/core/errors.js';
import type { Provider } from '../../../../src/core/config/providers.js';
import type { TokenResult } from '../../../../src/core/token-set.js';
import { accessKey, loginKey, type AccessRecord, type LoginRecord } from '../../../../src/core/credentials.js';
import { getAccessToken, type TokenDeps } from '../../../../src/core/usecases/get-token.js';
import type { StoreEntry } from '../../../../src/core/ports.js';
import { MemoryStore, fakeClock, fakeLocks, fakeTokenDeps, type FakeClock } from '../../../support/fakes.js';

const PROVIDER: Provider = { name: 'acme', client_id: 'vault-public', issuer: 'https://issuer.test' };
const LOGIN = loginKey('acme', 'default');
const ACCESS = accessKey('acme', 'default');
const HOUR = 3_600_000;

/** A memory store that records every commit, and what it held when each one happened. */
class RecordingStore extends MemoryStore {
  readonly commits: StoreEntry[][] = [];
  override async commit(entries: readonly StoreEntry[]): Promise<void> {
    this.commits.push([...entries]);
    await super.commit(entries);
  }
}

interface World {
  store: RecordingStore;
  deps: TokenDeps;
  clock: FakeClock;
  grants: string[];
  /** Per acquisition of the refresh lock: whether it is still ours when asked. */
  lockStates: boolean[];
  acquired: number;
}

function world(answer: (refreshToken: string, now: number) => TokenResult): World {
  const store = new RecordingStore();
  const clock = fakeClock();
  const w: World = { store, clock, grants: [], lockStates: [], acquired: 0, deps: undefined as unknown as TokenDeps };
  const locks = fakeLocks({
    ours: (n) => {
      w.acquired = n + 1;
      return w.lockStates[n] ?? true;
    },
  });
  w.deps = fakeTokenDeps(store, clock, locks, async (_account, refreshToken) => {
    w.grants.push(refreshToken);
    return answer(refreshToken, clock.now());
  });
  return w;
}

async function seed(w: World, accessExpiresIn: number): Promise<void> {
  const login: LoginRecord = { v: 1, refresh_token: 'rt-1', scope: 'openid', obtained_at: w.clock.now() - HOUR };
  const access: AccessRecord = {
    v: 1,
    access_token: 'at-old',
    token_type: 'Bearer',
    expires_at: w.clock.now() + accessExpiresIn,
    issued_at: w.clock.now() - HOUR,
    scope: 'openid',
  };
  await w.store.set(LOGIN, JSON.stringify(login));
  await w.store.set(ACCESS, JSON.stringify(access));
  w.store.commits.length = 0;
}

const request = { provider: PROVIDER, account: 'default', minValid: 60 };

/** A rotating server: each grant answers a new access token and a new refresh token. */
function rotating(): (refreshToken: string, now: number) => TokenResult {
  let n = 1;
  return (_refreshToken, now) => ({
    access_token: `at-${++n}`,
    token_type: 'Bearer',
    refresh_token: `rt-${n}`,
    expires_at: now + HOUR,
    scope: 'openid',
  });
}

async function stored<T>(w: World, key: string): Promise<T> {
  return JSON.parse((await w.store.get(key))!) as T;
}

describe('getAccessToken', () => {
  test('a fresh cached token is handed out without a lock or a grant', async () => {
    const w = world(() => assert.fail('no grant expected'));
    await seed(w, HOUR);
    const record = await getAccessToken(request, w.deps);
    assert.equal(record.access_token, 'at-old');
    assert.equal(w.acquired, 0);
    assert.deepEqual(w.store.commits, []);
  });

  test('an expired token costs one grant with the stored refresh token', async () => {
    const w = world((rt, now) => ({ access_token: `new-for-${rt}`, token_type: 'Bearer', expires_at: now + HOUR }));
    await seed(w, 30_000);
    const record = await getAccessToken(request, w.deps);
    assert.equal(record.access_token, 'new-for-rt-1');
    assert.deepEqual(w.grants, ['rt-1']);
    assert.equal((await stored<AccessRecord>(w, ACCESS)).access_token, 'new-for-rt-1');
    // Within its validity the next call is answered from the store.
    w.clock.advance(60_000);
    assert.equal((await getAccessToken(request, w.deps)).access_token, 'new-for-rt-1');
    assert.deepEqual(w.grants, ['rt-1']);
  });

  test('a rotated refresh token is committed with the access token, before it is handed out', async () => {
    const w = world(rotating());
    await seed(w, -1);
    const record = await getAccessToken(request, w.deps);
    const last = w.store.commits.at(-1)!;
    assert.deepEqual(
      last.map((e) => e.key),
      [LOGIN, ACCESS],
      'one commit: the rotated login first, then the access token',
    );
    assert.equal((JSON.parse(last[0]!.value!) as LoginRecord).refresh_token, 'rt-2');
    assert.equal((JSON.parse(last[1]!.value!) as AccessRecord).access_token, record.access_token);
    const login = await stored<LoginRecord>(w, LOGIN);
    assert.equal(login.refresh_token, 'rt-2');
    assert.equal(login.rotated, true);
  });

  test('a refused refresh token means logging in again, and the login is marked rejected', async () => {
    const w = world(() => {
      throw new RefreshRejectedError('acme rejected the refresh token');
    });
    await seed(w, -1);
    await assert.rejects(getAccessToken(request, w.deps), LoginRequiredError);
    const login = await stored<LoginRecord>(w, LOGIN);
    assert.equal(login.refresh_token, 'rt-1');
    assert.equal(login.rejected_at, w.clock.now());
    assert.equal((await stored<AccessRecord>(w, ACCESS)).access_token, 'at-old');
  });

  test('a lock lost before the grant writes nothing and spends nothing; the next holder refreshes once', async () => {
    const w = world(rotating());
    await seed(w, -1);
    w.lockStates = [false, true];
    let writesInFirstHold: number | undefined;
    const acquire = w.deps.locks.acquire;
    w.deps.locks = {
      acquire: async (name) => {
        if (w.acquired === 1) writesInFirstHold = w.store.commits.length;
        return acquire(name);
      },
    };
    const record = await getAccessToken(request, w.deps);
    assert.equal(w.acquired, 2, 'started over under a new lock');
    assert.equal(writesInFirstHold, 0, 'nothing was written while the lost lock was held');
    assert.deepEqual(w.grants, ['rt-1'], 'one grant, under the second lock');
    assert.equal(record.access_token, 'at-2');
    assert.equal((await stored<LoginRecord>(w, LOGIN)).refresh_token, 'rt-2');
  });

  test('no login: login required, nothing written', async () => {
    const w = world(() => assert.fail('no grant expected'));
    await assert.rejects(getAccessToken(request, w.deps), /not logged in to acme — run `vault login acme`/);
    assert.deepEqual(w.store.commits, []);
  });
});
