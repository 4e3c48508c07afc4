import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultError } from '../core/errors.js';
import type { MetadataEndpoint } from '../core/usecases/metadata-endpoint.js';
import { guardLoopback, type LoopbackGuard } from './peer-owner.js';
import { FLAVOR, refusal, route, tokenBody } from '../core/protocols/gce-metadata.js';

export interface MetadataServer {
  /** `127.0.0.1:PORT`: what clients are given, and the only Host accepted. */
  host: string;
  /** Stops listening and waits for answers in progress (a refresh among them) to be sent. */
  close(): Promise<void>;
}

type Answer = (req: IncomingMessage, res: ServerResponse, host: string, guard: LoopbackGuard) => Promise<void>;

/**
 * Listens on 127.0.0.1 only (`port` 0: any free port) for a metadata protocol, to the user's own
 * processes only: `answer` asks the guard first, which refuses another user's connection and a
 * relayed request (peer-owner.ts).
 */
export async function startLoopbackServer(
  answer: Answer,
  port = 0,
  debug: (message: string) => void = () => {},
): Promise<MetadataServer> {
  let host = '';
  const pending = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const work = answer(req, res, host, guard).catch(() => {
      res.destroy();
    });
    pending.add(work);
    void work.finally(() => pending.delete(work));
  });
  const guard = guardLoopback(server, debug);
  // A metadata client asks once in a while; nothing here needs a connection kept open.
  server.keepAliveTimeout = 1000;
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'it is already in use: choose another --port, or omit it to use any free port'
          : error.message;
      reject(new VaultError('failure', `cannot listen on port ${port} on 127.0.0.1: ${why}`));
    });
    server.once('listening', resolve);
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    async close() {
      const closed = once(server, 'close');
      server.close();
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Serves the GCE metadata protocol for `source` (see startLoopbackServer). */
export function startMetadataServer(
  source: MetadataEndpoint,
  port = 0,
  debug: (message: string) => void = () => {},
  now: () => number = Date.now,
): Promise<MetadataServer> {
  return startLoopbackServer((req, res, host, guard) => answer(req, res, host, source, guard, now), port, debug);
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  host: string,
  source: MetadataEndpoint,
  guard: LoopbackGuard,
  now: () => number,
): Promise<void> {
  // GCE marks every answer, refusals included; clients check it to know they reached a metadata server.
  res.setHeader('Metadata-Flavor', FLAVOR);
  res.setHeader('cache-control', 'no-store');
  const refused = await guard.refusal(req);
  // The reason helps the user's own tools (a proxy in the way); it tells another user nothing new.
  if (refused) return send(res, 403, `refused: ${refused}; this endpoint serves only the user who started it\n`);
  const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
  const why = refusal(request, host);
  if (why) return send(res, 403, `${why}\n`);
  const result = route(request, await source.identity());
  if (result.kind === 'reply') return send(res, result.status, result.body, result.json);
  let token;
  try {
    token = await source.token(result.scopes);
  } catch (error) {
    source.report(
      `metadata endpoint: no token for ${new URL(request.url, 'http://metadata.invalid').pathname}: ${(error as Error).message}`,
    );
    return send(res, 503, 'token unavailable; see the stderr of vault\n');
  }
  const expiresIn = Math.max(0, Math.floor((token.expiresAt - now()) / 1000));
  send(res, 200, tokenBody(token.accessToken, expiresIn), true);
}

function send(res: ServerResponse, status: number, body: string, json = false): void {
  // google-auth (Python, gcloud) parses a body as JSON only when it is labelled application/json.
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'application/text',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
