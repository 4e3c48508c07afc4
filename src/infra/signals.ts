import { VaultError, type ErrorKind } from '../core/errors.js';
import type { TerminationSignal } from '../core/ports.js';

// Each has its exit code (shell convention: 128 + the signal's number).
const HELD: Record<TerminationSignal, ErrorKind> = {
  SIGINT: 'interrupted',
  SIGTERM: 'terminated',
  SIGHUP: 'hangup',
};
type Held = keyof typeof HELD;

let depth = 0;
let received: Held | undefined;
let note: (signal: Held) => void = () => {};
const onSignal = (signal: Held) => {
  received ??= signal;
  note(signal);
};

/**
 * Runs `fn` as a critical section: SIGINT, SIGTERM and SIGHUP (Ctrl-C, `timeout`, CI cancellation,
 * a closed terminal) that arrive meanwhile are held until it ends, then honoured by throwing a
 * VaultError with the usual exit code (130, 143, 129) that says `done` happened first. With
 * rotation, a server spends the old refresh token the moment it answers (RFC 9700 §4.14.2): dying
 * between that answer and the store write would lose the login. The wait is bounded: a grant's
 * answer is awaited for max(VAULT_HTTP_TIMEOUT, 60 s) once its request is written (see makeFetch),
 * so a signal is honoured at most that long after it came. A failure of `fn` itself is reported as such: it says what became of the login.
 * Sections may nest; the outermost one honours the signal.
 */
export async function holdSignals<T>(done: string, fn: () => Promise<T>, debug: (message: string) => void): Promise<T> {
  if (depth++ === 0) {
    received = undefined;
    note = (signal) => debug(`signal: ${signal} held until ${done}`);
    for (const signal of Object.keys(HELD) as Held[]) process.on(signal, onSignal);
  }
  let result: T;
  try {
    result = await fn();
  } finally {
    if (--depth === 0) {
      for (const signal of Object.keys(HELD) as Held[]) process.off(signal, onSignal);
    }
  }
  if (depth === 0 && received) {
    throw new VaultError(HELD[received], `stopped by ${received} once ${done}`);
  }
  return result;
}

/** Calls `onSignal` on the first SIGINT, SIGTERM or SIGHUP; the returned function stops listening. */
export function watchSignals(onSignal: (signal: TerminationSignal) => void): () => void {
  const signals = Object.keys(HELD) as TerminationSignal[];
  const handlers = signals.map((signal) => {
    const handler = () => onSignal(signal);
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
