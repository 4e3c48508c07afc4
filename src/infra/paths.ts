import { createRequire } from 'node:module';
import { join } from 'node:path';

type Env = NodeJS.ProcessEnv;

// node:os is not loaded at start-up and costs the cached-token path a module load on every call:
// it is required only when $HOME is unset.
function home(env: Env): string {
  return env.HOME || (createRequire(import.meta.url)('node:os') as typeof import('node:os')).homedir();
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
 * Locks live beside what they guard: in the data directory, whatever the session's environment.
 * A desktop shell (with XDG_RUNTIME_DIR) and a cron job or SSH session (without it) share one
 * store, so they must share its locks, or both refresh at once and the second one spends a rotated
 * refresh token (RFC 9700 §4.14.2: the server then revokes the login).
 */
export function lockDir(env: Env): string {
  return join(dataDir(env), 'locks');
}
