import { suggest } from '../../core/suggest.js';
import { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { ProviderConfig } from '../../core/config/providers.js';
import type { ProviderFlags } from '../../core/provider-edit.js';
import type { ProviderDeps, StaleLogins } from '../../core/usecases/provider.js';
import type { Context, Outcome } from '../context.js';
import { collect, jsonOption, scopeOption } from '../options.js';

export interface ProviderAddOptions extends ProviderFlags {
  name: string;
  replace?: boolean;
}
export interface ProviderSetOptions extends ProviderFlags {
  name: string;
}
export interface ProviderViewOptions {
  name?: string;
  json?: boolean;
}

type Run<O> = (opts: O) => Promise<Outcome>;

/** `vault provider add|set|list|show|remove`; each subcommand's run can be replaced (tests). */
export function providerCommand(
  ctx: Context,
  runs: {
    add?: Run<ProviderAddOptions>;
    set?: Run<ProviderSetOptions>;
    list?: Run<ProviderViewOptions>;
    show?: Run<ProviderViewOptions>;
    remove?: Run<{ name: string }>;
  } = {},
) {
  const act =
    <O>(run: Run<O>) =>
    async (name: string, flags: object) => {
      await ctx.ready();
      ctx.outcome = await run({ ...flags, name } as O);
    };
  const group = new Command('provider').description('add, change, list, show and remove OAuth providers').addHelpText(
    'after',
    `
Examples:
  vault provider add github --preset github --client-id Iv1.abc123
  vault provider list
  vault provider add --help          # presets, issuers and explicit endpoints`,
  );
  const add = group
    .command('add <name>')
    .description('register a provider: a preset, an OpenID Connect issuer, or explicit endpoints')
    .option('--preset <preset>', 'google, github, gitlab or microsoft')
    .option('--issuer <url>', 'OpenID Connect issuer (discovery runs once to check it)')
    .option('--authorization-endpoint <url>', 'authorization endpoint (servers without discovery)')
    .option('--token-endpoint <url>', 'token endpoint (servers without discovery)')
    .option('--revocation-endpoint <url>', 'RFC 7009 revocation endpoint')
    .option('--device-authorization-endpoint <url>', 'RFC 8628 device authorization endpoint')
    .option('--client-id <id>', 'the OAuth client id registered at the provider')
    .option(
      '--client-secret-stdin',
      'read the client secret from stdin (or set VAULT_CLIENT_SECRET); kept in the store',
    )
    .addOption(scopeOption('scope to request (repeatable)'))
    .addOption(new Option('--param <key=value>', 'extra authorization parameter (repeatable)').argParser(collect))
    .addOption(new Option('--env-name <VAR>', 'env var the token is exported as (repeatable)').argParser(collect))
    .addOption(new Option('--git-host <host>', 'git host served by this provider (repeatable)').argParser(collect))
    .option('--git-username <name>', 'username given to git (default oauth2)')
    .addOption(
      new Option(
        '--registry-host <host>',
        'container registry served by this provider: host[:port], *.domain or *-domain (repeatable)',
      ).argParser(collect),
    )
    .option('--registry-username <name>', 'username given to docker and skopeo (default oauth2)')
    .addOption(
      new Option(
        '--rotates-refresh-tokens <bool>',
        'whether the provider rotates refresh tokens (default true; false, as in the google preset: `vault export` keeps the login here)',
      ).choices(['true', 'false']),
    )
    .option('--offline', 'skip the discovery check')
    .option('--exchange-from <provider>', "get this provider's tokens by exchanging the login to <provider>")
    .addOption(
      new Option('--exchange <kind>', 'with --exchange-from: token-vault (Auth0 Token Vault) or rfc8693').choices([
        'token-vault',
        'rfc8693',
      ]),
    )
    .option('--connection <name>', 'token-vault: the federated connection whose token is asked for (google-oauth2)')
    .option('--login-hint <hint>', "token-vault: which of the user's accounts at the connection")
    .option('--audience <uri>', 'rfc8693: the audience the exchanged token is for')
    .option('--resource <uri>', 'rfc8693: the resource (RFC 8707) the exchanged token is for')
    .addOption(
      new Option(
        '--subject-token <kind>',
        "rfc8693: the source login's token that is exchanged (default access)",
      ).choices(['access', 'id']),
    )
    .addHelpText(
      'after',
      `
Examples:
  vault provider add google --preset google --client-id 123.apps.googleusercontent.com --client-secret-stdin
  vault provider add github --preset github --client-id Iv1.abc123
  vault provider add acme --issuer https://login.acme.test --client-id vault-cli --scope openid --scope offline_access
  vault provider add google-via-auth0 --exchange-from auth0 --exchange token-vault --connection google-oauth2
  vault provider add api --exchange-from acme --exchange rfc8693 --audience https://api.acme.test --scope read`,
    )
    .action(act(runs.add ?? ((o: ProviderAddOptions) => providerAddRun(ctx, o))));
  const set = group
    .command('set <name>')
    .description('change only the given fields of a provider (a repeated flag replaces that whole list)');
  for (const option of add.options) set.addOption(option);
  set
    .option('--no-client-secret', 'remove the stored client secret (a public client sends none)')
    .addHelpText(
      'after',
      '\nExamples:\n  vault provider set acme --client-id new-id\n  vault provider set acme --scope openid --scope offline_access\n  printf %s "$SECRET" | vault provider set acme --client-secret-stdin\n  vault provider set acme --no-client-secret',
    )
    .action(act(runs.set ?? ((o: ProviderSetOptions) => providerSetRun(ctx, o))));
  add.option('--replace', 'replace an existing provider whole (without it, add refuses; see `provider set`)');
  group
    .command('list')
    .description('list configured providers')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  vault provider list
  vault provider list --json | jq -r '.providers[].name'`,
    )
    .action(async (flags: ProviderViewOptions) => {
      await ctx.ready();
      ctx.outcome = await (runs.list ?? ((o: ProviderViewOptions) => providerListRun(ctx, o)))(flags);
    });
  group
    .command('show <name>')
    .description("show one provider's configuration (never a secret)")
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  vault provider show google
  vault provider show acme --json | jq .token_endpoint`,
    )
    .action(act(runs.show ?? ((o: ProviderViewOptions) => providerShowRun(ctx, o))));
  group
    .command('remove <name>')
    .description('remove a provider from the configuration (and its client secret)')
    .addHelpText(
      'after',
      `
Refuses while logins are stored for it: log out of each first, so they are revoked.

Examples:
  vault logout acme && vault provider remove acme
  vault provider remove corp`,
    )
    .action(act(runs.remove ?? ((o: { name: string }) => providerRemoveRun(ctx, o))));
  return group;
}

