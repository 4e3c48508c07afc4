// `vault mcp-proxy`: the SDK's MCP Client over stdio, spawning vault, which relays to a real MCP
// server (the SDK's Streamable HTTP server transport) that checks every request's JWT access token
// from the real authorization server (oidc-provider with resource indicators).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { decodeJwt } from 'jose';

import { VAULT_BIN, killGroup, groupsKilledAfterEach, within } from '../../support/cli.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { startTinyproxy } from '../../support/tinyproxy.js';
import { MCP_SCOPES, startMcpServer, type McpFault, type McpTestServer } from '../../support/mcp-server.js';
import { startTestServer, type TestServer } from '../../support/oidc-server.js';
import { addProvider, expire, loggedIn, vaultSandbox, type Vault } from '../../support/vault-sandbox.js';

const BOUND_MS = 60_000;
let mcp: McpTestServer;
let server: TestServer;
before(async () => {
  mcp = await startMcpServer();
  server = await startTestServer({
    accessTokenTtl: 15,
    resource: { url: mcp.url, scopes: MCP_SCOPES },
    registration: true,
  });
  mcp.trust(server.issuer);
});
after(async () => {
  await mcp?.close();
  await server?.close();
});

const children = groupsKilledAfterEach();

function mcpLogin(): Promise<Vault> {
  return loggedIn(server, {
    provider: { scopes: ['openid', 'offline_access', ...MCP_SCOPES], extra: ['--param', `resource=${mcp.url}`] },
  });
}

interface Bridged {
  client: Client;
  stderr: () => string;
  close(): Promise<void>;
}

/**
 * The SDK's Client, connected through `vault mcp-proxy <provider> <url>` on stdio (`url: null`:
 * none given, the provider's mcp_url is used).
 */
async function bridged(
  v: Vault,
  {
    provider = 'acme',
    env = {},
    url = mcp.url,
  }: { provider?: string; env?: NodeJS.ProcessEnv; url?: string | null } = {},
): Promise<Bridged> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [VAULT_BIN, 'mcp-proxy', provider, ...(url === null ? [] : [url])],
    env: { ...v.env, ...env } as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  try {
    await within(BOUND_MS, 'the MCP client to connect through vault', client.connect(transport));
  } catch (error) {
    if (transport.pid) process.kill(transport.pid, 'SIGKILL');
    throw new Error(`${(error as Error).message}; vault's stderr: ${stderr}`);
  }
  const pid = transport.pid;
  return {
    client,
    stderr: () => stderr,
    async close() {
      await client.close().catch(() => {});
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // Exited already.
      }
    },
  };
}

async function echo(b: Bridged, text: string): Promise<string> {
  const result = await within(BOUND_MS, 'a tool call', b.client.callTool({ name: 'echo', arguments: { text } }));
  return (result.content as { type: string; text: string }[])[0]!.text;
}

/** Makes vault believe its cached token is good for an hour, then waits (bounded) until the server no longer accepts it. */
async function expireAtServerOnly(v: Vault): Promise<void> {
  const record = (await v.readAccess())!;
  await v.age(() => ({ expires_at: Date.now() + 3_600_000 }));
  const exp = decodeJwt(record.access_token).exp! * 1000;
  assert.ok(exp - Date.now() < 20_000, 'the access token is short-lived');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp - Date.now() + 1100)));
}

