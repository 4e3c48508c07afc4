import type { ProcessReads } from './core/ports.js';
import { GRAMMAR } from './cli/grammar.js';
import { withProvider } from './fast-path/call.js';
import { answerFromCache, openCall, type Calls } from './fast-path/run.js';
import { token } from './fast-path/token.js';
import { dockerCredential, env, exec, gitCredential, kubeCredential, readExec } from './fast-path/answers.js';

export { parseFastToken, type FastToken } from './fast-path/token.js';

/**
 * For tests: what the cached-token path makes of `vault <name> <args>` with the configuration in
 * `configDir`, in the shape commander hands the command's action ([provider, options], or exec's
 * [provider, command, options]), or undefined when it leaves the call to commander.
 */
export function fastCommandLine(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  configDir: string,
): unknown[] | undefined {
  const call = openCall({ ...env, VAULT_CONFIG_DIR: configDir }, {});
  if (name === 'exec') return readExec(call, args);
  const grammar =
    name === 'env' ? GRAMMAR.env : name === 'kube-credential' ? GRAMMAR['kube-credential'] : GRAMMAR.token;
  const read = withProvider(grammar, args);
  return read && [read.provider, read.options];
}

const CALLS: Calls = {
  token,
  'git-credential': gitCredential,
  'docker-credential': dockerCredential,
  'kube-credential': kubeCredential,
  env,
  exec,
};

/**
 * dist/cached-calls.cjs: every read-only call other programs make all day — `token`,
 * `git-credential get`, `docker-credential get`, `kube-credential`, `env`, `exec` — answered from a
 * cached token when one answers it (fast-path/run.ts); `vault token` itself is served by the
 * smaller dist/cached-token.cjs (cached-token.ts).
 */
export function printCachedToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<true | ProcessReads | undefined> {
  return answerFromCache(CALLS, argv, env);
}
