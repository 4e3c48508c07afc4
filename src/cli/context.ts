import { checkAccountName } from '../core/config/names.js';
import { resolveProvider, type Config, type Provider } from '../core/config/providers.js';
import type { ErrorKind } from '../core/errors.js';
import type { TokenDeps } from '../core/usecases/get-token.js';
import { fileLocks, lazyOAuth, processSignals } from '../infra/adapters.js';
import { loadConfig } from '../infra/config-file.js';
import { debugLogger } from '../infra/debug.js';
import { configFile, lockDir } from '../infra/paths.js';
import type { Browser, ConfigAccess, Deps, Io, Release, SecretStore } from '../ports.js';

type OAuth = typeof import('../infra/oauth/index.js');
type OpenStore = (deps: Deps) => SecretStore;

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
  /**
   * The store in use, opened on first use. Its module is loaded by `ready()` (each command's
   * action awaits it before it runs), so that `--help` and the like never load it.
   */
  store(): SecretStore;
  ready(): Promise<void>;
  /** What the token use case needs, around this context's store. */
  tokenDeps(): TokenDeps;
  /** A per-user lock file beside the store (`config`, a refresh lock, ...). */
  lock(name: string): Promise<Release>;
  /** The OAuth client, loaded on first use: never on the cached-token path. */
  oauth(): Promise<OAuth>;
  browser: Browser;
  /** Turns `--debug` output on (the root's preAction hook). */
  enableDebug(): void;
  /** Set by the command that ran, for the root to turn into the exit status. */
  outcome: Outcome;
}

/** What an earlier reader in this process (the cached-token path) has already read or loaded. */
export interface Seed {
  openStore?: OpenStore;
}

/** A context ready for any command: for in-process callers that run commands without the root. */
export async function openContext(deps: Deps, seed?: Seed): Promise<Context> {
  const ctx = createContext(deps, seed);
  await ctx.ready();
  return ctx;
}

export function createContext(deps: Deps, seed: Seed = {}): Context {
  let log = deps.debug;
  let config: Config | undefined;
  let store: SecretStore | undefined;
  let tokenDeps: TokenDeps | undefined;
  let oauth: Promise<OAuth> | undefined;
  let open = seed.openStore;
  const file = configFile(deps.env);
  const ctx: Context = {
    io: deps.io,
    env: deps.env,
    ...(deps.reads && { reads: deps.reads }),
    clock: deps.clock,
    debug: (message) => log(message),
    configFile: file,
    config: () => (config ??= loadConfig(file, deps.reads)),
    async updateConfig(change) {
      const { renderConfig } = await import('../core/config/render.js');
      const { writeConfigAtomically } = await import('../infra/config-file.js');
      const release = await ctx.lock('config');
      try {
        const fresh = loadConfig(file);
        change(fresh);
        writeConfigAtomically(file, renderConfig(fresh));
        config = fresh;
      } finally {
        await release();
      }
    },
    provider: (name) => resolveProvider(ctx.config(), name, ctx.env, file),
    account: (flag) => checkAccountName(flag ?? ctx.env.VAULT_ACCOUNT ?? 'default'),
    store() {
      if (!open) throw new Error('the store is opened after ready()');
      return (store ??= open(ctx));
    },
    async ready() {
      open ??= (await import('../infra/stores/index.js')).openStore;
    },
    tokenDeps: () =>
      (tokenDeps ??= {
        store: ctx.store(),
        env: ctx.env,
        clock: ctx.clock,
        debug: ctx.debug,
        warn: (m) => ctx.io.stderr.write(`warning: ${m}\n`),
        locks: fileLocks(lockDir(ctx.env), ctx.debug),
        oauth: lazyOAuth(ctx),
        signals: processSignals(ctx.debug),
      }),
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
