import { stringify } from 'smol-toml';
import type { Config, ProviderConfig } from './providers.js';

/** Serialises the configuration as TOML, providers in name order. */
export function renderConfig(config: Config): string {
  const sorted: Record<string, ProviderConfig> = {};
  for (const name of Object.keys(config.providers).sort()) sorted[name] = config.providers[name]!;
  return `# vault configuration: see \`vault provider --help\`. Secrets are never kept here.\n${stringify({ providers: sorted })}\n`;
}
