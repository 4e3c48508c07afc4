import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { CallbackListener } from '../core/ports.js';
import { guardLoopback } from './peer-owner.js';

export interface ListenOptions {
  port: number;
  expectedState: string;
  debug: (message: string) => void;
}

const PAGE_STYLE = 'font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;line-height:1.5';

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="${PAGE_STYLE}"><h1>${title}</h1><p>${text}</p></body></html>`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    Connection: 'close',
  });
  res.end(body);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The RFC 8252 §7.3 loopback redirect listener, bound to 127.0.0.1 only (§8.3: not `localhost`,
 * which may resolve elsewhere). Only `GET /callback` with the expected `state` ends the wait; any
 * other request gets 404/400 and the login keeps waiting, so a stray or hostile request cannot end
 * a login, and an attacker's code cannot be injected (RFC 6749 §10.12). The Host header must name
 * the listener itself, which stops DNS-rebinding pages from talking to it. Connections from
 * another user's socket and relayed requests get 403 and change nothing (peer-owner.ts): another
 * user of the machine can neither deliver a code of hers nor learn the authorization URL.
 *
 * The browser is started on `launchUrl`, a path of 256 random bits that answers one GET with a 302
 * to the authorization URL: a browser's argv is readable by every user in /proc/PID/cmdline, and the
 * authorization URL there would let another user run the login as herself and have her code
 * delivered here (login CSRF with the real state).
 */
export async function listenForCallback(options: ListenOptions): Promise<CallbackListener> {
  let resolveCallback!: (url: URL) => void;
  const callback = new Promise<URL>((resolve) => (resolveCallback = resolve));
  let done = false;
  let port = 0;
  // The one-time launch path and where it leads; cleared once used.
  let launch: { path: string; target: string } | undefined;

  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req: IncomingMessage, res: ServerResponse) => {
    guard.refusal(req).then(
      (refused) => answer(req, res, refused),
      () => res.destroy(),
    );
  });
  const answer = (req: IncomingMessage, res: ServerResponse, refused: string | undefined): void => {
    if (refused) {
      options.debug(`listener: refused a request: ${refused}`);
      return page(res, 403, 'Forbidden', 'This address only serves the user who started the login.');
    }
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}`) {
      options.debug(`listener: refused a request for host ${JSON.stringify(host.slice(0, 100))}`);
      return page(res, 400, 'Bad request', 'This address only serves the vault login.');
    }
    if (done) return page(res, 410, 'Already done', 'This login has finished. You can close this tab.');
    const raw = req.url ?? '/';
    if (raw.length > 8192) return page(res, 414, 'Too long', 'Request URL too long.');
    let url: URL;
    try {
      url = new URL(raw, `http://127.0.0.1:${port}`);
    } catch {
      return page(res, 400, 'Bad request', 'Malformed request.');
    }
    if (req.method === 'GET' && launch && url.search === '' && sameSecret(url.pathname, launch.path)) {
      const { target } = launch;
      launch = undefined;
      options.debug('listener: sent the browser on to the authorization URL');
      res.writeHead(302, {
        Location: target,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        Connection: 'close',
      });
      res.end();
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      options.debug(`listener: 404 for ${req.method} ${url.pathname.slice(0, 100)}`);
      return page(res, 404, 'Not found', 'Nothing here.');
    }
    const state = url.searchParams.get('state');
    if (state === null || !sameSecret(state, options.expectedState)) {
      options.debug('listener: callback with a missing or wrong state ignored');
      return page(res, 400, 'Login not recognised', 'This callback does not belong to the login in progress.');
    }
    done = true;
    // The wait ends once the page is on its way: closing the listener earlier would cut it off.
    res.once('finish', () => resolveCallback(url));
    res.once('close', () => resolveCallback(url));
    if (url.searchParams.has('error')) {
      page(
        res,
        200,
        'Login not completed',
        'The provider reported an error. You can close this tab and check the terminal.',
      );
    } else {
      page(res, 200, 'Logged in', 'You can close this tab and return to the terminal.');
    }
  };
  const guard = guardLoopback(server, options.debug);
  // A request is answered once its connection's owner is known (a moment later): a client that
  // half-closes after sending its request must still get the answer, not a closed socket.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Slow or idle clients must not hold the listener (or the process) open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new VaultError(
            'failure',
            `port ${options.port} on 127.0.0.1 is already in use: choose another --port, or omit it to use any free port`,
          ),
        );
      } else if (error.code === 'EACCES') {
        reject(new VaultError('failure', `cannot listen on port ${options.port} on 127.0.0.1: permission denied`));
      } else {
        reject(new VaultError('failure', `cannot start the login listener: ${error.message}`));
      }
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  options.debug(`listener: waiting on 127.0.0.1:${port}`);

  return {
    port,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    callback,
    launchUrl(authorizationUrl) {
      launch = { path: `/${randomBytes(32).toString('base64url')}`, target: authorizationUrl };
      return `http://127.0.0.1:${port}${launch.path}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
