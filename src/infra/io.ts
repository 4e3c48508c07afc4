import type { Readable, Writable } from 'node:stream';

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

export function processIo(): Io {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
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
