import { join } from 'node:path';
import { KeychainUnavailableError, UsageError } from '../../core/errors.js';
import { AccessFileCache, runtimeAccessDir } from './access-cache.js';
import { CachedKeychain } from './cached-keychain.js';
import { dataDir } from '../paths.js';
import { FileStore } from './file-store.js';
import { keychainUnreachable } from './keychain-reach.js';
import { KeyringStore } from './keyring-store.js';
import type { Deps, SecretStore, StoreEntry } from '../../core/ports.js';

export function keyringService(env: NodeJS.ProcessEnv): string {
  return env.VAULT_KEYRING_SERVICE || 'vault';
}

export function fileStore(deps: Deps): FileStore {
  const { env } = deps;
  return new FileStore(join(dataDir(env), 'credentials.json'), {
    passphrase: env.VAULT_FILE_PASSPHRASE || undefined,
    warn: (m) => deps.io.stderr.write(`warning: ${m}\n`),
    debug: deps.debug,
    reads: deps.reads,
  });
}

/**
 * `VAULT_ACCESS_CACHE`: where the keychain store keeps access tokens on Linux — `runtime` (the
 * default: files in `$XDG_RUNTIME_DIR/vault/access` when that directory is safe) or `store`
 * (the keychain itself).
 */
function accessCacheChoice(env: NodeJS.ProcessEnv): 'runtime' | 'store' {
  const choice = env.VAULT_ACCESS_CACHE || 'runtime';
  if (choice === 'runtime' || choice === 'store') return choice;
  throw new UsageError(`invalid VAULT_ACCESS_CACHE ${JSON.stringify(choice)}: use runtime or store`);
}

/**
 * The OS keychain, with access tokens in the runtime directory where that is safe (Linux, see
 * access-cache.ts), unless `VAULT_ACCESS_CACHE=store`.
 */
export function keychainStore(env: NodeJS.ProcessEnv): SecretStore {
  const keyring = new KeyringStore(keyringService(env));
  const useFiles = accessCacheChoice(env) === 'runtime';
  const dir = runtimeAccessDir(env);
  return dir ? new CachedKeychain(keyring, new AccessFileCache(dir), useFiles) : keyring;
}

/**
 * `auto`: the OS keychain when it answers, else the file store. The choice is made on the first
 * operation, so the hot path pays for one keychain call, not a probe plus a call. A *locked*
 * keychain is never a reason to fall back: that would scatter one login over two stores.
 */
class AutoStore implements SecretStore {
  readonly #keyring: SecretStore;
  readonly #deps: Deps;
  #chosen: SecretStore | undefined;
  #warned = false;

  constructor(deps: Deps) {
    this.#deps = deps;
    this.#keyring = keychainStore(deps.env);
    // Without a session bus there is no Secret Service to ask (Linux); don't pay for the attempt.
    if (process.platform === 'linux' && !deps.env.DBUS_SESSION_BUS_ADDRESS) {
      keychainUnreachable('DBUS_SESSION_BUS_ADDRESS is unset: no D-Bus session, as under SSH or cron');
      this.#chosen = fileStore(deps);
    }
  }

  get kind() {
    return (this.#chosen ?? this.#keyring).kind;
  }

  get location() {
    return (this.#chosen ?? this.#keyring).location;
  }

  async #run<T>(op: (store: SecretStore) => Promise<T>, writing: boolean): Promise<T> {
    if (!this.#chosen) {
      try {
        const result = await op(this.#keyring);
        this.#chosen = this.#keyring;
        return result;
      } catch (error) {
        if (!(error instanceof KeychainUnavailableError)) throw error;
        this.#deps.debug('store: no OS keychain, using the file store');
        keychainUnreachable(
          process.platform === 'linux' ? 'no Secret Service on the D-Bus session bus' : 'no keychain service answered',
        );
        this.#chosen = fileStore(this.#deps);
      }
    }
    if (writing && this.#chosen.kind === 'file' && !this.#warned) {
      this.#warned = true;
      this.#deps.io.stderr.write(
        `warning: no OS keychain available; secrets are kept in ${this.#chosen.location} (set VAULT_STORE=file to silence this)\n`,
      );
    }
    return op(this.#chosen);
  }

  get(key: string) {
    // An access token in the runtime directory was put there by a vault that used the keychain:
    // it is answered without asking the keychain, and without choosing it (a miss goes on to
    // read the login, which makes the choice).
    if (!this.#chosen && this.#keyring instanceof CachedKeychain && this.#keyring.inFiles(key))
      return this.#keyring.get(key);
    return this.#run((s) => s.get(key), false);
  }
  set(key: string, value: string) {
    return this.#run((s) => s.set(key, value), true);
  }
  commit(entries: readonly StoreEntry[]) {
    return this.#run(
      (s) => s.commit(entries),
      entries.some((e) => e.value !== null),
    );
  }
  /** The chosen store's probe: by the time a write is to be proven, a read has made the choice. */
  get probe() {
    const chosen = this.#chosen;
    return chosen?.probe && (() => this.#run((s) => s.probe!(), true));
  }
  delete(key: string) {
    return this.#run((s) => s.delete(key), false);
  }
  keys(prefix: string) {
    return this.#run((s) => s.keys(prefix), false);
  }
  describe(key: string) {
    return (this.#chosen ?? this.#keyring).describe(key);
  }
}

/** `auto` (VAULT_STORE unset): the OS keychain when it answers, else the file store (see AutoStore). */
export function autoStore(deps: Deps): SecretStore {
  return new AutoStore(deps);
}
