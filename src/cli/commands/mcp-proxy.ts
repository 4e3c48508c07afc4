import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { accountOption, minValidOption } from '../options.js';

export function mcpProxyCommand(ctx: Context) {
  return new Command('mcp-proxy')
    .argument('<provider>')
    .argument('[url]', "the remote MCP server (Streamable HTTP); default: the provider's mcp_url (provider add --mcp)")
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
  claude mcp add notes -- vault mcp-proxy notes     # a provider added with --mcp knows its URL
  vault mcp-proxy notes https://notes.example.com/mcp --account work`,
    )
    .action(
      act(
        ctx,
        async () => (await import('../runs/mcp-proxy.js')).mcpProxyRun,
        (provider: string, url: string | undefined, flags: object) => ({ ...flags, provider, url }),
      ),
    );
}
