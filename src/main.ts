import { run } from './cli/program.js';
import { debugLogger } from './infra/debug.js';
import { processIo, type Deps } from './infra/io.js';

/** Whether `--debug` is among the global flags (before any `--`, which starts a child's argv). */
function wantsDebug(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (env.VAULT_DEBUG === '1' || env.VAULT_DEBUG === 'true') return true;
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--debug');
}

export async function main(argv: string[]): Promise<void> {
  const io = processIo();
  const deps: Deps = {
    io,
    env: process.env,
    clock: { now: () => Date.now() },
    debug: debugLogger(wantsDebug(argv, process.env), io.stderr),
  };
  process.exitCode = await run(argv, deps);
}
