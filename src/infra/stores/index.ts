import { storeChoice } from './choice.js';
import { openLocalStore } from './local.js';
import type { Deps, SecretStore } from '../../core/ports.js';
import { RedisStore, redisStoreOptions } from './redis-store.js';

export { fileStore, keychainStore, keyringService } from './local.js';

/** The store chosen by `VAULT_STORE` (`auto`, `keychain`, `file` or a redis URL). */
export function openStore(deps: Deps): SecretStore {
  const choice = storeChoice(deps.env);
  return choice === 'redis'
    ? new RedisStore(redisStoreOptions(deps.env, deps.debug, (m) => deps.io.stderr.write(`warning: ${m}\n`)))
    : openLocalStore(deps, choice);
}
