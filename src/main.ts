import { exitCodeFor, run } from './cli/root.js';
import { debugLogger } from './infra/debug.js';
import { processIo } from './infra/io.js';
import type { Deps, ProcessReads } from './ports.js';

/** Whether `--debug` is among the global flags (before any `--`, which starts a child's argv). */
function wantsDebug(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (env.VAULT_DEBUG === '1' || env.VAULT_DEBUG === 'true') return true;
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--debug');
}

/** `reads`: what the cached-token path read before it handed over (see ProcessReads). */
export async function main(argv: string[], reads: ProcessReads = {}): Promise<void> {
  const io = processIo();
  const deps: Deps = {
    io,
    env: process.env,
    clock: { now: () => Date.now() },
    debug: debugLogger(wantsDebug(argv, process.env), io.stderr),
    reads,
  };
  // A reader that went away (`vault --help | head -1`) ends the command quietly, as it does for
  // cat or grep; any other failure is one line, never a stack trace (that is for --debug).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    fatal(deps, error);
  });
  process.on('uncaughtException', (error) => fatal(deps, error));
  process.on('unhandledRejection', (error) => fatal(deps, error));
  process.exitCode = await run(argv, deps);
}

function fatal(deps: Deps, error: unknown): never {
  const e = error as Error | undefined;
  deps.debug(`stack: ${e?.stack ?? String(error)}`);
  process.stderr.write(`error: unexpected failure: ${String(e?.message ?? error).split('\n')[0]}\n`);
  process.exit(exitCodeFor('failure'));
}
