import type { ProcessReads } from './core/ports.js';
import { answerFromCache } from './fast-path/run.js';
import { token } from './fast-path/token.js';

/**
 * dist/cached-token.cjs: `vault token` alone, the call scripts make most, in the smallest bundle
 * (every byte of it is read, checked against the code cache and deserialized on every call). The
 * other calls a cached token answers are in dist/cached-calls.cjs (fast-path.ts).
 */
export function printCachedToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<true | ProcessReads | undefined> {
  return answerFromCache({ token }, argv, env);
}
