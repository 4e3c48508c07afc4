import type { RedisTarget } from './redis-url.js';

// The fleet copies' one question to Redis (fleet-cache.ts), asked over a bare socket: loading the
// Redis client would cost more than the rest of the cached-token path.

// RESP (the Redis protocol): a command is an array of bulk strings.
function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Parses one RESP value at `at`: [value, next offset], or undefined when more bytes are needed.
 * Errors come back as Error values. Only what the replies to AUTH, SELECT and MGET use.
 */
function parseReply(buf: Buffer, at: number): [unknown, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return undefined;
  const line = buf.toString('latin1', at + 1, eol);
  switch (buf[at]) {
    case 0x2b: // +
      return [line, eol + 2];
    case 0x2d: // -
      return [new Error(line), eol + 2];
    case 0x3a: // :
      return [Number(line), eol + 2];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (buf.length < eol + 2 + n + 2) return undefined;
      return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      const items: unknown[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, next);
        if (!item) return undefined;
        items.push(item[0]);
        next = item[1];
      }
      return [items, next];
    }
    default:
      return [new Error('unexpected reply'), buf.length];
  }
}

/** The replies to `commands`, sent at once on a fresh connection, within `timeoutMs`; undefined on any failure. */
export async function ask(
  target: RedisTarget,
  commands: string[][],
  timeoutMs: number,
): Promise<unknown[] | undefined> {
  const options = { host: target.host, port: target.port };
  const socket = target.tls
    ? (await import('node:tls')).connect({ ...options, servername: target.host })
    : (await import('node:net')).connect(options);
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (value: unknown[] | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(commands.map(encode).join('')));
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const replies: unknown[] = [];
      for (let at = 0; replies.length < commands.length;) {
        const reply = parseReply(buf, at);
        if (!reply) return;
        replies.push(reply[0]);
        at = reply[1];
      }
      done(replies.some((r) => r instanceof Error) ? undefined : replies);
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
  });
}
