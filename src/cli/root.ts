import { Command, CommanderError, Help, Option } from 'commander';
import { exitCodeFor, LoginRequiredError, VaultError } from '../core/errors.js';
import { quietIo } from '../infra/io.js';
import { storeChoice } from '../infra/stores/choice.js';
import { unreachableKeychainNote } from '../infra/stores/keychain-reach.js';
import { completeCommand, completionCommand } from './commands/completion.js';
import { dockerCredentialCommand } from './commands/docker-credential.js';
import { envCommand } from './commands/env.js';
import { execCommand } from './commands/exec.js';
import { exportCommand } from './commands/export.js';
import { gitCredentialCommand } from './commands/git-credential.js';
import { kubeCredentialCommand } from './commands/kube-credential.js';
import { loginCommand } from './commands/login.js';
import { mcpProxyCommand } from './commands/mcp-proxy.js';
import { logoutCommand } from './commands/logout.js';
import { providerCommand } from './commands/provider.js';
import { serveCommand } from './commands/serve.js';
import { setupDockerCommand } from './commands/setup-docker.js';
import { setupGitCommand } from './commands/setup-git.js';
import { statusCommand } from './commands/status.js';
import { storeCommand } from './commands/store.js';
import { tokenCommand } from './commands/token.js';
import type { Context, Outcome } from './context.js';
import { withExecSeparator } from './exec-args.js';

declare const VAULT_VERSION: string;

export { exitCodeFor };

/** The exit status of a command that ended without an error (see Outcome). */
export function exitStatus(outcome: Outcome): number {
  return outcome === undefined ? 0 : typeof outcome === 'number' ? outcome : exitCodeFor(outcome);
}

/** `VAULT_DEBUG=1` (or `true`) turns debug output on like `--debug`; other values do not. */
function debugWanted(root: Command, env: NodeJS.ProcessEnv): boolean {
  if (!root.opts<{ debug?: boolean }>().debug) return false;
  return root.getOptionValueSource('debug') !== 'env' || env.VAULT_DEBUG === '1' || env.VAULT_DEBUG === 'true';
}

/** Builds the commander program: the root's own options, then each command as its module builds it. */
export function buildProgram(ctx: Context): Command {
  const program = new Command('vault');
  program
    .description(
      'A local token vault: OAuth logins in the OS keychain, fresh access tokens for shells, scripts, CI and git.',
    )
    .version(typeof VAULT_VERSION === 'string' ? VAULT_VERSION : '0.0.0-dev', '-V, --version')
    .addOption(
      new Option('--debug', 'log HTTP, store and lock events to stderr (secrets redacted); also VAULT_DEBUG=1').env(
        'VAULT_DEBUG',
      ),
    )
    .option('-q, --quiet', 'nothing on stderr but errors')
    .hook('preAction', async (root) => {
      // Debug output goes to the real stderr, even with --quiet.
      if (debugWanted(root, ctx.env)) ctx.enableDebug();
      if (root.opts<{ quiet?: boolean }>().quiet) ctx.io = quietIo(ctx.io);
      // A bad VAULT_STORE is a usage error before any command starts.
      storeChoice(ctx.env);
      // Every action runs with the context loaded; help and usage errors never get here.
      await ctx.ready();
    })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
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
  program.configureHelp({
    // An option whose description already names its environment variable shows it once.
    optionDescription(option) {
      if (option.envVar !== undefined && option.description.includes(option.envVar)) return option.description;
      return Help.prototype.optionDescription.call(this, option);
    },
  });
  for (const command of [
    providerCommand(ctx),
    loginCommand(ctx),
    tokenCommand(ctx),
    envCommand(ctx),
    execCommand(ctx),
    serveCommand(ctx),
    mcpProxyCommand(ctx),
    kubeCredentialCommand(ctx),
    exportCommand(ctx),
    statusCommand(ctx),
    logoutCommand(ctx),
    gitCredentialCommand(ctx),
    setupGitCommand(ctx),
    storeCommand(ctx),
    dockerCredentialCommand(ctx),
    setupDockerCommand(ctx),
    completionCommand(ctx),
  ])
    program.addCommand(command);
  program.addCommand(completeCommand(ctx), { hidden: true });
  inheritSettings(program);
  return program;
}

/** Commands built on their own take the root's output, error and help settings, as `.command()` children do. */
function inheritSettings(parent: Command): void {
  for (const child of parent.commands) {
    child.copyInheritedSettings(parent);
    inheritSettings(child);
  }
}

function colourError(ctx: Context, text: string): Promise<string> {
  if (!ctx.io.stderrIsTTY || ctx.env.NO_COLOR !== undefined) return Promise.resolve(text);
  return import('chalk').then((m) => m.default.red(text));
}

/** Runs the CLI and returns the exit code; every error is mapped here, in one place. */
export async function run(argv: string[], ctx: Context): Promise<number> {
  ctx.outcome = undefined;
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(await withExecSeparator(program, argv, ctx), { from: 'user' });
    return exitStatus(ctx.outcome);
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
      const note = error instanceof LoginRequiredError ? unreachableKeychainNote(ctx.env) : undefined;
      ctx.io.stderr.write(`${await colourError(ctx, `error: ${error.message}${note ? `. But ${note}` : ''}`)}\n`);
      if (error.cause) ctx.debug(`cause: ${describeCause(error.cause)}`);
      return error.exitCode;
    }
    ctx.io.stderr.write(
      `${await colourError(ctx, `error: unexpected failure: ${String((error as Error)?.message ?? error).split('\n')[0]}`)}\n`,
    );
    ctx.debug(`stack: ${(error as Error)?.stack ?? ''}`);
    return exitCodeFor('failure');
  }
}

function describeCause(cause: unknown): string {
  const e = cause as { name?: string; code?: string; message?: string };
  return [e?.name, e?.code, e?.message?.split('\n')[0]].filter(Boolean).join(': ');
}
