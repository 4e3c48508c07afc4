// A real MCP server on 127.0.0.1 built with the official SDK's Streamable HTTP server transport,
// protected as the MCP authorization spec asks: every request needs a JWT access token (RFC 9068)
// from the test authorization server, checked for signature (its JWKS), issuer, audience = this
// server's URL (RFC 8707) and expiry; otherwise 401 with WWW-Authenticate naming the RFC 9728
// protected resource metadata. It exposes one tool, `echo`.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';

export const MCP_PATH = '/mcp';
export const MCP_SCOPES = ['mcp:tools'];

/**
 * What the next `tools/call` gets instead of an answer: faults a well-behaved server would not
 * produce on its own (a 403 it would, for a token lacking a permission).
 */
export type McpFault = 'non-json' | 'forbidden' | 'cut' | 'empty-stream';

export interface McpTestServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp: also the resource (RFC 8707) tokens must name. */
  url: string;
  /** Accept tokens of this issuer from now on (the authorization server starts after this one: it needs the URL). */
  trust(issuer: string, options?: { metadataResource?: string }): void;
  /** Sessions created (initialize requests answered). */
  sessions: number;
  /** Tool calls answered. */
  calls: number;
  /** Requests refused with 401. */
  unauthorized: number;
  /** Distinct access tokens accepted. */
  tokens: Set<string>;
  failNextCall(fault: McpFault): void;
  close(): Promise<void>;
}

export async function startMcpServer(): Promise<McpTestServer> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}${MCP_PATH}`;
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource${MCP_PATH}`;
  let issuer: string | undefined;
  let metadataResource = url;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  let fault: McpFault | undefined;
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const state: McpTestServer = {
    url,
    trust(iss, options = {}) {
      issuer = iss;
      metadataResource = options.metadataResource ?? url;
      jwks = createRemoteJWKSet(new URL(`${iss}/jwks`));
    },
    sessions: 0,
    calls: 0,
    unauthorized: 0,
    tokens: new Set(),
    failNextCall: (f) => (fault = f),
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };

  function mcpServer(): McpServer {
    const mcp = new McpServer({ name: 'notes', version: '1.0.0' });
    mcp.registerTool(
      'echo',
      { description: 'echoes text, with the subject of the access token', inputSchema: { text: z.string() } },
      async ({ text }, extra) => {
        state.calls++;
        return { content: [{ type: 'text', text: `${text} (for ${String(extra.authInfo?.extra?.sub)})` }] };
      },
    );
    return mcp;
  }

  async function authorized(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
    const token = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !jwks || !issuer) return undefined;
    try {
      // jwtVerify checks exp (no clock tolerance), the signature against the JWKS, iss and aud.
      const { payload } = await jwtVerify(token, jwks, { issuer, audience: url, typ: 'at+jwt' });
      state.tokens.add(token);
      return { token, payload };
    } catch {
      return undefined;
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === new URL(metadataUrl).pathname) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          resource: metadataResource,
          authorization_servers: issuer ? [issuer] : [],
          scopes_supported: MCP_SCOPES,
          bearer_methods_supported: ['header'],
        }),
      );
      return;
    }
    if (path !== MCP_PATH) {
      res.writeHead(404).end();
      return;
    }
    const auth = await authorized(req);
    if (!auth) {
      state.unauthorized++;
      // RFC 6750 §3 and RFC 9728 §5.1.
      res.writeHead(401, {
        'www-authenticate': `Bearer error="invalid_token", resource_metadata="${metadataUrl}"`,
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const raw = req.method === 'POST' ? await readBody(req) : undefined;
    const body = raw === undefined ? undefined : (JSON.parse(raw) as unknown);
    if (fault && (body as { method?: string } | undefined)?.method === 'tools/call') {
      const f = fault;
      fault = undefined;
      if (f === 'non-json') res.writeHead(200, { 'content-type': 'application/json' }).end('<html>Bad gateway</html>');
      if (f === 'forbidden') res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
      if (f === 'empty-stream') res.writeHead(200, { 'content-type': 'text/event-stream' }).end();
      if (f === 'cut') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': starting\n\n', () => req.socket.destroy());
      }
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined || !isInitializeRequest(body)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          state.sessions++;
          transports.set(id, created);
        },
      });
      transport = created;
      await mcpServer().connect(created);
    }
    // The SDK hands req.auth to tools as extra.authInfo.
    const payload = auth.payload as { client_id?: string; scope?: string; exp?: number };
    (req as IncomingMessage & { auth?: unknown }).auth = {
      token: auth.token,
      clientId: String(payload.client_id),
      scopes: String(payload.scope ?? '').split(' '),
      expiresAt: payload.exp,
      extra: { sub: (auth.payload as { sub?: string }).sub },
    };
    await transport.handleRequest(req, res, body);
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  return state;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
