import { cachedAccessToken } from '../core/token-service.js';
import { processIo, writeAllSync, type Deps } from '../infra/io.js';
import { tokenOutput } from './commands/token.js';
import { parseFastToken } from './fast-path.js';

/**
 * The cached-token path, bundled on its own as dist/cached-token.cjs (CommonJS starts faster than
 * the ESM loader, and the bundle holds nothing else): prints the token and resolves true when a
 * plain `vault token` call can be answered from the cache (or VAULT_<NAME>_ACCESS_TOKEN).
 * Anything else — a refresh to do, --debug, an error of any kind — resolves false without output,
 * and the full CLI runs as if this had not been tried (and reports the error, if any).
 */
export async function printCachedToken(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const fast = parseFastToken(argv);
  if (!fast || fast.options.forceRefresh || env.VAULT_DEBUG) return false;
  const deps: Deps = { io: processIo(), env, clock: { now: () => Date.now() }, debug: () => {} };
  let output: string | undefined;
  try {
    output = await tokenOutput(deps, fast.provider, fast.options, cachedAccessToken);
  } catch {
    return false;
  }
  if (output === undefined) return false;
  // Once output has begun there is no falling back: a failed write is the command's failure.
  writeAllSync(1, output);
  return true;
}
