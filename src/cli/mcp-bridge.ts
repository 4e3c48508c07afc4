// The stdio ↔ Streamable HTTP relay of `vault mcp-proxy`. Loaded only by that command: it pulls in
// @modelcontextprotocol/sdk, which neither the cached-token path nor any other command needs.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describeProxies, proxiedFetch, proxyFromEnv } from '../infra/oauth/proxy.js';

export interface BridgeOptions {
  url: URL;
  /** A fresh access token; `refused`: the one the server just answered 401 to. */
  token: (refused?: string) => Promise<string>;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** One line (no newline) for stderr. */
  log: (line: string) => void;
  debug: (line: string) => void;
  /** HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from here, as for every other request vault makes. */
  env: NodeJS.ProcessEnv;
}

/** A JSON-RPC id of a request the client sent and the server has not answered yet. */
type Id = string | number;

/** Relays until stdin ends; resolves then. */
export async function runBridge(opts: BridgeOptions): Promise<void> {
  const { url, log } = opts;
  const pending = new Set<Id>();
  const local = new StdioServerTransport(opts.stdin as never, opts.stdout as never);
  const proxy = proxyFromEnv(opts.env);
  if (proxy) opts.debug(describeProxies(proxy));
  const http = proxy ? await proxiedFetch(proxy) : fetch;
  const remote = new StreamableHTTPClientTransport(url, { fetch: authorizedFetch(opts, http, pending, answerError) });

  /** Answers the client's pending request `id` with a JSON-RPC error (MCP clients would otherwise wait forever). */
  function answerError(id: Id, message: string): void {
    if (!pending.delete(id)) return;
    // -32603: JSON-RPC 2.0 §5.1 "Internal error".
    void local.send({ jsonrpc: '2.0', id, error: { code: -32603, message } }).catch(() => {});
  }

  // The SDK reports here what it also throws from send() and what it retries itself (the GET
  // stream): a request left without an answer is reported where that is noticed, once.
  remote.onerror = (error) => opts.debug(`mcp: ${describe(error)}`);
  remote.onmessage = (message) => {
    const m = message as { id?: Id; method?: string };
    if (m.id !== undefined && m.method === undefined) pending.delete(m.id);
    void local.send(message).catch((error) => log(`cannot write to stdout: ${describe(error)}`));
  };
  local.onerror = (error) => log(`a message from the client was not JSON-RPC: ${describe(error)}`);
  local.onmessage = (message: JSONRPCMessage) => {
    const requests = (Array.isArray(message) ? message : [message]) as { id?: Id; method?: string }[];
    const ids = requests.filter((m) => m.method !== undefined && m.id !== undefined).map((m) => m.id!);
    for (const id of ids) pending.add(id);
    remote.send(message).catch((error: unknown) => {
      const text = `the MCP server at ${url.origin} failed: ${describe(error)}`;
      log(text);
      for (const id of ids) answerError(id, text);
    });
  };

  const ended = new Promise<void>((resolve) => {
    opts.stdin.once('end', resolve);
    opts.stdin.once('close', resolve);
  });
  await remote.start();
  await local.start();
  await ended;
  await local.close();
  await remote.close();
}

/**
 * fetch with a fresh `Authorization: Bearer` on every request. A 401 is answered by one refresh
 * (shared with every process that saw the same token refused) and one retry of that request; the
 * body is a string (the SDK sends JSON text), so it can be sent twice. A POST answered with an SSE
 * stream that ends without the response and without an event id to resume from (MCP Streamable
 * HTTP, "Resumability") leaves its requests pending: they are answered with an error.
 */
function authorizedFetch(
  opts: BridgeOptions,
  http: typeof fetch,
  pending: Set<Id>,
  answerError: (id: Id, message: string) => void,
): typeof fetch {
  const send = async (input: string | URL | Request, init: RequestInit | undefined, refused?: string) => {
    const token = await opts.token(refused);
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return { token, response: await http(input, { ...init, headers }) };
  };
  return async (input, init) => {
    let { token, response } = await send(input, init);
    if (response.status === 401) {
      await response.body?.cancel();
      opts.debug('mcp: 401 from the server; refreshing once and retrying the request');
      ({ token, response } = await send(input, init, token));
    }
    const type = response.headers.get('content-type') ?? '';
    if (init?.method !== 'POST' || !/^text\/event-stream/i.test(type) || !response.body) return response;
    const ids = requestIds(init.body);
    if (!ids.length) return response;
    let resumable = false;
    const decoder = new TextDecoder();
    const ended = (why: string) =>
      // The SDK parses and delivers the stream's events in promise jobs that all run before this.
      setImmediate(() => {
        if (resumable) return;
        const left = ids.filter((id) => pending.has(id));
        if (!left.length) return;
        const text = `the MCP server at ${opts.url.origin} ${why} before answering`;
        opts.log(text);
        for (const id of left) answerError(id, text);
      });
    const reader = response.body.getReader();
    const watched = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (error) {
          controller.error(error);
          ended(`cut the stream (${describe(error)})`);
          return;
        }
        if (chunk.done) {
          controller.close();
          ended('closed the stream');
          return;
        }
        // An event id makes the stream resumable: the SDK then asks again with Last-Event-ID.
        if (/(^|[\r\n])id:/.test(decoder.decode(chunk.value, { stream: true }))) resumable = true;
        controller.enqueue(chunk.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(watched, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The ids of the JSON-RPC requests in a POST body the SDK wrote. */
function requestIds(body: unknown): Id[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as { id?: Id; method?: string }[];
    return list.filter((m) => m && m.method !== undefined && m.id !== undefined).map((m) => m.id!);
  } catch {
    return [];
  }
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: unknown; cause?: { code?: string; message?: string } } | undefined;
  const cause = e?.cause?.code ?? e?.cause?.message;
  // The SDK's StreamableHTTPError carries the HTTP status as `code` (-1: an unexpected content type).
  const status = typeof e?.code === 'number' && e.code > 0 ? `HTTP ${e.code}: ` : '';
  const text = String(e?.message ?? error)
    .split('\n')[0]!
    .replace(/^Streamable HTTP error: /, '');
  return `${status}${text}${cause ? ` (${cause})` : ''}`;
}
