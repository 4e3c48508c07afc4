import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// An expiry storm (dozens of `vault token` started together after the token expired) used to
// start the full CLI in every process, and the start-ups, not the one refresh, were most of its
// cost. On the cached-token path the first process to find the token stale leaves an intent file
// beside the refresh lock and goes on to the full CLI, which refreshes under the real lock; the
// others wait here, without loading anything, until the token is fresh (then they answer it) or
// nobody is at work on it any more (then they go to the full CLI as before). The intent only
// delays: single flight is the refresh lock's, whatever happens to the intent.

/** How long an intent keeps others waiting at most: a start-up and a refresh, on a starved machine. */
const INTENT_MS = 30_000;
/** proper-lockfile refreshes its lock directory's mtime every STALE_MS / 2 (lock.ts: 5 s). */
const LOCK_FRESH_MS = 10_000;
/** Every wait has a bound: that of a grant's answer (max(VAULT_HTTP_TIMEOUT, 60 s)) and some. */
const MAX_WAIT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a live process said, less than INTENT_MS ago, that it is going to refresh. */
function intentHeld(file: string, now: number): boolean {
  try {
    const [pid, at] = readFileSync(file, 'utf8').split(' ').map(Number);
    return now - at! < INTENT_MS && alive(pid!);
  } catch {
    return false;
  }
}

/** Whether the refresh lock (a proper-lockfile directory) is held by a holder that keeps it fresh. */
function lockHeld(dir: string, now: number): boolean {
  try {
    return now - statSync(dir).mtimeMs < LOCK_FRESH_MS;
  } catch {
    return false;
  }
}

/** Leaves the intent: 'won', 'lost' (another process's is there) or 'none' (no lock directory yet). */
function claim(intent: string, now: number): 'won' | 'lost' | 'none' {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(intent, `${process.pid} ${now}`, { flag: 'wx', mode: 0o600 });
      return 'won';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') return 'none';
      if (intentHeld(intent, now)) return 'lost';
      // A dead or timed-out process's intent.
      rmSync(intent, { force: true });
    }
  }
  return 'lost';
}

/**
 * For a cached-token call that found the token of lock `name` stale: true when this process is
 * the one to refresh (it leaves an intent, removed when it exits, and should go to the full CLI),
 * else waits while another process is at it, asking `fresh()` as it goes, and resolves false once
 * the token is fresh (true again if nobody is at work on it any more). `lockDir` is the directory
 * of the refresh locks (paths.ts: lockDir).
 */
export async function refreshOrWait(lockDir: string, name: string, fresh: () => Promise<boolean>): Promise<boolean> {
  const intent = join(lockDir, `${name}.intent`);
  const lock = join(lockDir, `${name}.lock`);
  const started = Date.now();
  let pause = 20;
  for (;;) {
    const now = Date.now();
    if (!intentHeld(intent, now) && !lockHeld(lock, now)) {
      const claimed = claim(intent, now);
      if (claimed === 'none') return true;
      if (claimed === 'won') {
        process.once('exit', () => {
          try {
            if (readFileSync(intent, 'utf8').startsWith(`${process.pid} `)) rmSync(intent, { force: true });
          } catch {
            // Gone already.
          }
        });
        return true;
      }
    }
    if (now - started > MAX_WAIT_MS) return true;
    await new Promise((resolve) => setTimeout(resolve, pause / 2 + Math.random() * (pause / 2)));
    pause = Math.min(pause * 2, 200);
    if (await fresh()) return false;
  }
}