/** The ports of the provider use cases; discovery loads the OAuth client only when an issuer is checked. */
export function providerDeps(ctx: Context): ProviderDeps {
  return {
    configFile: ctx.configFile,
    config: () => ctx.config(),
    updateConfig: (change) => ctx.updateConfig(change),
    store: () => ctx.store(),
    debug: (m) => ctx.debug(m),
    async discover(issuer) {
      const metadata = await (await ctx.oauth()).discoverMetadata(issuer, ctx);
      ctx.debug(`discovery: ${metadata.issuer} token endpoint ${metadata.token_endpoint}`);
    },
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
    const { readStdin } = await import('../../infra/io.js');
    const secret = (await readStdin(ctx.io.stdin)).replace(/\r?\n$/, '');
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

export async function providerAddRun(ctx: Context, opts: ProviderAddOptions): Promise<Outcome> {
  const { addProvider } = await import('../../core/usecases/provider.js');
  const source = secretSource(ctx, opts);
  const result = await addProvider(providerDeps(ctx), opts.name, opts, source);
  warnStale(ctx, opts.name, result.stale);
  noteSecret(ctx, opts.name, source.from);
  if (result.secretRemoved)
    ctx.io.stderr.write(
      `Removed the client secret of ${opts.name} from ${ctx.store().location} (--replace keeps only what it is given).\n`,
    );
  ctx.io.stderr.write(
    `${result.replaced ? 'Replaced' : 'Added'} provider ${opts.name} in ${ctx.configFile}.${nextStep(ctx, opts.name)}\n`,
  );
}

export async function providerSetRun(ctx: Context, opts: ProviderSetOptions): Promise<Outcome> {
  const { setProvider } = await import('../../core/usecases/provider.js');
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
  const { removeProvider } = await import('../../core/usecases/provider.js');
  await removeProvider(providerDeps(ctx), opts.name);
  ctx.io.stderr.write(`Removed provider ${opts.name} from ${ctx.configFile}.\n`);
}

function describeSource(cfg: ProviderConfig): string {
  if (cfg.exchange_from) return `${cfg.exchange} exchange from ${cfg.exchange_from}`;
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
  const { secretStored } = await import('../../core/usecases/provider.js');
  const { envNames, getProvider, rotatesRefreshTokens } = await import('../../core/config/providers.js');
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
