import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultError } from '../../core/errors.js';
import type { RefreshLock, StoreEntry } from '../../core/ports.js';

// Scripts run atomically on the server (Redis EVAL), so "check the owner, then act" cannot
// interleave with another client: the pattern of Redis's SET documentation ("Patterns").
// ACQUIRE answers the new generation, or minus the current holder's when the lease is taken.
const ACQUIRE =
  "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end " +
  "return -tonumber(redis.call('GET', KEYS[2]) or '0')";
const RENEW =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

// A waiter polls (try the lease, then `until`) with exponential backoff and jitter: the first
// polls come quickly for a short hold, and a storm of waiters settles at a few polls a second
// each, leaving the CPU to the holder, whose work is what they wait for. The cap bounds how late
// a waiter sees the holder's result.
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 250;

export interface LeaseOptions {
  name: string;
  /** Where, for messages: the store's display URL. */
  where: string;
  lockKey: string;
  fenceKey: string;
  leaseMs: number;
  /** The lease once the grant may be sent: long enough for the grant's retries and the rescue write. */
  criticalMs: number;
  waitMs: number;
  command(args: string[]): Promise<unknown>;
  /**
   * Commits `entries` unless a holder with a later generation already wrote the first one;
   * `critical` once the grant may have been sent, when the write must outlast a short outage:
   * then it is retried until `leaseEnds()` (ms since the epoch) at least.
   */
  fencedCommit(
    generation: number,
    entries: readonly StoreEntry[],
    critical: boolean,
    leaseEnds: () => number,
  ): Promise<boolean>;
  debug(message: string): void;
  /** Ends the wait early when true (see SecretStore.lock). */
  until?: () => Promise<boolean>;
}

/** What a wait ended by `until` resolves: a lock that holds nothing. */
function nothingHeld(): RefreshLock {
  return {
    release: async () => {},
    stillOurs: async () => false,
    commitToGrant: async () => false,
    commit: async () => false,
  };
}

/**
 * A lease shared by every machine of the fleet: `SET NX PX` with a random owner value, renewed
 * while the holder works, released by compare-and-delete. Each acquisition also draws the next
 * fencing generation, which the store checks when the holder writes a rotated refresh token:
 * a holder that was paused past its lease cannot overwrite what a later holder stored.
 */
export async function acquireLease(o: LeaseOptions): Promise<RefreshLock> {
  const owner = randomBytes(16).toString('hex');
  const started = Date.now();
  o.debug(`lock ${o.name}: acquiring lease in ${o.where}`);
  let generation = 0;
  let pause = FIRST_POLL_MS;
  let holder = 0;
  let waitingSince = started;
  // When the lease ends unless renewed: from when the last successful SET or PEXPIRE was sent.
  let endsAt = 0;
  for (;;) {
    const sent = Date.now();
    endsAt = sent + o.leaseMs;
    generation = Number(await o.command(['EVAL', ACQUIRE, '2', o.lockKey, o.fenceKey, owner, String(o.leaseMs)]));
    if (generation > 0) break;
    // The wait bounds one holder's work, not the queue's: when a holder fails (a starved machine's
    // timeouts) and the next one takes over, waiting on for its result is progress, not a hang.
    if (-generation !== holder) {
      holder = -generation;
      waitingSince = Date.now();
    }
    if (Date.now() - waitingSince > o.waitMs) {
      throw new VaultError(
        'temporary',
        `timed out after ${Math.round(o.waitMs / 1000)}s waiting for the lease ${o.name} in ${o.where}, held by another vault process`,
      );
    }
    if (await o.until?.()) {
      o.debug(`lock ${o.name}: the holder's result is in; not waiting for the lease`);
      return nothingHeld();
    }
    // "Equal jitter": between half the pause and all of it, so waiters that started together spread out.
    await sleep(pause / 2 + Math.random() * (pause / 2));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
  o.debug(`lock ${o.name}: lease acquired (generation ${generation}) after ${Date.now() - started}ms`);
  let lost = false;
  let critical = false;
  /** PEXPIRE of our own lease for `ms` from now; false when it is no longer ours. */
  const renew = async (ms: number) => {
    const sent = Date.now();
    const renewed = Number(await o.command(['EVAL', RENEW, '1', o.lockKey, owner, String(ms)])) !== 0;
    if (renewed) endsAt = Math.max(endsAt, sent + ms);
    return renewed;
  };
  // Renewed for as long as the holder works: before the grant, through the grant however long its
  // answer takes, and through the commit of what it returned. Once the grant may have been sent
  // (commitToGrant()) every renewal stretches the lease to criticalMs, so a holder starved of CPU
  // or cut off from Redis keeps the fleet out while it still has the rotated refresh token to store.
  const renewal = setInterval(
    () => {
      renew(critical ? o.criticalMs : o.leaseMs).then(
        (renewed) => {
          if (!renewed) lost = true;
        },
        // A renewal that fails (unreachable, timed out) is not a lost lease yet: the lease runs on
        // until endsAt, and past it the fence refuses this holder's writes once another wrote.
        () => {},
      );
    },
    Math.max(50, Math.floor(o.leaseMs / 3)),
  );
  // Renewal must not keep a finished process alive.
  renewal.unref();
  return {
    async release() {
      clearInterval(renewal);
      try {
        await o.command(['EVAL', RELEASE, '1', o.lockKey, owner]);
      } catch {
        // Unreachable: the lease expires by itself, and the error that matters is reported elsewhere.
      }
      o.debug(`lock ${o.name}: lease released`);
    },
    /** What the renewals found, without asking the server: a write's fence is what guards the store. */
    stillOurs: async () => !lost,
    /**
     * Asked right before the refresh grant. A holder that lost its lease starts over. One that
     * still has it keeps it for criticalMs from now on: a process starved of CPU (or paused) past
     * the short lease *after* this check would otherwise let another machine spend the same
     * refresh token, which no fencing at the store can undo — the provider is the one that acts
     * on it. A holder that dies in this phase costs the others criticalMs of waiting.
     */
    async commitToGrant() {
      if (!lost) lost = !(await renew(o.criticalMs));
      critical ||= !lost;
      return !lost;
    },
    commit: (entries: readonly StoreEntry[]) => o.fencedCommit(generation, entries, critical, () => endsAt),
  };
}
