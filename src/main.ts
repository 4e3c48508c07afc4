import { createContext, type Context } from './cli/context.js';
import { exitCodeFor, run } from './cli/root.js';
import { processIo } from './infra/io.js';
import type { ProcessReads } from './core/ports.js';

/** The full CLI. `reads`: what the cached-token path read before it handed over (see ProcessReads). */
export async function main(argv: string[], reads: ProcessReads = {}): Promise<void> {
  const ctx = createContext({
    io: processIo(reads.stdin),
    env: process.env,
    clock: { now: () => Date.now() },
    debug: () => {},
    reads,
  });
  // A reader that went away (`vault --help | head -1`) ends the command quietly, as it does for
  // cat or grep; any other failure is one line, never a stack trace (that is for --debug).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    fatal(ctx, error);
  });
  process.on('uncaughtException', (error) => fatal(ctx, error));
  process.on('unhandledRejection', (error) => fatal(ctx, error));
  process.exitCode = await run(argv, ctx);
}

function fatal(ctx: Context, error: unknown): never {
  const e = error as Error | undefined;
  ctx.debug(`stack: ${e?.stack ?? String(error)}`);
  process.stderr.write(`error: unexpected failure: ${String(e?.message ?? error).split('\n')[0]}\n`);
  process.exit(exitCodeFor('failure'));
}