describe('vault mcp-proxy', () => {
  test('tools are listed and called; the session outlives access-token expiry, locally seen or refused by the server', async () => {
    const v = await mcpLogin();
    let b: Bridged | undefined;
    try {
      b = await bridged(v);
      const sessions = mcp.sessions;
      const tools = await b.client.listTools();
      assert.deepEqual(
        tools.tools.map((t) => t.name),
        ['echo'],
      );
      assert.equal(await echo(b, 'one'), 'one (for alice)');

      // Expired as vault sees it: the next request carries a refreshed token.
      const refreshes = server.counts.refresh;
      await expire(v);
      assert.equal(await echo(b, 'two'), 'two (for alice)');
      assert.equal(server.counts.refresh - refreshes, 1, 'one refresh grant');

      // Expired at the server while vault still thinks it fresh: 401, one refresh, the same request again.
      const refused = mcp.unauthorized;
      await expireAtServerOnly(v);
      assert.equal(await echo(b, 'three'), 'three (for alice)');
      assert.equal(mcp.unauthorized - refused, 1, 'the server refused the expired token once');
      assert.equal(server.counts.refresh - refreshes, 2, 'and one more refresh grant answered it');
      assert.equal(mcp.sessions, sessions, 'no new MCP session');
      assert.equal(server.counts.grantErrors, 0);
      assert.equal(b.stderr(), '', 'nothing on stderr');
    } finally {
      await b?.close();
      v.cleanup();
    }
  });

  test('20 bridged clients calling across an expiry: one refresh grant, nothing revoked, every call answered', async () => {
    const v = await mcpLogin();
    const bridges: Bridged[] = [];
    try {
      // In batches: twenty vault processes starting at once would only queue on the CPUs.
      for (let i = 0; i < 20; i += 5) {
        const batch = await Promise.allSettled([0, 1, 2, 3, 4].map(() => bridged(v)));
        for (const r of batch) if (r.status === 'fulfilled') bridges.push(r.value);
        for (const r of batch) if (r.status === 'rejected') throw r.reason;
      }
      const counts = { ...server.counts };
      const refused = mcp.unauthorized;
      await expireAtServerOnly(v);
      const answers = await Promise.all(bridges.map((b, i) => echo(b, `call ${i}`)));
      assert.deepEqual(
        answers,
        bridges.map((_, i) => `call ${i} (for alice)`),
      );
      assert.equal(mcp.unauthorized - refused, 20, 'each bridge saw its request refused once');
      assert.equal(server.counts.refresh - counts.refresh, 1, 'exactly one refresh grant');
      assert.equal(server.counts.grantErrors, counts.grantErrors, 'no refresh token was reused');
      assert.equal(server.counts.grantRevoked, counts.grantRevoked, 'nothing was revoked');
    } finally {
      await Promise.all(bridges.map((b) => b.close()));
      v.cleanup();
    }
  });

  for (const [fault, said] of [
    ['non-json', /failed: .*(JSON|json)/],
    ['forbidden', /failed: .*403/],
    ['cut', /the MCP server at .* (cut|closed) the stream|failed: /],
    ['empty-stream', /closed the stream before answering/],
  ] as [McpFault, RegExp][]) {
    test(`a server that answers ${fault}: a JSON-RPC error for that call, one line on stderr, the bridge goes on`, async () => {
      const v = await mcpLogin();
      let b: Bridged | undefined;
      try {
        b = await bridged(v);
        mcp.failNextCall(fault);
        await assert.rejects(
          within(BOUND_MS, 'the failed call', b.client.callTool({ name: 'echo', arguments: { text: 'x' } })),
          (error: Error) => /MCP server at http:\/\/127\.0\.0\.1:\d+/.test(error.message),
        );
        const lines = b.stderr().trim().split('\n');
        assert.equal(lines.length, 1, `one line on stderr: ${b.stderr()}`);
        assert.match(lines[0]!, said);
        assert.equal(await echo(b, 'after'), 'after (for alice)', 'the bridge still relays');
      } finally {
        await b?.close();
        v.cleanup();
      }
    });
  }

  test('stdout carries only protocol messages, and the bridge exits 0 when stdin closes', async () => {
    const v = await mcpLogin();
    try {
      const child = spawn(process.execPath, [VAULT_BIN, 'mcp-proxy', 'acme', mcp.url], {
        env: v.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = once(child, 'exit');
      child.stdin.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
      );
      await within(
        BOUND_MS,
        'the initialize answer',
        new Promise<void>((resolve) => child.stdout.on('data', () => stdout.includes('\n') && resolve())),
      );
      child.stdin.end();
      const [code] = await within(BOUND_MS, 'vault to exit after stdin closed', exited);
      assert.equal(code, 0, stderr);
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      const answer = JSON.parse(lines[0]!) as { id: number; result: { serverInfo: { name: string } } };
      assert.equal(answer.id, 1);
      assert.equal(answer.result.serverInfo.name, 'notes');
      killGroup(child);
    } finally {
      v.cleanup();
    }
  });

  test('bad input: a URL that is not https (or loopback http), or none for a provider without mcp_url, is a usage error; no login is exit 3', async () => {
    const v = await mcpLogin();
    try {
      const bad = await v.run(['mcp-proxy', 'acme', 'http://example.com/mcp']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(
        bad.stderr,
        /^error: the MCP server URL "http:\/\/example.com\/mcp": http:\/\/ is allowed only for loopback/,
      );
      assert.equal(bad.stdout, '');
      const other = await v.run(['mcp-proxy', 'acme', mcp.url, '--account', 'work']);
      assert.equal(other.code, 3, other.stderr);
      assert.match(other.stderr, /vault login acme/);
      assert.equal(other.stdout, '');
      const none = await v.run(['mcp-proxy', 'acme']);
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /^error: provider acme has no MCP server URL: .*--mcp <url>/);
    } finally {
      v.cleanup();
    }
  });

  test('vault token --format headers-json prints exactly {"Authorization":"Bearer <token>"}; other formats are usage errors', async () => {
    const v = await mcpLogin();
    try {
      const r = await v.run(['token', 'acme', '--format', 'headers-json']);
      assert.equal(r.code, 0, r.stderr);
      const token = (await v.readAccess())!.access_token;
      assert.equal(r.stdout, `{"Authorization":"Bearer ${token}"}\n`);
      assert.equal(r.stderr, '');
      const bad = await v.run(['token', 'acme', '--format', 'yaml']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.equal(bad.stdout, '');
      const both = await v.run(['token', 'acme', '--format', 'headers-json', '--json']);
      assert.equal(both.code, 2, both.stderr);
      assert.equal(both.stdout, '');
    } finally {
      v.cleanup();
    }
  });

  test("behind HTTP_PROXY: every request to the MCP server goes through the proxy, as vault's other requests do", async () => {
    const proxy = await startTinyproxy();
    const v = await mcpLogin();
    try {
      const b = await bridged(v, { env: { HTTP_PROXY: proxy.url, NO_PROXY: '' } });
      try {
        assert.equal(await echo(b, 'through the proxy'), 'through the proxy (for alice)');
        assert.ok(
          proxy.connects().includes(new URL(mcp.url).host),
          `the proxy saw no tunnel to the MCP server: ${proxy.connects().join(', ')}; ${b.stderr()}`,
        );
      } finally {
        await b.close();
      }
    } finally {
      v.cleanup();
      await proxy.close();
    }
  });
});

describe('vault provider add --mcp', () => {
  const configText = (v: Vault) => readFileSync(join(v.env.VAULT_CONFIG_DIR!, 'config.toml'));

  test('the URL alone: discovery, a registered client, login, and bridged calls with tokens for the resource', async () => {
    const v = vaultSandbox('file');
    let b: Bridged | undefined;
    try {
      const registered = server.registeredClients.length;
      const add = await v.run(['provider', 'add', 'notes', '--mcp', mcp.url]);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(server.registeredClients.length - registered, 1, 'one client registered (RFC 7591)');
      const clientId = server.registeredClients.at(-1)!;
      assert.ok(add.stderr.includes(`client ${clientId} (registered now)`), add.stderr);
      assert.ok(add.stderr.includes(`authorization server ${server.issuer}`), add.stderr);
      assert.equal(add.stdout, '');
      const show = await v.run(['provider', 'show', 'notes', '--json']);
      assert.equal(show.code, 0, show.stderr);
      const shown = JSON.parse(show.stdout) as Record<string, unknown>;
      assert.equal(shown.issuer, server.issuer);
      assert.equal(shown.client_id, clientId);
      assert.deepEqual(shown.scopes, [...MCP_SCOPES, 'offline_access']);
      assert.equal(shown.mcp_url, mcp.url);
      assert.equal(shown.resource, mcp.url);

      const mark = server.events.length;
      const login = await v.run(['login', 'notes']);
      assert.equal(login.code, 0, login.stderr);
      // No URL given: the provider's mcp_url.
      b = await bridged(v, { provider: 'notes', url: null });
      assert.deepEqual(
        (await b.client.listTools()).tools.map((t) => t.name),
        ['echo'],
      );
      assert.equal(await echo(b, 'hello'), 'hello (for alice)', 'the MCP server took the token (aud = its URL)');
      const refreshed = await v.run(['token', 'notes', '--force-refresh']);
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.equal(decodeJwt(refreshed.stdout.trim()).aud, mcp.url, 'a refreshed token is for the resource too');
      // RFC 8707: the code exchange and every refresh name the resource, not only the authorization request.
      const grants = server.events.slice(mark).filter((e) => e.name === 'grant.success');
      assert.deepEqual([...new Set(grants.map((e) => e.grantType))], ['authorization_code', 'refresh_token']);
      assert.deepEqual(
        grants.filter((e) => e.resource !== mcp.url),
        [],
      );
      assert.equal(await echo(b, 'again'), 'again (for alice)');
    } finally {
      await b?.close();
      v.cleanup();
    }
  });

  test('metadata for another resource is refused (RFC 9728 §3.3): exit 2, one line, config.toml untouched, no client', async () => {
    const v = vaultSandbox('file');
    const other = `${new URL(mcp.url).origin}/other`;
    mcp.trust(server.issuer, { metadataResource: other });
    try {
      await addProvider(v, server);
      const before = configText(v);
      const registered = server.registeredClients.length;
      const r = await v.run(['provider', 'add', 'notes', '--mcp', mcp.url]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith('error: '), r.stderr);
      assert.ok(lines[0]!.includes(`is for ${other}, not ${mcp.url}`), r.stderr);
      assert.deepEqual(configText(v), before);
      assert.equal(server.registeredClients.length, registered);
    } finally {
      mcp.trust(server.issuer);
      v.cleanup();
    }
  });

  test('metadata that is not JSON, or names no authorization server, is refused: exit 2, one line, nothing written', async () => {
    // In front of the MCP server: a 401 without a challenge (so the well-known URI is asked), then
    // metadata answers the real server does not give.
    const proxy = await startFaultProxy(new URL(mcp.url).origin);
    const url = `${proxy.url}/mcp`;
    const wellKnown = '/.well-known/oauth-protected-resource/mcp';
    const v = vaultSandbox('file');
    try {
      await addProvider(v, server);
      const before = configText(v);
      proxy.set('/mcp', { kind: 'status', status: 401 });
      const cases: [Parameters<typeof proxy.set>[1], RegExp][] = [
        [
          { kind: 'status', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>sign in</html>' },
          /is not usable: .*JSON/,
        ],
        [
          { kind: 'rewrite', change: (body) => Object.assign(body, { resource: url, authorization_servers: [] }) },
          /names no authorization_servers/,
        ],
      ];
      for (const [fault, said] of cases) {
        proxy.set(wellKnown, fault);
        const r = await v.run(['provider', 'add', 'notes', '--mcp', url]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, said);
        assert.ok(r.stderr.includes(`${proxy.url}${wellKnown}`), r.stderr);
        assert.deepEqual(configText(v), before);
      }
    } finally {
      await proxy.close();
      v.cleanup();
    }
  });

  test('an authorization server without dynamic registration: --client-id is asked for, nothing written; given, it is used', async () => {
    const plain = await startTestServer({ resource: { url: mcp.url, scopes: MCP_SCOPES } });
    mcp.trust(plain.issuer);
    const v = vaultSandbox('file');
    try {
      await addProvider(v, server);
      const before = configText(v);
      const r = await v.run(['provider', 'add', 'notes', '--mcp', mcp.url]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /offers no dynamic client registration \(RFC 7591\).*--client-id ID/);
      assert.deepEqual(configText(v), before);

      const given = await v.run(['provider', 'add', 'notes', '--mcp', mcp.url, '--client-id', plain.publicClientId]);
      assert.equal(given.code, 0, given.stderr);
      assert.ok(given.stderr.includes(`client ${plain.publicClientId} (as given)`), given.stderr);
      const shown = JSON.parse((await v.run(['provider', 'show', 'notes', '--json'])).stdout) as Record<
        string,
        unknown
      >;
      assert.equal(shown.client_id, plain.publicClientId);
      assert.equal(shown.issuer, plain.issuer);
    } finally {
      mcp.trust(server.issuer);
      await plain.close();
      v.cleanup();
    }
  });
});
