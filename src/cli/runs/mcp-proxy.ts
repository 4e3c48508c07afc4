import { checkEndpointUrl } from '../../core/config/providers.js';
import { UsageError } from '../../core/errors.js';
import { getAccessToken } from '../../core/usecases/get-token.js';
import type { Context, Outcome } from '../context.js';

export interface McpProxyOptions {
  provider: string;
  /** Default: the provider's mcp_url. */
  url?: string;
  account?: string;
  minValid: number;
}

/** `vault mcp-proxy <provider> [url]`: until stdin closes. */
export async function mcpProxyRun(ctx: Context, opts: McpProxyOptions): Promise<Outcome> {
  const provider = ctx.provider(opts.provider);
  const url = opts.url ?? provider.mcp_url;
  if (url === undefined) {
    throw new UsageError(
      `provider ${provider.name} has no MCP server URL: give one (vault mcp-proxy ${provider.name} <url>), or add the provider with --mcp <url>`,
    );
  }
  const bad = checkEndpointUrl(url);
  if (bad) throw new UsageError(`the MCP server URL ${JSON.stringify(url)}: ${bad}`);
  const account = ctx.account(opts.account);
  const token = async (refused?: string) =>
    (await getAccessToken({ provider, account, minValid: opts.minValid, refused }, ctx.ports())).access_token;
  // Not logged in is said now (exit 3), before a client waits on a bridge that cannot work.
  await token();
  // The MCP SDK is loaded by this command only.
  const { runBridge } = await import('../mcp-bridge.js');
  await runBridge({
    url: new URL(url),
    token,
    stdin: process.stdin,
    stdout: process.stdout,
    log: (line) => ctx.io.stderr.write(`vault mcp-proxy: ${line}\n`),
    debug: ctx.debug,
    env: ctx.env,
  });
}
