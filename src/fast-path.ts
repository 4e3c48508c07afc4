import { chosenAccount } from './core/config/names.js';
import { resolveProvider, type Config } from './core/config/providers.js';
import { cachedAccessToken } from './core/usecases/get-token.js';
import { passThroughToken } from './core/credentials.js';
import { scopeList } from './core/provider-edit.js';
import { loadConfig } from './infra/config-file.js';
import { configFile, lockDir } from './infra/paths.js';
import { refreshOrWait } from './infra/refresh-intent.js';
import { lockName } from './core/usecases/refresh-lock.js';
import { fastStore, storeChoice } from './infra/stores/choice.js';
import { processIo, writeAllSync } from './infra/io.js';
import { GRAMMAR } from './cli/grammar.js';
import { formatToken } from './cli/token-output.js';
import type { TokenOptions } from './cli/commands/token.js';
import type { Deps, ProcessReads, SecretStore } from './core/ports.js';
import { withProvider, type Answer, type Call } from './fast-path/call.js';
import { dockerCredential, env, exec, gitCredential, kubeCredential, readExec } from './fast-path/answers.js';

/** A `vault token` call recognised without commander. */
export interface FastToken {
  provider: string | undefined;
  options: Omit<TokenOptions, 'provider'>;
}

/**
 * Recognises the plain forms of `vault token [provider] [options]`, the call scripts and git make
 * all day, without commander (which alone costs more start-up than the rest of this path), by the
 * options table both read (cli/grammar.ts). Anything else — help, --debug, unknown or repeated
 * options, a missing value, conflicting flags — returns undefined and goes through the full
 * command-line parser, which owns the messages for those cases.
 */
export function parseFastToken(argv: readonly string[]): FastToken | undefined {
  if (argv[0] !== 'token') return undefined;
  return withProvider(GRAMMAR.token, argv.slice(1)) as FastToken | undefined;
}

function openCall(env: NodeJS.ProcessEnv, reads: ProcessReads): Call {
  const deps: Deps = { io: processIo(), env, clock: { now: () => Date.now() }, debug: () => {}, reads };
  const file = configFile(env);
  let store: SecretStore | undefined;
  let config: Config | undefined;
  const call: Call = {
    env,
    reads,
    now: () => Date.now(),
    config: () => (config ??= loadConfig(file, reads)),
    provider: (name) => resolveProvider(call.config(), name, env, file),
    account: (flag) => chosenAccount(flag, env),
    async token(provider, account, minValid, scopes) {
      const passed = passThroughToken(env, provider.name, Date.now());
      if (passed) return passed;
      // The store's light reader (StoreKind.fast): a fleet runner reads its local sealed copy
      // (fleet-cache.ts), since the fleet store's client is not part of this bundle.
      store ??= fastStore(deps);
      if (!store) return undefined;
      const request = { provider, account, scopes, minValid };
      const cached = () => cachedAccessToken(request, { store: store!, clock: deps.clock });
      const record = await cached();
      // A fleet's waiters wait on the lease in Redis, and end their wait on the holder's record (get-token.ts).
      if (record || storeChoice(env) === 'redis') return record;
      // Stale: one process of a storm goes on to refresh, the others wait for its token here.
      const refresher = await refreshOrWait(lockDir(env), lockName(provider.name, account), async () =>
        Boolean(await cached()),
      );
      return refresher ? undefined : cached();
    },
  };
  return call;
}

async function token(call: Call, argv: readonly string[]): Promise<Answer> {
  const fast = parseFastToken(argv);
  if (!fast || fast.options.forceRefresh) return undefined;
  const provider = call.provider(fast.provider);
  const account = call.account(fast.options.account);
  const record = await call.token(provider, account, fast.options.minValid, scopeList(fast.options.scope));
  return record && { stdout: formatToken(record, fast.options, provider.name, account, call.now()) };
}

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

const CALLS: Record<string, (call: Call, argv: readonly string[]) => Promise<Answer>> = {
  token,
  'git-credential': gitCredential,
  'docker-credential': dockerCredential,
  'kube-credential': kubeCredential,
  env,
  exec,
};

/**
 * The cached-token path, bundled on its own as dist/cached-token.cjs (CommonJS starts faster than
 * the ESM loader, and the bundle holds nothing else): answers the read-only calls other programs
 * make all day — `token`, `git-credential get`, `docker-credential get`, `kube-credential`, `env`,
 * `exec` — when a cached token (or VAULT_<NAME>_ACCESS_TOKEN) answers them, and resolves true.
 * Anything else — a refresh to do, --debug, no provider for the host, an error of any kind —
 * resolves without output, and the full CLI runs as if this had not been tried (and reports the
 * error, if any), handed what this path read (config.toml, the file store, stdin) so that it need
 * not read them again.
 */
export async function printCachedToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<true | ProcessReads | undefined> {
  const answer = CALLS[argv[0] ?? ''];
  if (!answer || env.VAULT_DEBUG) return undefined;
  const reads: ProcessReads = {};
  let result: Answer;
  try {
    result = await answer(openCall(env, reads), argv);
  } catch {
    return reads;
  }
  if (result === undefined) return reads;
  if ('exitCode' in result) {
    process.exitCode = result.exitCode;
    return true;
  }
  // Once output has begun there is no falling back: a failed write is the command's failure,
  // except a reader that went away (`vault token acme | head -c 10`), which ends quietly.
  try {
    writeAllSync(1, result.stdout);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    return true;
  }
  await result.after?.();
  return true;
}
