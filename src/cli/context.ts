import type { Config, Provider } from '../core/config/providers.js';
import type { ErrorKind } from '../core/errors.js';
import type { TokenDeps } from '../core/usecases/get-token.js';
import { debugLogger } from '../infra/debug.js';
import { configFile, lockDir } from '../infra/paths.js';
import type { Browser, ConfigAccess, Deps, Io, Lock, SecretStore } from '../core/ports.js';

type OAuth = typeof import('../infra/oauth/index.js');

/**
 * What a command's context works with, loaded by `ready()` before the command runs: help, version
 * and usage errors never load the configuration parser, the stores or the lock code.
 */
async function loadParts() {
  const [stores, configFile, providers, names, adapters] = await Promise.all([
    import('../infra/stores/index.js'),
    import('../infra/config-file.js'),
    import('../core/config/providers.js'),
    import('../core/config/names.js'),
    import('../infra/adapters.js'),
  ]);
  return { ...stores, ...configFile, ...providers, ...names, ...adapters };
}
type Parts = Awaited<ReturnType<typeof loadParts>>;

/**
 * How a command ended besides an error: nothing (exit 0), the kind of a failure it has reported
 * itself, or the exit status of a child process it passes on (`vault exec`).
 */
export type Outcome = void | ErrorKind | number;

/**
 * Everything a command uses from outside itself, built once per process (main.ts): the streams,
 * clock and environment, and the configuration, store, locks and OAuth client, each made on first
 * use and then kept, so one command reads config.toml once and opens one store.
 */
export interface Context extends Deps, ConfigAccess {
  /** Replaced once by `--quiet` (before any command runs). */
  io: Io;
  /** The named provider, else `VAULT_PROVIDER`'s, else the only one configured. */
  provider(name: string | undefined): Provider;
  /** `-a`, else `VAULT_ACCOUNT`, else `default`. */
  account(flag: string | undefined): string;
  /** The store in use, opened on first use. */
  store(): SecretStore;
  /**
   * Loads what config(), provider(), account(), store() and tokenDeps() use: each command's action
   * awaits it before it runs, so that `--help` and the like never load it.
   */
  ready(): Promise<void>;
  /** What the token use case needs, around this context's store. */
  tokenDeps(): TokenDeps;
  /** A per-user lock file beside the store (`config`, a refresh lock, ...). */
  lock(name: string): Promise<Lock>;
  /** The OAuth client, loaded on first use: never on the cached-token path. */
  oauth(): Promise<OAuth>;
  browser: Browser;
  /** Turns `--debug` output on (the root's preAction hook). */
  enableDebug(): void;
  /** Set by the command that ran, for the root to turn into the exit status. */
  outcome: Outcome;
}

/** A context ready for any command: for in-process callers that run commands without the root. */
export async function openContext(deps: Deps): Promise<Context> {
  const ctx = createContext(deps);
  await ctx.ready();
  return ctx;
}

export function createContext(deps: Deps): Context {
  let log = deps.debug;
  let config: Config | undefined;
  let store: SecretStore | undefined;
  let tokenDeps: TokenDeps | undefined;
  let oauth: Promise<OAuth> | undefined;
  let parts: Parts | undefined;
  const loaded = (): Parts => {
    if (!parts) throw new Error('the context is used before ready()');
    return parts;
  };
  const file = configFile(deps.env);
  const ctx: Context = {
    io: deps.io,
    env: deps.env,
    ...(deps.reads && { reads: deps.reads }),
    clock: deps.clock,
    debug: (message) => log(message),
    configFile: file,
    config: () => (config ??= loaded().loadConfig(file, deps.reads)),
    async updateConfig(change) {
      const { renderConfig } = await import('../core/config/render.js');
      const { loadConfig, writeConfigAtomically } = loaded();
      const lock = await ctx.lock('config');
      try {
        const fresh = loadConfig(file);
        change(fresh);
        writeConfigAtomically(file, renderConfig(fresh));
        config = fresh;
      } finally {
        await lock.release();
      }
    },
    provider: (name) => loaded().resolveProvider(ctx.config(), name, ctx.env, file),
    account: (flag) => loaded().chosenAccount(flag, ctx.env),
    store: () => (store ??= loaded().openStore(ctx)),
    async ready() {
      parts ??= await loadParts();
    },
    tokenDeps: () => {
      const { fileLocks, lazyOAuth, processSignals } = loaded();
      return (tokenDeps ??= {
        store: ctx.store(),
        env: ctx.env,
        clock: ctx.clock,
        debug: ctx.debug,
        warn: (m) => ctx.io.stderr.write(`warning: ${m}\n`),
        locks: fileLocks(lockDir(ctx.env), ctx.debug),
        oauth: lazyOAuth(ctx),
        signals: processSignals(ctx.debug),
        provider: (name) => loaded().getProvider(ctx.config(), name, file),
      });
    },
    lock: async (name) => (await import('../infra/lock.js')).acquireLock(lockDir(ctx.env), name, { debug: ctx.debug }),
    oauth: () => (oauth ??= import('../infra/oauth/index.js')),
    browser: { open: async (url, onFailure) => (await import('../infra/browser.js')).openBrowser(url, ctx, onFailure) },
    enableDebug() {
      log = debugLogger(true, ctx.io.stderr);
    },
    outcome: undefined,
  };
  return ctx;
}
