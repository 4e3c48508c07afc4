import { Argument, Command, CommanderError, Option } from 'commander';
import { LoginRequiredError, VaultError, type ErrorKind } from '../core/errors.js';
import { quietIo } from '../infra/io.js';
import { storeChoice } from '../infra/stores/choice.js';
import { unreachableKeychainNote } from '../infra/stores/keychain-reach.js';
import { execArgv } from './exec-args.js';
import { addStoreCommands } from './store-commands.js';
import type { Deps } from '../ports.js';

declare const VAULT_VERSION: string;

/** Exit codes of the command-line contract (SPEC.md, "Exit codes"): the one place they are chosen. */
const EXIT_CODES: Record<ErrorKind, number> = {
  failure: 1,
  usage: 2,
  loginRequired: 3,
  temporary: 4,
  storeUnavailable: 5,
  // 128 + the signal's number, the shell's convention.
  hangup: 129,
  interrupted: 130,
  terminated: 143,
};

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODES[kind];
}

/**
 * How a command ended besides an error: nothing (exit 0), the kind of a failure it has reported
 * itself, or the exit status of a child process it passes on (`vault exec`).
 */
export type Outcome = void | ErrorKind | number;

// Each command module's run() has its own parameters; commander supplies them positionally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Action = (deps: Deps, ...args: any[]) => Promise<Outcome>;

/** Lazily loads a command module, so each command pays only for what it imports. */
function lazy(deps: Deps, load: () => Promise<{ run: Action }>) {
  return async (...args: unknown[]) => {
    storeChoice(deps.env);
    const mod = await load();
    const outcome = await mod.run(deps, ...args);
    exitCode = outcome === undefined ? 0 : typeof outcome === 'number' ? outcome : exitCodeFor(outcome);
  };
}

let exitCode = 0;

