import type { Ports } from '../core/bundle.js';
import type { Config, Provider } from '../core/config/providers.js';
import type { ErrorKind } from '../core/errors.js';
import { debugLogger } from '../infra/debug.js';
import { configFile, lockDir } from '../infra/paths.js';
import type { ConfigAccess, Deps, Io, SecretStore } from '../core/ports.js';

/**
 * What a command's context works with, loaded by `ready()` before the command runs: help, version
 * and usage errors never load the configuration parser, the stores or the lock code.
 */
async function loadParts() {
  const [stores, configFile, providers, names, adapters, io, prompt, keychain] = await Promise.all([
    import('../infra/stores/index.js'),
    import('../infra/config-file.js'),
    import('../core/config/providers.js'),
    import('../core/config/names.js'),
    import('../infra/adapters.js'),
    import('../infra/io.js'),
    import('../infra/prompt.js'),
    import('../infra/stores/keychain-reach.js'),
  ]);
  return { ...stores, ...configFile, ...providers, ...names, ...adapters, ...io, ...prompt, ...keychain };
}
type Parts = Awaited<ReturnType<typeof loadParts>>;

/**
 * How a command ended besides an error: nothing (exit 0), the kind of a failure it has reported
 * itself, or the exit status of a child process it passes on (`vault exec`).
 */
export type Outcome = void | ErrorKind | number;

/** The ports, and what only the command line asks of this process's surroundings. */
export interface CliPorts extends Ports {
  /** The store that VAULT_STORE=`choice` would open (`store migrate --to`). */
  storeAt(choice: string): SecretStore;
  /** Standard input, whole (a client secret piped in). */
  readStdin(): Promise<string>;
  /** Replaces `file` with `text` atomically (a file of another program's, such as docker's config). */
  writeFile(file: string, text: string): void;
  /** Why the OS keychain could not be asked, when an earlier run found it unreachable. */
  keychainNote(): string | undefined;
}

/**
 * Everything a command uses from outside itself, built once per process (main.ts): the streams,
 * clock and environment, the configuration, and the ports (the one factory: a command takes its
 * store, locks, OAuth client and the rest from `ports()`, and builds none of them).
 */
export interface Context extends Deps, ConfigAccess {
  /** Replaced once by `--quiet` (before any command runs). */
  io: Io;
  /** The named provider, else `VAULT_PROVIDER`'s, else the only one configured. */
  provider(name: string | undefined): Provider;
  /** `-a`, else `VAULT_ACCOUNT`, else `default`. */
  account(flag: string | undefined): string;
  /** The store in use, opened on first use (`ports().store`). */
  store(): SecretStore;
  /**
   * Loads what config(), provider(), account() and ports() use. The root's preAction hook awaits
   * it before every command's action, so that `--help` and usage errors never load it.
   */
  ready(): Promise<void>;
  /** Every port, each built on its first use and then kept. */
  ports(): CliPorts;
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

/** Each getter's value, made on first use and then kept. */
function lazily<T extends object>(makers: { [K in keyof T]: () => T[K] }): T {
  const made = new Map<keyof T, unknown>();
  const bundle = {} as T;
  for (const key of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(bundle, key, {
      enumerable: true,
      get: () => {
        if (!made.has(key)) made.set(key, makers[key]());
        return made.get(key);
      },
    });
  }
  return bundle;
}

function buildPorts(ctx: Context, parts: Parts): CliPorts {
  const debug = (message: string) => ctx.debug(message);
  const signals = parts.processSignals(debug);
  return lazily<CliPorts>({
    env: () => ctx.env,
    clock: () => ctx.clock,
    debug: () => debug,
    warn: () => (message: string) => ctx.io.stderr.write(`warning: ${message}\n`),
    store: () => parts.openStore(ctx),
    storeAt: () => (choice: string) => parts.openStore({ ...ctx, env: { ...ctx.env, VAULT_STORE: choice } }),
    locks: () => parts.fileLocks(lockDir(ctx.env), debug),
    signals: () => signals,
    critical: () => signals.hold,
    oauth: () => parts.lazyOAuth(ctx),
    provider: () => (name: string) => parts.getProvider(ctx.config(), name, ctx.configFile),
    interrupts: () => parts.processInterrupts,
    loopback: () => parts.loopbackListener(debug),
    browser: () => ({
      open: async (url, onFailure) => (await import('../infra/browser.js')).openBrowser(url, ctx, onFailure),
    }),
    prompt: () => () => new parts.Prompter(ctx.io.stdin, ctx.io.stderr),
    readStdin: () => () => parts.readStdin(ctx.io.stdin),
    writeFile: () => parts.writeConfigAtomically,
    keychainNote: () => () => parts.unreachableKeychainNote(ctx.env),
  });
}

export function createContext(deps: Deps): Context {
  let log = deps.debug;
  let config: Config | undefined;
  let ports: CliPorts | undefined;
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
      const lock = await ctx.ports().locks.acquire('config');
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
    store: () => ctx.ports().store,
    async ready() {
      parts ??= await loadParts();
    },
    ports: () => (ports ??= buildPorts(ctx, loaded())),
    enableDebug() {
      log = debugLogger(true, ctx.io.stderr);
    },
    outcome: undefined,
  };
  return ctx;
}
