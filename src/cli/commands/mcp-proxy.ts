import { Command } from 'commander';
import type { Context, Outcome } from '../context.js';
import { accountOption, minValidOption } from '../options.js';

export interface McpProxyOptions {
  provider: string;
  url: string;
  account?: string;
  minValid: number;
}

export function mcpProxyCommand(
  ctx: Context,
  runF: (opts: McpProxyOptions) => Promise<Outcome> = (o) => mcpProxyRun(ctx, o),
) {
  return new Command('mcp-proxy')
    .argument('<provider>')
    .argument('<url>', 'the remote MCP server (Streamable HTTP)')
    .description("serve a remote MCP server on stdin/stdout, with the login's fresh access token on every request")
    .addOption(accountOption())
    .addOption(minValidOption(60, 'seconds each token sent stays valid (capped at half its lifetime)'))
    .addHelpText(
      'after',
      `
Relays JSON-RPC both ways until stdin closes; stdout carries only MCP messages, logs go to stderr.
On a 401 the token is refreshed once (shared with every other vault process) and the request sent again.

Examples:
  claude mcp add notes -- vault mcp-proxy notes https://notes.example.com/mcp
  vault mcp-proxy notes https://notes.example.com/mcp --account work`,
    )
    .action(async (provider: string, url: string, flags: Omit<McpProxyOptions, 'provider' | 'url'>) => {
      await ctx.ready();
      ctx.outcome = await runF({ ...flags, provider, url });
    });
}

/** `vault mcp-proxy <provider> <url>`: until stdin closes. */
export async function mcpProxyRun(ctx: Context, opts: McpProxyOptions): Promise<Outcome> {
  const { checkEndpointUrl } = await import('../../core/config/providers.js');
  const { UsageError } = await import('../../core/errors.js');
  const bad = checkEndpointUrl(opts.url);
  if (bad) throw new UsageError(`the MCP server URL ${JSON.stringify(opts.url)}: ${bad}`);
  const { getAccessToken } = await import('../../core/usecases/get-token.js');
  const provider = ctx.provider(opts.provider);
  const account = ctx.account(opts.account);
  const token = async (refused?: string) =>
    (await getAccessToken({ provider, account, minValid: opts.minValid, refused }, ctx.tokenDeps())).access_token;
  // Not logged in is said now (exit 3), before a client waits on a bridge that cannot work.
  await token();
  const { runBridge } = await import('../mcp-bridge.js');
  await runBridge({
    url: new URL(opts.url),
    token,
    stdin: process.stdin,
    stdout: process.stdout,
    log: (line) => ctx.io.stderr.write(`vault mcp-proxy: ${line}\n`),
    debug: ctx.debug,
  });
}