/** commander's collector for repeatable options. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function accountOption() {
  return new Option('-a, --account <name>', 'account at the provider (default: $VAULT_ACCOUNT or "default")');
}

function scopeOption(description: string) {
  return new Option('--scope <scope>', description).argParser(collect);
}

function nameOption() {
  return new Option(
    '--name <VAR>',
    "environment variable to set (repeatable; default: the provider's env names)",
  ).argParser(collect);
}

/** Builds the commander program; every action is a lazy import of its command module. */
export function buildProgram(deps: Deps): Command {
  const program = new Command('vault');
  program
    .description(
      'A local token vault: OAuth logins in the OS keychain, fresh access tokens for shells, scripts, CI and git.',
    )
    .version(typeof VAULT_VERSION === 'string' ? VAULT_VERSION : '0.0.0-dev', '-V, --version')
    .option('--debug', 'log HTTP, store and lock events to stderr (secrets redacted); also VAULT_DEBUG=1')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .hook('preAction', (root) => {
      if (root.opts().quiet) deps.io = quietIo(deps.io);
    })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => deps.io.stdout.write(s),
      writeErr: (s) => deps.io.stderr.write(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Getting started:
  vault provider add google --preset google --client-id ID --client-secret-stdin
  vault login google
  vault token google
  vault status

Exit codes: 0 ok, 1 failure, 2 usage or configuration, 3 login required (the message names the
\`vault login\` to run), 4 temporary (network, 5xx: retry), 5 keychain unavailable or locked, 130 interrupted.
Each command's --help shows examples.`,
    );

  const provider = program
    .command('provider')
    .description('add, change, list, show and remove OAuth providers')
    .addHelpText(
      'after',
      `
Examples:
  vault provider add github --preset github --client-id Iv1.abc123
  vault provider list
  vault provider add --help          # presets, issuers and explicit endpoints`,
    );
  const add = provider
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
    .option('--offline', 'skip the discovery check')
    .addHelpText(
      'after',
      `
Examples:
  vault provider add google --preset google --client-id 123.apps.googleusercontent.com --client-secret-stdin
  vault provider add github --preset github --client-id Iv1.abc123
  vault provider add acme --issuer https://login.acme.test --client-id vault-cli --scope openid --scope offline_access`,
    )
    .action(lazy(deps, () => import('./commands/provider.js').then((m) => ({ run: m.addRun as Action }))));
  const set = provider
    .command('set <name>')
    .description('change only the given fields of a provider (a repeated flag replaces that whole list)');
  for (const option of add.options) set.addOption(option);
  set
    .addHelpText(
      'after',
      '\nExamples:\n  vault provider set acme --client-id new-id\n  vault provider set acme --scope openid --scope offline_access\n  printf %s "$SECRET" | vault provider set acme --client-secret-stdin',
    )
    .action(lazy(deps, () => import('./commands/provider.js').then((m) => ({ run: m.setRun as Action }))));
  add.option('--replace', 'replace an existing provider whole (without it, add refuses; see `provider set`)');
  provider
    .command('list')
    .description('list configured providers')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  vault provider list
  vault provider list --json | jq -r '.providers[].name'`,
    )
    .action(lazy(deps, () => import('./commands/provider.js').then((m) => ({ run: m.listRun as Action }))));
  provider
    .command('show <name>')
    .description("show one provider's configuration (never a secret)")
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  vault provider show google
  vault provider show acme --json | jq .token_endpoint`,
    )
    .action(lazy(deps, () => import('./commands/provider.js').then((m) => ({ run: m.showRun as Action }))));
  provider
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
    .action(lazy(deps, () => import('./commands/provider.js').then((m) => ({ run: m.removeRun as Action }))));

  program
    .command('login [provider]')
    .description('log in through the browser (RFC 8252 loopback + PKCE) or the device flow')
    .addOption(accountOption())
    .addOption(scopeOption("scope to request (repeatable; default: the provider's scopes)"))
    .option('--device', 'use the device authorization grant (RFC 8628), for machines without a browser')
    .option('--no-browser', 'print the URL instead of opening a browser')
    .option('--port <n>', 'loopback port for the redirect (default: any free port)')
    .option('--timeout <sec>', 'give up after this many seconds', '300')
    .addHelpText(
      'after',
      `
Examples:
  vault login google
  vault login github --device
  vault login acme -a work --no-browser`,
    )
    .action(lazy(deps, () => import('./commands/login.js')));

  program
    .command('token [provider]')
    .description('print a valid access token, refreshing it when needed')
    .addOption(accountOption())
    .addOption(scopeOption('ask for a subset of the granted scopes (repeatable)'))
    .option('--min-valid <sec>', 'seconds the token must stay valid (capped at half its lifetime)', '60')
    .option('--force-refresh', 'refresh even if the cached token is still valid')
    .addOption(new Option('--json', 'print JSON with the expiry and scopes').conflicts('header'))
    .option('--header', 'print "Authorization: Bearer <token>"')
    .addHelpText(
      'after',
      `
Examples:
  curl -H @<(vault token google --header) https://www.googleapis.com/oauth2/v3/userinfo
  vault token acme --scope api:read --min-valid 300
  vault token github --json`,
    )
    .action(lazy(deps, () => import('./commands/token.js')));

  program
    .command('env [provider]')
    .description("print environment assignments for the provider's token")
    .addOption(accountOption())
    .addOption(nameOption())
    .option('--min-valid <sec>', 'seconds the token must stay valid', '60')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['sh', 'fish', 'powershell', 'dotenv', 'json', 'github-actions'])
        .default('sh'),
    )
    .addHelpText(
      'after',
      `
Examples:
  eval "$(vault env google)"
  vault env google --format fish | source
  vault env acme --format github-actions`,
    )
    .action(lazy(deps, () => import('./commands/env.js')));

  program
    .command('exec [provider]')
    .usage('[options] [provider] [--] <command> [args...]')
    .description("run a command with the provider's token in its environment")
    .addOption(accountOption())
    .addOption(nameOption())
    .option('--min-valid <sec>', 'seconds the token must stay valid', '300')
    .option('--allow-nested', 'run even inside `vault exec` for the same provider (see $VAULT_EXEC_PROVIDERS)')
    .option(
      '--token-file <VAR>',
      'keep the token in a private file, rewritten before it expires, and set VAR to its path',
    )
    .option(
      '--gce',
      'serve a GCE metadata endpoint for the command, so Google libraries and gcloud refresh through vault',
    )
    .argument('<command...>', "the command and its arguments (after the provider and exec's options; `--` is optional)")
    .addHelpText(
      'after',
      `
The token is passed in the environment only, never in argv. Signals (INT, TERM, HUP) are
forwarded to the command; vault exits with its exit code, or 128+N if signal N killed it.

Examples:
  vault exec google -- terraform plan
  vault exec github -- gh repo list
  vault exec acme --name API_TOKEN -- ./deploy.sh
  vault exec google --token-file CLOUDSDK_AUTH_ACCESS_TOKEN_FILE -- gcloud storage ls   # jobs longer than a token
  vault exec google --gce -- terraform apply                                            # Google libraries refresh via vault`,
    )
    .action(lazy(deps, () => import('./commands/exec.js')));

  program
    .command('serve [provider]')
    .description('serve a local GCE metadata endpoint for the login until interrupted')
    .addOption(accountOption())
    .requiredOption('--gce', 'speak the GCE metadata protocol (Google client libraries, gcloud)')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
    .option('--min-valid <sec>', 'seconds each token handed out stays valid', '300')
    .addHelpText(
      'after',
      `
Prints the variables that point Google's libraries and gcloud at it (sh), then serves until
SIGINT or SIGTERM. Only requests with Metadata-Flavor: Google and Host 127.0.0.1:PORT are answered.

Examples:
  vault serve google --gce --port 8173 &   # then export GCE_METADATA_HOST=127.0.0.1:8173 (and _IP, _ROOT)
  vault exec google --gce -- ./job.sh      # the same, for one command's lifetime`,
    )
    .action(lazy(deps, () => import('./commands/serve.js')));

  program
    .command('kube-credential [provider]')
    .description('kubectl exec credential plugin: print an ExecCredential with a valid token')
    .addOption(accountOption())
    .option('--min-valid <sec>', 'seconds the token must stay valid', '60')
    .addHelpText(
      'after',
      `
kubectl runs it (users[].user.exec in the kubeconfig) and keeps the token until it expires, so the
token is never written to the kubeconfig nor passed in argv.

Examples:
  users[].user.exec in ~/.kube/config: {apiVersion: client.authentication.k8s.io/v1, command: vault, args: [kube-credential, acme]}
  vault kube-credential acme -a work`,
    )
    .action(lazy(deps, () => import('./commands/kube-credential.js')));

  program
    .command('export [provider]')
    .description('print the refresh token, for a CI secret (VAULT_<NAME>_REFRESH_TOKEN)')
    .addOption(accountOption())
    .option('--force', 'export even though the provider rotates refresh tokens (see below)')
    .addHelpText(
      'after',
      `
Prints the refresh token alone on stdout; it then lives in two places. Once the provider has been seen
rotating refresh tokens, export refuses without --force: prefer a fleet store (\`vault store migrate\`).

Examples:
  vault export acme | gh secret set ACME_REFRESH_TOKEN
  vault export acme -a ci | glab variable set ACME_REFRESH_TOKEN --masked`,
    )
    .action(lazy(deps, () => import('./commands/export.js')));

  program
    .command('status [provider]')
    .description('show logins, scopes and expiry (never a secret)')
    .addOption(new Option('-a, --account <name>', 'only this account'))
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      `
Reads the store only: no refresh, no network. Exits 3 when the named provider has no login.

Examples:
  vault status
  vault status google -a work
  vault status --json | jq -r '.accounts[] | select(.refresh_token_stored) | .provider'`,
    )
    .action(lazy(deps, () => import('./commands/status.js')));

  program
    .command('logout [provider]')
    .description('revoke the refresh token (RFC 7009) and delete everything stored for the account')
    .addOption(accountOption())
    .option('--no-revoke', 'delete locally without revoking at the provider')
    .addHelpText(
      'after',
      `
The local login is removed even when the provider cannot be reached (then it exits 4).
The provider's client secret stays: \`vault provider remove\` removes it.

Examples:
  vault logout google
  vault logout acme -a work
  vault logout github --no-revoke`,
    )
    .action(lazy(deps, () => import('./commands/logout.js')));

  program
    .command('git-credential <operation>')
    .description('git credential helper (get, store, erase); see `vault setup-git`')
    .addHelpText(
      'after',
      `
git runs it with the request on stdin; you rarely do. Hosts are mapped to providers by their git_hosts.

Examples:
  git config --global credential.https://github.com.helper '!vault git-credential'
  printf 'protocol=https\\nhost=github.com\\n\\n' | vault git-credential get
  GIT_TRACE=1 git fetch     # shows git calling the helper`,
    )
    .action(lazy(deps, () => import('./commands/git-credential.js')));

  program
    .command('setup-git [provider]')
    .description("configure git to use vault for the provider's git hosts (all providers' without one)")
    .option('--remove', 'remove the entries that run this vault, and nothing else')
    .addHelpText(
      'after',
      `
Adds credential.https://<host>.helper to the global git config for each git host (and the
http:// one for loopback hosts). Other helpers are kept; running it again changes nothing.

Examples:
  vault setup-git github
  vault setup-git
  git config --global --get-regexp '^credential\\.'     # what it configured`,
    )
    .action(lazy(deps, () => import('./commands/setup-git.js')));

  addStoreCommands(program, (load) => lazy(deps, load));

  program
    .command('docker-credential <operation>')
    .description('docker credential helper (get, store, erase, list); see `vault setup-docker`')
    .addHelpText(
      'after',
      `
docker, skopeo and podman run it as docker-credential-vault, with the registry on stdin. Registries
are mapped to providers by their registry_hosts.

Examples:
  echo gcr.io | vault docker-credential get
  vault docker-credential list`,
    )
    .action(lazy(deps, () => import('./commands/docker-credential.js')));

  program
    .command('setup-docker [provider]')
    .description("make docker ask vault for the provider's registry hosts (credHelpers in $DOCKER_CONFIG/config.json)")
    .option('--remove', "remove the entries naming vault (for the provider's hosts, or all of them)")
    .addHelpText(
      'after',
      `
Every other key of the docker config, and other helpers' entries, are kept.

Examples:
  vault setup-docker google
  vault setup-docker --remove`,
    )
    .action(lazy(deps, () => import('./commands/setup-docker.js')));

  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(vault completion bash)                          # in ~/.bashrc
  source <(vault completion zsh)                           # in ~/.zshrc, after compinit
  vault completion fish > ~/.config/fish/completions/vault.fish`,
    )
    .action(lazy(deps, () => import('./commands/completion.js')));

  program
    .command('__complete', { hidden: true })
    .description('answers the completion scripts: the words typed so far, after --')
    .argument('[words...]')
    .helpOption(false)
    .action(lazy(deps, () => import('./commands/completion.js').then((m) => ({ run: m.completeRun as Action }))));

  return program;
}

function colourError(deps: Deps, text: string): Promise<string> {
  if (!deps.io.stderrIsTTY || deps.env.NO_COLOR !== undefined) return Promise.resolve(text);
  return import('chalk').then((m) => m.default.red(text));
}

/** Runs the CLI and returns the exit code; every error is mapped here, in one place. */
export async function run(argv: string[], deps: Deps): Promise<number> {
  exitCode = 0;
  const program = buildProgram(deps);
  try {
    await program.parseAsync(execArgv(program, argv, deps.env), { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are "errors" to commander when exitOverride is on.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return error.exitCode === 0 ? 0 : exitCodeFor('usage');
    }
    if (error instanceof VaultError) {
      const note = error instanceof LoginRequiredError ? unreachableKeychainNote(deps.env) : undefined;
      deps.io.stderr.write(`${await colourError(deps, `error: ${error.message}${note ? `. But ${note}` : ''}`)}\n`);
      if (error.cause) deps.debug(`cause: ${describeCause(error.cause)}`);
      return exitCodeFor(error.kind);
    }
    deps.io.stderr.write(
      `${await colourError(deps, `error: unexpected failure: ${String((error as Error)?.message ?? error).split('\n')[0]}`)}\n`,
    );
    deps.debug(`stack: ${(error as Error)?.stack ?? ''}`);
    return exitCodeFor('failure');
  }
}

function describeCause(cause: unknown): string {
  const e = cause as { name?: string; code?: string; message?: string };
  return [e?.name, e?.code, e?.message?.split('\n')[0]].filter(Boolean).join(': ');
}
