import { Command, Option } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { collect, jsonOption, scopeOption } from '../options.js';

/** The flags of a subcommand that names a provider, with its name. */
const nameAndFlags = (name: string, flags: object) => ({ ...flags, name });

/** `vault provider add|set|list|show|remove`. */
export function providerCommand(ctx: Context) {
  const edit = () => import('../runs/provider.js');
  const view = () => import('../runs/provider-view.js');
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
    .description('register a provider: a preset, an OpenID Connect issuer, explicit endpoints, or an MCP server')
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
    .option(
      '--resource <uri>',
      'RFC 8707 resource sent at login and refresh (an MCP server URL); rfc8693: the resource the exchanged token is for',
    )
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
  vault provider add notes --mcp https://notes.example.com/mcp      # discovery and client registration
  vault provider add google-via-auth0 --exchange-from auth0 --exchange token-vault --connection google-oauth2
  vault provider add api --exchange-from acme --exchange rfc8693 --audience https://api.acme.test --scope read`,
    )
    .action(act(ctx, async () => (await edit()).providerAddRun, nameAndFlags));
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
    .action(act(ctx, async () => (await edit()).providerSetRun, nameAndFlags));
  add.option(
    '--mcp <url>',
    'an MCP server: its metadata (RFC 9728) names the authorization server; registers a client (RFC 7591) unless --client-id; the URL is sent as resource',
  );
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
    .action(
      act(
        ctx,
        async () => (await view()).providerListRun,
        (flags: object) => flags,
      ),
    );
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
    .action(act(ctx, async () => (await view()).providerShowRun, nameAndFlags));
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
    .action(act(ctx, async () => (await edit()).providerRemoveRun, nameAndFlags));
  return group;
}
