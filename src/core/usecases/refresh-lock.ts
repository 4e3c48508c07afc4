import type { Locks, Release, SecretStore, StoreEntry } from '../../ports.js';

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
export function refreshLock(
  deps: RefreshLockDeps,
  provider: string,
  account: string,
  until?: () => Promise<boolean>,
): Promise<Release> {
  const name = lockName(provider, account);
  return deps.store.lock ? deps.store.lock(name, { until }) : deps.locks.acquire(name);
}

/** Runs `fn` under the refresh lock of (provider, account), released however `fn` ends. */
export async function withRefreshLock<T>(
  deps: RefreshLockDeps,
  provider: string,
  account: string,
  fn: (lock: Release) => Promise<T>,
): Promise<T> {
  const release = await refreshLock(deps, provider, account);
  try {
    return await fn(release);
  } finally {
    await release();
  }
}

/**
 * Commits `entries`, the first being a login record, under its refresh lock: fenced when the lock
 * offers it, so a holder that lost the lock cannot overwrite what a later holder stored. False: a
 * later holder wrote first, and nothing was written.
 */
export async function commitUnderLock(
  store: SecretStore,
  lock: Release,
  entries: readonly StoreEntry[],
): Promise<boolean> {
  if (lock.fencedCommit) return lock.fencedCommit(entries);
  await store.commit(entries);
  return true;
}

/**
 * Proves, before a refresh grant, that the store takes a write: a rotating server spends the stored
 * refresh token the moment it answers (RFC 9700 §4.14.2), so a store fault (disk full, read-only,
 * quota) must cost this call and not the login. `login` is the record as stored (`key`), written
 * back where the store has no cheaper proof. With `stored` false (a CI refresh token, which is not
 * in the store) a written probe is taken back at once. False: a later holder of the lock wrote it.
 */
export async function proveWritable(
  store: SecretStore,
  lock: Release,
  key: string,
  login: string,
  stored: boolean,
): Promise<boolean> {
  // A lock file has no fence: a holder that lost it while paused must not write back a refresh
  // token that a later holder may have rotated since.
  if (stored && lock.stillHeld && !lock.stillHeld()) return false;
  if (!lock.fencedCommit && store.probe) {
    await store.probe();
    return true;
  }
  if (!(await commitUnderLock(store, lock, [{ key, value: login }]))) return false;
  if (!stored) await store.delete(key);
  return true;
}
