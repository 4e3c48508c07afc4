import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = NodeJS.ProcessEnv;

function home(env: Env): string {
  return env.HOME || homedir();
}

/** `VAULT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/vault`, else `~/.config/vault`. */
export function configDir(env: Env): string {
  return env.VAULT_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(home(env), '.config'), 'vault');
}

export function configFile(env: Env): string {
  return join(configDir(env), 'config.toml');
}

/** `VAULT_DATA_DIR`, else `$XDG_DATA_HOME/vault`, else `~/.local/share/vault`. */
export function dataDir(env: Env): string {
  return env.VAULT_DATA_DIR || join(env.XDG_DATA_HOME || join(home(env), '.local', 'share'), 'vault');
}

/**
 * Locks live in the per-user runtime directory when there is one, else in the data directory:
 * never under a shared, guessable /tmp name another user could create first.
 */
export function lockDir(env: Env): string {
  if (env.VAULT_DATA_DIR || !env.XDG_RUNTIME_DIR) return join(dataDir(env), 'locks');
  return join(env.XDG_RUNTIME_DIR, 'vault');
}
