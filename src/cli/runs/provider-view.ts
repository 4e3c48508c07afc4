import { envNames, getProvider, rotatesRefreshTokens, type ProviderConfig } from '../../core/config/providers.js';
import { secretStored } from '../../core/usecases/provider.js';
import type { Context, Outcome } from '../context.js';

export interface ProviderViewOptions {
  name?: string;
  json?: boolean;
}

function describeSource(cfg: ProviderConfig): string {
  if (cfg.exchange_from) return `${cfg.exchange} exchange from ${cfg.exchange_from}`;
  if (cfg.mcp_url) return `MCP server ${cfg.mcp_url}`;
  if (cfg.preset) return `preset ${cfg.preset}`;
  if (cfg.issuer && !cfg.token_endpoint) return `issuer ${cfg.issuer}`;
  return `token endpoint ${cfg.token_endpoint}`;
}

export async function providerListRun(ctx: Context, opts: ProviderViewOptions): Promise<Outcome> {
  const { providers } = ctx.config();
  const names = Object.keys(providers).sort();
  if (opts.json) {
    ctx.io.stdout.write(`${JSON.stringify({ providers: names.map((n) => ({ name: n, ...providers[n] })) })}\n`);
    return;
  }
  if (!names.length) {
    ctx.io.stderr.write(
      `No providers configured in ${ctx.configFile}. Add one with \`vault provider add NAME --preset google --client-id ID\`.\n`,
    );
    return;
  }
  for (const n of names) {
    const p = providers[n]!;
    ctx.io.stdout.write(
      `${n}\t${describeSource(p)}\tclient ${p.client_id ?? '-'}\tscopes ${(p.scopes ?? []).join(' ') || '-'}\n`,
    );
  }
}

function showValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(' ');
  if (value === null) return 'unknown';
  if (typeof value === 'object')
    return Object.entries(value)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

export async function providerShowRun(ctx: Context, opts: ProviderViewOptions): Promise<Outcome> {
  const provider = getProvider(ctx.config(), opts.name!, ctx.configFile);
  const shown = {
    ...provider,
    env_names: envNames(provider),
    git_username: provider.git_username ?? 'oauth2',
    rotates_refresh_tokens: rotatesRefreshTokens(provider),
    client_secret_stored: await secretStored(ctx.store(), provider.name, (m) => ctx.io.stderr.write(`warning: ${m}\n`)),
  };
  if (opts.json) {
    ctx.io.stdout.write(`${JSON.stringify(shown)}\n`);
    return;
  }
  for (const [key, value] of Object.entries(shown)) ctx.io.stdout.write(`${key.padEnd(30)} ${showValue(value)}\n`);
}
