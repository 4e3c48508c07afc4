// A fault-injecting HTTP proxy on 127.0.0.1 in front of the real test authorization server. It
// produces what the real server cannot: gateway errors, dropped connections, silence, broken
// bodies, and requests or responses held in flight so a test can kill the client at that moment.
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /**
   * Answer with this status, headers and body; the server never sees the request, unless
   * `forwarded`: then the server gets it first and its answer is dropped (a gateway that timed out
   * or failed after the server processed the request).
   */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; forwarded?: boolean }
  /** Drop the connection as soon as the request arrives (socket.destroy()). */
  | { kind: 'reset' }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Promise `length` bytes of JSON, send `body` (fewer), then drop the connection. */
  | { kind: 'cut'; length: number; body: string }
  /** Hold the request without forwarding it until release(). */
  | { kind: 'hold-request' }
  /** Forward the request, then hold the server's answer until release(). */
  | { kind: 'hold-response' }
  /** Forward the request, then change the server's JSON answer before it goes back. */
  | { kind: 'rewrite'; change: (body: Record<string, unknown>) => void }
  /** Forward the request, then send the server's answer `ms` later. */
  | { kind: 'delay-response'; ms: number }
  /** Forward the request, then send the server's status, headers and half its body, and drop the connection. */
  | { kind: 'cut-answer' }
  /** Answer with this status and a body that never ends, until the client hangs up. */
  | { kind: 'flood'; status: number };

export interface Attempt {
  method: string;
  path: string;
  /** ms since the epoch, when the request arrived. */
  at: number;
  fault: Fault['kind'] | 'pass';
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:PORT: the same paths as the upstream server. */
  url: string;
  /**
   * Requests whose path is `path` (query ignored) get `fault`: every one until cleared, or only the
   * next `times` ones.
   */
  set(path: string, fault: Fault | undefined, times?: number): void;
  /** Every request the proxy saw, in order. */
  attempts: Attempt[];
  /**
   * Resolves when a hold-* or hang fault is holding something (for hold-response: after the server
   * answered); once resolved, until release().
   */
  held(): Promise<void>;
  /** Bytes of body sent by `flood` faults so far. */
  flooded(): number;
  /** Lets held requests and responses go on. */
  release(): void;
  /** Stops listening (connections to the proxy's port are refused) until accept(). */
  refuse(): Promise<void>;
  /** Listens again on the same port after refuse(). */
  accept(): Promise<void>;
  close(): Promise<void>;
}

/** `port`: 0 for a free one, or the port of a proxy closed before (a server back where it was). */
export async function startFaultProxy(upstream: string, port = 0): Promise<FaultProxy> {
  const target = new URL(upstream);
  const faults = new Map<string, Fault>();
  const remaining = new Map<string, number>();
  const attempts: Attempt[] = [];
  const sockets = new Set<Socket>();
  let flooded = 0;
  let releaseHeld: () => void = () => {};
  let released = new Promise<void>((resolve) => (releaseHeld = resolve));
  let markHeld: () => void = () => {};
  let heldNow = new Promise<void>((resolve) => (markHeld = resolve));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const fault = faults.get(path);
    const left = remaining.get(path);
    if (left !== undefined) {
      if (left <= 1) faults.delete(path);
      remaining.set(path, left - 1);
    }
    attempts.push({ method: req.method ?? 'GET', path, at: Date.now(), fault: fault?.kind ?? 'pass' });
    const body = await readBody(req);
    switch (fault?.kind) {
      case 'status':
        if (fault.forwarded) break;
        res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers });
        res.end(fault.body ?? '');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        markHeld();
        return;
      case 'cut':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(fault.length) });
        res.write(fault.body, () => res.socket?.destroy());
        return;
      case 'flood': {
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) flooded += chunk.length;
          if (!res.destroyed) res.once('drain', () => ((flooded += chunk.length), pump()));
        };
        res.write('{"access_token":"');
        pump();
        return;
      }
      case 'hold-request':
        markHeld();
        await released;
        // A client that died while its request was held never got it to the server.
        if (req.socket.destroyed) return;
        break;
      case 'hold-response':
      case 'rewrite':
      case 'delay-response':
      case 'cut-answer':
      case undefined:
        break;
    }
    const answer = await forward(target, req, body);
    if (fault?.kind === 'status') {
      // `forwarded`: the server has processed the request; the client gets the gateway's error instead.
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers });
      res.end(fault.body ?? '');
      return;
    }
    if (fault?.kind === 'cut-answer') {
      res.writeHead(answer.status, answer.headers);
      res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)), () => res.socket?.destroy());
      return;
    }
    if (fault?.kind === 'delay-response') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'rewrite') {
      const json = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
      fault.change(json);
      answer.body = Buffer.from(JSON.stringify(json));
      answer.headers['content-length'] = String(answer.body.length);
    }
    if (fault?.kind === 'hold-response') {
      markHeld();
      await released;
    }
    if (res.destroyed || res.socket?.destroyed) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${bound}`,
    set(path, fault, times) {
      if (fault) faults.set(path, fault);
      else faults.delete(path);
      if (fault && times !== undefined) remaining.set(path, times);
      else remaining.delete(path);
    },
    attempts,
    flooded: () => flooded,
    held: () => heldNow,
    release() {
      releaseHeld();
      released = new Promise<void>((resolve) => (releaseHeld = resolve));
      heldNow = new Promise<void>((resolve) => (markHeld = resolve));
    },
    async refuse() {
      const closed = once(server, 'close');
      server.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
    async accept() {
      server.listen(bound, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      releaseHeld();
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers.connection;
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        readBody(answer).then((b) => {
          const h: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer.headers)) {
            if (v !== undefined && k !== 'connection' && k !== 'transfer-encoding' && k !== 'keep-alive') h[k] = v;
          }
          h['content-length'] = String(b.length);
          resolve({ status: answer.statusCode ?? 502, headers: h, body: b });
        }, reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}
