import { ciAccessVariable } from '../credentials.js';

/**
 * Set by `vault exec` in the child's environment: the providers whose tokens it was given,
 * comma-separated. Like aws-vault's AWS_VAULT, it lets a nested `vault exec` notice that it would
 * overwrite the outer token with another one, which is usually a mistake in a script.
 */
export const EXEC_PROVIDERS_VAR = 'VAULT_EXEC_PROVIDERS';

/** The providers an enclosing `vault exec` already put into this environment. */
export function execProviders(env: NodeJS.ProcessEnv): string[] {
  return (env[EXEC_PROVIDERS_VAR] ?? '').split(',').filter(Boolean);
}

export interface ChildEnvRequest {
  provider: string;
  /** The variables to set; already validated env names. */
  names: readonly string[];
  token: string;
  /** Further variables to set (a token file's path, a metadata endpoint's address). */
  set?: Readonly<Record<string, string>>;
  /** Inherited variables to drop because they would shadow what vault provides. */
  unset?: readonly string[];
}

/** Keys that unlock a whole store: every login in it, not one access token. */
const STORE_KEYS = ['VAULT_FILE_PASSPHRASE', 'VAULT_STORE_KEY'];

/**
 * The environment without vault's long-lived secrets, for any process vault starts (a command,
 * the browser). A CI refresh token or a client secret is for refreshing, and a store's key
 * (VAULT_FILE_PASSPHRASE, VAULT_STORE_KEY) opens every login: the tools vault runs get an access
 * token and nothing that outlives it.
 */
export function withoutVaultSecrets(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (name === 'VAULT_CLIENT_SECRET' || STORE_KEYS.includes(name) || /^VAULT_.+_REFRESH_TOKEN$/.test(name)) continue;
    env[name] = value;
  }
  return env;
}

/**
 * The child's environment: the parent's without vault's long-lived secrets, plus each name set to
 * the token and the provider added to VAULT_EXEC_PROVIDERS. The token travels only in the environment, never in argv, where every
 * user of the machine could read it (/proc/<pid>/cmdline, `ps`).
 */
export function childEnv(parent: NodeJS.ProcessEnv, request: ChildEnvRequest): NodeJS.ProcessEnv {
  const env = withoutVaultSecrets(parent);
  for (const name of request.unset ?? []) delete env[name];
  for (const name of request.names) env[name] = request.token;
  // Without the store's key a nested `vault token <same provider>` could not read the store: it
  // gets this access token through the CI pass-through instead (other providers need the key).
  if (STORE_KEYS.some((k) => parent[k])) env[ciAccessVariable(request.provider)] = request.token;
  Object.assign(env, request.set);
  const providers = execProviders(parent);
  if (!providers.includes(request.provider)) providers.push(request.provider);
  env[EXEC_PROVIDERS_VAR] = providers.join(',');
  return env;
}

/** Shell convention for a child that died of signal N (POSIX `$?`, aws-vault, sudo). */
export function exitCodeOf(
  code: number | null,
  signal: NodeJS.Signals | null,
  signalNumbers: Readonly<Record<string, number>>,
): number {
  if (code !== null) return code;
  const n = signal ? signalNumbers[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}
