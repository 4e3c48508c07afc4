import { ExitCode, VaultError } from '../core/errors.js';
import type { Deps } from '../infra/io.js';

function colourError(deps: Deps, text: string): Promise<string> {
  if (!deps.io.stderrIsTTY || deps.env.NO_COLOR !== undefined) return Promise.resolve(text);
  return import('chalk').then((m) => m.default.red(text));
}

function describeCause(cause: unknown): string {
  const e = cause as { name?: string; code?: string; message?: string };
  return [e?.name, e?.code, e?.message?.split('\n')[0]].filter(Boolean).join(': ');
}

/**
 * Reports a failed command on stderr and returns its exit code (SPEC.md "Exit codes"): every
 * error that is not commander's own is mapped here, in one place.
 */
export async function reportFailure(error: unknown, deps: Deps): Promise<number> {
  if (error instanceof VaultError) {
    deps.io.stderr.write(`${await colourError(deps, `error: ${error.message}`)}\n`);
    if (error.cause) deps.debug(`cause: ${describeCause(error.cause)}`);
    return error.exitCode;
  }
  deps.io.stderr.write(`${await colourError(deps, `error: unexpected failure: ${(error as Error)?.message ?? String(error)}`)}\n`);
  deps.debug(`stack: ${(error as Error)?.stack ?? ''}`);
  return ExitCode.failure;
}
