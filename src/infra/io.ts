import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';

/** The process's streams, swappable in tests. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
}

export interface Clock {
  now(): number;
}

/** Everything a command may touch outside itself; built once in main.ts. */
export interface Deps {
  io: Io;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  debug: (message: string) => void;
}

/**
 * The process's streams. Node builds each stream object on first use, which costs start-up time
 * (stdin's most): they are touched only when a command reads or writes them.
 */
export function processIo(): Io {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    stdinIsTTY: isatty(0),
    stderrIsTTY: isatty(2),
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

export function writeLine(stream: Writable, line: string): void {
  stream.write(line.endsWith('\n') ? line : `${line}\n`);
}
