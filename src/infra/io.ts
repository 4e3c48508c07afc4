import { readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Io } from '../core/ports.js';
import { createRequire } from 'node:module';

// node:tty and node:stream load the stream machinery, milliseconds of start-up that a cached token
// answered from a file descriptor never needs: they are required when first used.
function isatty(fd: number): boolean {
  return (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(fd);
}

function streams(): typeof import('node:stream') {
  return createRequire(import.meta.url)('node:stream') as typeof import('node:stream');
}

/**
 * The process's streams. Node builds each stream object on first use, which costs start-up time:
 * they are touched only when a command reads or writes them. `consumed`: what the cached-token
 * path already read from stdin before it handed over (see ProcessReads): stdin starts with it.
 */
export function processIo(consumed?: { bytes: Buffer; ended: boolean }): Io {
  let stdin: Readable | undefined;
  return {
    get stdin() {
      if (!consumed) return process.stdin;
      return (stdin ??= streams().Readable.from(
        (async function* () {
          if (consumed.bytes.length) yield consumed.bytes;
          if (!consumed.ended) yield* process.stdin;
        })(),
        { objectMode: false },
      ));
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdinIsTTY() {
      return isatty(0);
    },
    get stderrIsTTY() {
      return isatty(2);
    },
  };
}

/**
 * `--quiet`: stderr carries errors only. Every error goes out as a write that starts with
 * `error:` (coloured or not); warnings, notes and progress are dropped.
 */
export function quietIo(io: Io): Io {
  const errorsOnly = new (streams().Writable)({
    write(chunk: Buffer | string, _encoding, done) {
      const text = String(chunk);
      if (/^(\x1b\[[\d;]*m)?error:/.test(text)) io.stderr.write(text, () => done());
      else done();
    },
  });
  return {
    get stdin() {
      return io.stdin;
    },
    get stdout() {
      return io.stdout;
    },
    stderr: errorsOnly,
    get stdinIsTTY() {
      return io.stdinIsTTY;
    },
    stderrIsTTY: false,
  };
}

/** Reads all of stdin (for `--client-secret-stdin`), bounded so a runaway pipe can't eat memory. */
export async function readStdin(stdin: Readable, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw new Error(`standard input is larger than ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads what is there of `fd` into `buffer` (0 at end of input) without a stream object, waiting
 * on a descriptor someone left non-blocking as writeAllSync does.
 */
export function readSomeSync(fd: number, buffer: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/**
 * Writes all of `text` to a file descriptor without creating a stream object (process.stdout on a
 * pipe loads net and the stream machinery: milliseconds of start-up). Short writes are continued;
 * a descriptor someone left non-blocking (EAGAIN) is waited on, as Node's own stdio does on pipes.
 */
export function writeAllSync(fd: number, text: string): void {
  const data = Buffer.from(text, 'utf8');
  for (let done = 0; done < data.length;) {
    try {
      done += writeSync(fd, data, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
