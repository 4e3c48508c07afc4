// A smart-HTTP git server for tests: git's own `git http-backend` (CGI) behind a Node http
// server on 127.0.0.1, accepting only Basic auth whose password passes `authorize` (for the
// integration tests: an access token the authorization server reports active).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitServerOptions {
  /** Directory holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** Whether (username, password) may use the server. */
  authorize(username: string, password: string): Promise<boolean>;
}

export interface GitRequestLog {
  method: string;
  path: string;
  /** 401 when refused, else the status http-backend answered. */
  status: number;
  username?: string;
  /** The password presented (an access token); kept in memory for assertions, never printed. */
  password?: string;
}

export interface GitServer {
  /** e.g. 127.0.0.1:PORT, the git host for a provider. */
  host: string;
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  requests: GitRequestLog[];
  close(): Promise<void>;
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Runs http-backend for one request (RFC 3875 CGI) and relays its answer. */
function runBackend(root: string, req: IncomingMessage, res: ServerResponse, username: string): Promise<number> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: '127.0.0.1',
    // http-backend enables receive-pack (push) only for an authenticated REMOTE_USER.
    REMOTE_USER: username,
  };
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    const onData = (chunk: Buffer) => {
      if (status) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    };
    child.stdout.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (!status) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited ${code}: ${stderr}`);
        resolve(500);
        return;
      }
      res.end();
      resolve(status);
    });
  });
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const requests: GitRequestLog[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const credentials = basicCredentials(req.headers.authorization);
    const entry: GitRequestLog = { method: req.method ?? 'GET', path, status: 0, ...credentials };
    requests.push(entry);
    void (async () => {
      if (!credentials || !(await options.authorize(credentials.username, credentials.password))) {
        entry.status = 401;
        req.resume();
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="vault test git"', 'Content-Type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
      entry.status = await runBackend(options.root, req, res, credentials.username);
    })().catch((error: unknown) => {
      entry.status = 500;
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
