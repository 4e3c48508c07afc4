import { chosenAccount } from '../core/config/names.js';
import { resolveProvider, type Config } from '../core/config/providers.js';
import { cachedAccessToken } from '../core/usecases/get-token.js';
import { passThroughToken } from '../core/credentials.js';
import { loadConfig } from '../infra/config-file.js';
import { configFile, lockDir } from '../infra/paths.js';
import { refreshOrWait } from '../infra/refresh-intent.js';
import { lockName } from '../core/usecases/refresh-lock.js';
import { fastStore } from '../infra/stores/choice.js';
import { processIo, writeAllSync } from '../infra/io.js';
import type { Deps, ProcessReads, SecretStore } from '../core/ports.js';
import type { Answer, Call } from './call.js';

/** The answers a cached-token bundle knows, by command name. */
export type Calls = Record<string, (call: Call, argv: readonly string[]) => Promise<Answer>>;

export function openCall(env: NodeJS.ProcessEnv, reads: ProcessReads): Call {
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
      if (record || store.kind === 'redis') return record;
      // Stale: one process of a storm goes on to refresh, the others wait for its token here.
      const refresher = await refreshOrWait(lockDir(env), lockName(provider.name, account), async () =>
        Boolean(await cached()),
      );
      return refresher ? undefined : cached();
    },
  };
  return call;
}

/**
 * The cached-token path (bundled as dist/cached-token.cjs for `token` and dist/cached-calls.cjs for
 * every call; CommonJS starts faster than the ESM loader, and each bundle holds nothing else):
 * answers the read-only calls of `calls` when a cached token (or VAULT_<NAME>_ACCESS_TOKEN) answers
 * them, and resolves true.
 * Anything else — a refresh to do, --debug, no provider for the host, an error of any kind —
 * resolves without output, and the full CLI runs as if this had not been tried (and reports the
 * error, if any), handed what this path read (config.toml, the file store, stdin) so that it need
 * not read them again.
 */
export async function answerFromCache(
  calls: Calls,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<true | ProcessReads | undefined> {
  const answer = Object.hasOwn(calls, argv[0] ?? '') ? calls[argv[0]!] : undefined;
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
