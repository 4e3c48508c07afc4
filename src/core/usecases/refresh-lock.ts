import type { Lock, Locks, RefreshLock, SecretStore } from '../ports.js';

/** What taking a refresh lock needs: the store (which may have its own lock) and the lock files. */
export interface RefreshLockDeps {
  store: SecretStore;
  locks: Locks;
}

/**
 * The refresh lock's name for (provider, account). Provider names have no '.', so the first '.'
 * splits any name back into one pair; vault's other locks (`config`, `file-store`) have no '.'.
 */
export function lockName(provider: string, account: string): string {
  return `${provider}.${account}`;
}

/**
 * The refresh lock of (provider, account): the store's own lock when it has one (a store shared
 * across machines), else the per-user lock file beside the store. Whoever changes a login or its
 * cached access tokens takes it, so no refresh rotates the token in between.
 */
export async function refreshLock(
  deps: RefreshLockDeps,
  provider: string,
  account: string,
  until?: () => Promise<boolean>,
): Promise<RefreshLock> {
  const name = lockName(provider, account);
  return deps.store.lock ? deps.store.lock(name, { until }) : unfenced(await deps.locks.acquire(name), deps.store);
}

/**
 * A lock file as a refresh lock. It has no fence: its commit is the store's own write, which is
 * why a holder checks `stillOurs` before writing back what it read (see proveWritable).
 */
function unfenced(lock: Lock, store: SecretStore): RefreshLock {
  return {
    release: () => lock.release(),
    stillOurs: () => lock.stillOurs(),
    commitToGrant: () => lock.commitToGrant(),
    async commit(entries) {
      await store.commit(entries);
      return true;
    },
  };
}

/** Runs `fn` under the refresh lock of (provider, account), released however `fn` ends. */
export async function withRefreshLock<T>(
  deps: RefreshLockDeps,
  provider: string,
  account: string,
  fn: (lock: RefreshLock) => Promise<T>,
): Promise<T> {
  const lock = await refreshLock(deps, provider, account);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/**
 * Proves, before a refresh grant, that the store takes a write: a rotating server spends the stored
 * refresh token the moment it answers (RFC 9700 §4.14.2), so a store fault (disk full, read-only,
 * quota) must cost this call and not the login. `login` is the record as stored (`key`), written
 * back where the store has no cheaper proof. With `stored` false (a CI refresh token, which is not
 * in the store) a written probe is taken back at once. False: the lock was lost, or a later holder
 * of the lock wrote the login.
 */
export async function proveWritable(
  store: SecretStore,
  lock: RefreshLock,
  key: string,
  login: string,
  stored: boolean,
): Promise<boolean> {
  // A holder that lost the lock while paused must not write back a refresh token that a later
  // holder may have rotated since (a lock file has no fence to refuse it).
  if (stored && !(await lock.stillOurs())) return false;
  if (store.probe) {
    await store.probe();
    return true;
  }
  if (!(await lock.commit([{ key, value: login }]))) return false;
  if (!stored) await store.delete(key);
  return true;
}
