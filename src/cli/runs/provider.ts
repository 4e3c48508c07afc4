import type { ProviderFlags } from '../../core/provider-edit.js';
import { UsageError } from '../../core/errors.js';
import { suggest } from '../../core/suggest.js';
import {
  addProvider,
  removeProvider,
  setProvider,
  type ProviderDeps,
  type StaleLogins,
} from '../../core/usecases/provider.js';
import type { McpPorts, McpSummary } from '../../core/usecases/mcp-provider.js';
import type { Context, Outcome } from '../context.js';

export interface ProviderAddOptions extends ProviderFlags {
  name: string;
  replace?: boolean;
  mcp?: string;
}
export interface ProviderSetOptions extends ProviderFlags {
  name: string;
}

/** The ports of the provider use cases; discovery loads the OAuth client only when an issuer is checked. */
function providerDeps(ctx: Context): ProviderDeps & McpPorts {
  return {
    configFile: ctx.configFile,
    config: () => ctx.config(),
    updateConfig: (change) => ctx.updateConfig(change),
    store: () => ctx.store(),
    debug: (m) => ctx.debug(m),
    discover: (issuer) => ctx.ports().oauth.discover(issuer),
    discoverMcp: (url) => ctx.ports().oauth.discoverMcp(url),
    registerClient: (found) => ctx.ports().oauth.registerClient(found),
  };
}

/** --client-secret-stdin, else VAULT_CLIENT_SECRET; `read.from` says which one gave the secret. */
function secretSource(ctx: Context, flags: ProviderFlags & { name: string }) {
  const read = async (): Promise<string | undefined> => {
    if (!flags.clientSecretStdin) {
      const secret = ctx.env.VAULT_CLIENT_SECRET || undefined;
      if (secret) read.from = 'VAULT_CLIENT_SECRET';
      return secret;
    }
    const secret = (await ctx.ports().readStdin()).replace(/\r?\n$/, '');
    if (!secret)
      throw new UsageError(
        `--client-secret-stdin: standard input was empty (to remove a stored client secret: \`${suggest(['provider', 'set', flags.name, '--no-client-secret'])}\`)`,
      );
    read.from = 'standard input';
    return secret;
  };
  read.from = undefined as string | undefined;
  return read;
}

/** Says where a stored client secret came from, never the secret: a variable left in the environment stores one silently otherwise. */
function noteSecret(ctx: Context, name: string, from: string | undefined): void {
  if (from === 'VAULT_CLIENT_SECRET')
    ctx.io.stderr.write(`Stored a client secret for ${name} from VAULT_CLIENT_SECRET in ${ctx.store().location}.\n`);
}

/** "Next: vault login" is for a person at a terminal, not for CI logs. */
function nextStep(ctx: Context, name: string): string {
  return ctx.io.stderrIsTTY ? ` Next: ${suggest(['login', name])}` : '';
}

function warnStale(ctx: Context, name: string, stale: StaleLogins | undefined): void {
  if (!stale) return;
  const to = stale.changed.includes('client_id') ? 'client' : 'server';
  ctx.io.stderr.write(
    `warning: ${stale.changed.join(', ')} changed; the logins of ${name} (${stale.accounts.join(', ')}) were issued to the old ${to} and may need ${stale.accounts.map((account) => `\`${suggest(['login', name], { account })}\``).join(', ')}\n`,
  );
}

/** What `--mcp` discovery found: the client id is no secret (a public client's is in every authorization URL). */
function noteMcp(ctx: Context, found: McpSummary): void {
  ctx.io.stderr.write(
    `MCP server ${found.resource} (the resource tokens are for): authorization server ${found.issuer}, client ${found.clientId} (${found.registered ? 'registered now' : 'as given'}), scopes ${found.scopes.join(' ') || '(none)'}.\n`,
  );
}

export async function providerAddRun(ctx: Context, opts: ProviderAddOptions): Promise<Outcome> {
  const source = secretSource(ctx, opts);
  const result = await addProvider(providerDeps(ctx), opts.name, opts, source);
  warnStale(ctx, opts.name, result.stale);
  noteSecret(ctx, opts.name, source.from);
  if (result.secretRemoved)
    ctx.io.stderr.write(
      `Removed the client secret of ${opts.name} from ${ctx.store().location} (--replace keeps only what it is given).\n`,
    );
  if (result.mcp) noteMcp(ctx, result.mcp);
  ctx.io.stderr.write(
    `${result.replaced ? 'Replaced' : 'Added'} provider ${opts.name} in ${ctx.configFile}.${nextStep(ctx, opts.name)}\n`,
  );
}

export async function providerSetRun(ctx: Context, opts: ProviderSetOptions): Promise<Outcome> {
  const source = secretSource(ctx, opts);
  const result = await setProvider(providerDeps(ctx), opts.name, opts, source);
  warnStale(ctx, opts.name, result.stale);
  noteSecret(ctx, opts.name, source.from);
  if (result.secretRemoved !== undefined)
    ctx.io.stderr.write(
      result.secretRemoved
        ? `Removed the client secret of ${opts.name} from ${ctx.store().location}.\n`
        : `No client secret was stored for ${opts.name}: nothing to remove.\n`,
    );
  const changed = result.changed.filter((c) => c !== 'client secret' || result.secretRemoved === undefined);
  if (changed.length)
    ctx.io.stderr.write(`Updated provider ${opts.name} in ${ctx.configFile}: ${changed.join(', ')}.\n`);
}

export async function providerRemoveRun(ctx: Context, opts: { name: string }): Promise<Outcome> {
  await removeProvider(providerDeps(ctx), opts.name);
  ctx.io.stderr.write(`Removed provider ${opts.name} from ${ctx.configFile}.\n`);
}
