// In-process stand-ins for the ports, for unit tests that run core and cli code without spawning
// vault: the real memory store, a clock that moves only when told, and streams that capture what
// a command writes.
import assert from 'node:assert/strict';
import { PassThrough, Writable, type Readable } from 'node:stream';

import { MemoryStore } from '../../src/infra/stores/memory-store.js';
import type { TokenDeps } from '../../src/core/usecases/get-token.js';
import type { Clock, Deps, Io, Locks, OAuthClient, SecretStore } from '../../src/core/ports.js';

export { MemoryStore };

/** A memory store holding `entries` (key → stored value) from the start. */
export async function memoryStore(entries: Record<string, string> = {}): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const [key, value] of Object.entries(entries)) await store.set(key, value);
  return store;
}

export interface FakeClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Puts the clock at `ms` since the epoch. */
  set(ms: number): void;
}

/** A clock that stands still at `start` (ms since the epoch) until the test moves it. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => void (now += ms),
    set: (ms) => void (now = ms),
  };
}

/** The real clock, for in-process tests that talk to real servers issuing real expiry times. */
export const systemClock: Clock = { now: () => Date.now() };

export interface FakeIoOptions {
  /** What stdin holds; it ends after it. Default: an empty stdin that is already at its end. */
  input?: string | Readable;
  stdinIsTTY?: boolean;
  stderrIsTTY?: boolean;
}

export interface FakeIo {
  io: Io;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** A sink that records each write as it happens (no stream buffering between write and read). */
function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  let stdin: Readable;
  if (typeof options.input === 'string' || options.input === undefined) {
    const pass = new PassThrough();
    pass.end(options.input ?? '');
    stdin = pass;
  } else {
    stdin = options.input;
  }
  const stdout = capture();
  const stderr = capture();
  return {
    io: {
      stdin,
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdinIsTTY: options.stdinIsTTY ?? false,
      stderrIsTTY: options.stderrIsTTY ?? false,
    },
    stdout: stdout.text,
    stderr: stderr.text,
  };
}

export interface FakeDepsOptions extends FakeIoOptions {
  /** The process environment the code sees; nothing of the test's own is inherited. */
  env?: NodeJS.ProcessEnv;
  /** Default: a fake clock at its default start. */
  clock?: Clock;
}

export interface FakeDeps extends FakeIo {
  deps: Deps;
  /** The `--debug` lines the code emitted. */
  debugLines: string[];
}

/** Deps for running a command or use case in-process, with captured output. */
export function fakeDeps(options: FakeDepsOptions = {}): FakeDeps {
  const io = fakeIo(options);
  const debugLines: string[] = [];
  const deps: Deps = {
    io: io.io,
    env: options.env ?? {},
    clock: options.clock ?? fakeClock(),
    debug: (message) => void debugLines.push(message),
  };
  return { ...io, deps, debugLines };
}

/**
 * Named locks held in-process, as the lock files hold them: `taken` lists each name as it is taken
 * and `released <name>` as it is released; `ours(n)` tells whether the n-th lock taken (from 0) is
 * still this holder's when asked (default: always).
 */
export function fakeLocks(options: { taken?: string[]; ours?: (n: number) => boolean } = {}): Locks {
  let acquired = 0;
  return {
    acquire: async (name) => {
      const ours = options.ours?.(acquired++) ?? true;
      options.taken?.push(name);
      return {
        release: async () => void options.taken?.push(`released ${name}`),
        stillOurs: async () => ours,
        commitToGrant: async () => ours,
      };
    },
  };
}

/**
 * The token use case's deps around `store`: every refresh grant is answered by `refresh` (the
 * OAuth client does nothing else), signals are not held, nothing is logged.
 */
export function fakeTokenDeps(
  store: SecretStore,
  clock: Clock,
  locks: Locks,
  refresh: OAuthClient['refresh'],
): TokenDeps {
  return {
    store,
    locks,
    oauth: {
      client: async () => ({
        revocationEndpoint: undefined,
        refresh,
        revoke: async () => {},
        exchange: async () => assert.fail('no token exchange is configured here'),
      }),
    },
    signals: { hold: (_done, fn) => fn() },
    env: {},
    clock,
    debug: () => {},
    warn: () => {},
  };
}
