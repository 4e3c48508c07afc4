import { serverText } from '../../core/server-text.js';
import { TemporaryError, VaultError } from '../../core/errors.js';
import { checkProviderName } from '../../core/config/names.js';
import { type Provider } from '../../core/config/providers.js';
import { loadConfig } from '../../infra/config-file.js';
import { readClientSecret } from '../../core/usecases/client-secret.js';
import { refreshLock } from '../../core/usecases/refresh-lock.js';
import { fileLocks } from '../../infra/adapters.js';
import { accessPrefix, loginKey, parseRecord, type LoginRecord } from '../../core/credentials.js';
import { configFile, lockDir } from '../../infra/paths.js';
import { holdSignals } from '../../infra/signals.js';
import { openStore } from '../../infra/stores/index.js';
import type { SecretStore } from '../../ports.js';
import { unreachableKeychainNote } from '../../infra/stores/keychain-reach.js';
import { accountOf, loadProvider } from '../context.js';
import type { Deps } from '../../ports.js';

export interface LogoutOptions {
  account?: string;
  /** false with --no-revoke */
  revoke: boolean;
}

/** What became of the credential at the provider. */
type Revocation = { done: true; what: string } | { done: false; reason: string } | { done: false; failure: unknown };

/**
 * RFC 7009 §2.1: revokes the login's long-lived credential (the refresh token, or a non-expiring
 * access token). Revoking a refresh token also ends the access tokens of its grant at servers that
 * support it (§2.1, "SHOULD"). Never throws: a failure is returned, so the local data still goes.
 */
async function revokeAtProvider(
  deps: Deps,
  store: SecretStore,
  provider: Provider,
  login: LoginRecord,
): Promise<Revocation> {
  const token = login.refresh_token ?? login.access_token;
  if (!token) return { done: false, reason: 'no token to revoke was stored' };
  try {
    const oauth = await import('../../infra/oauth/index.js');
    const secret = await readClientSecret(store, deps.env, provider.name);
    const config = await oauth.configure(provider, secret, deps);
    if (!config.serverMetadata().revocation_endpoint)
      return { done: false, reason: `${provider.name} has no revocation endpoint` };
    const hint = login.refresh_token ? 'refresh_token' : 'access_token';
    deps.debug(`revocation: ${provider.name} ${hint} at ${config.serverMetadata().revocation_endpoint}`);
    await oauth.revoke(config, provider, token, hint);
    return { done: true, what: hint.replace('_', ' ') };
  } catch (failure) {
    return { done: false, failure };
  }
}

/** The stored login, or why it cannot be read: a corrupt entry must not stand in the way of removing it. */
async function readForLogout(
  store: SecretStore,
  key: string,
): Promise<{ login?: LoginRecord; unreadable?: string; present: boolean }> {
  const raw = await store.get(key);
  if (raw === null) return { present: false };
  try {
    return { present: true, login: parseRecord<LoginRecord>(raw, store.describe(key), ['obtained_at']) };
  } catch (error) {
    return { present: true, unreadable: (error as Error).message };
  }
}

/** Revokes (unless told not to), deletes the entries, and reports what became of both. */
async function removeLogin(
  deps: Deps,
  store: SecretStore,
  name: string,
  provider: Provider | undefined,
  who: string,
  opts: LogoutOptions,
  stored: Awaited<ReturnType<typeof readForLogout>>,
  keys: string[],
): Promise<number> {
  let revocation: Revocation;
  if (!opts.revoke) revocation = { done: false, reason: '--no-revoke' };
  else if (!provider)
    revocation = { done: false, reason: `${name} is no longer configured, so its revocation endpoint is unknown` };
  else if (stored.login) revocation = await revokeAtProvider(deps, store, provider, stored.login);
  else revocation = { done: false, reason: stored.unreadable ?? 'no login record, only cached access tokens' };
  let removed = 0;
  for (const k of keys) {
    const deleted = await store.delete(k);
    if (deleted) removed++;
    deps.debug(`store: ${deleted ? 'deleted' : 'no entry'} ${k} in ${store.kind}`);
  }
  const as = stored.login?.identity ? ` as ${serverText(stored.login.identity)}` : '';
  if (revocation.done) {
    deps.io.stderr.write(`Revoked the ${revocation.what} at ${name}.\n`);
  } else if ('reason' in revocation) {
    deps.io.stderr.write(`not revoked: ${revocation.reason}\n`);
  }
  deps.io.stderr.write(
    `Logged out of ${who}${as}: removed ${removed} entr${removed === 1 ? 'y' : 'ies'} from ${store.location}.\n`,
  );
  if ('failure' in revocation) {
    const { describe } = await import('../../infra/oauth/index.js');
    const failure =
      revocation.failure instanceof VaultError && revocation.failure.cause !== undefined
        ? revocation.failure.cause
        : revocation.failure;
    // RFC 7009 §2.2.1: after a failed revocation (503 included) the token must be assumed to be still valid.
    throw new TemporaryError(
      `revocation at ${name} failed: ${describe(failure)}; the local login is removed, but the refresh token may stay valid at ${name} until it expires (revoke it in the provider's account settings)`,
      { cause: revocation.failure },
    );
  }
  return 0;
}

/**
 * A provider named on the command line that config.toml no longer has (removed by hand, or by
 * `provider remove` while a login was in progress) may still have entries in the store: logout
 * must be able to remove them, or they would stay there for good.
 */
function unconfigured(deps: Deps, providerName: string | undefined): providerName is string {
  return (
    providerName !== undefined &&
    loadConfig(configFile(deps.env)).providers[checkProviderName(providerName)] === undefined
  );
}

export async function run(deps: Deps, providerName: string | undefined, opts: LogoutOptions): Promise<number> {
  const provider = unconfigured(deps, providerName) ? undefined : loadProvider(deps, providerName);
  const name = provider?.name ?? providerName!;
  const account = accountOf(deps, opts.account);
  const who = account === 'default' ? name : `${name} (account ${account})`;
  const store = openStore(deps);
  // Under the refresh lock: a concurrent `vault token` must neither rotate the refresh token
  // between our read and its revocation nor write a fresh access token after we deleted them.
  const release = await refreshLock({ store, locks: fileLocks(lockDir(deps.env), deps.debug) }, name, account);
  try {
    const key = loginKey(name, account);
    const stored = await readForLogout(store, key);
    const cached = await store.keys(accessPrefix(name, account));
    if (!stored.present && cached.length === 0) {
      // Nothing stored under a name nobody configured: the usual unknown-provider error (exit 2).
      if (!provider) loadProvider(deps, providerName);
      const unreachable = unreachableKeychainNote(deps.env);
      deps.io.stderr.write(`Not logged in to ${who}: nothing to remove.${unreachable ? ` But ${unreachable}.` : ''}\n`);
      return 0;
    }
    // A signal waits until the entries are gone (see holdSignals): a login revoked at the provider
    // but left in the store would only fail later, with a message about a rejected token.
    if (!provider) deps.io.stderr.write(`note: ${name} is not configured (any more); removing what is stored for it\n`);
    return await holdSignals(
      `the login to ${who} was removed`,
      () => removeLogin(deps, store, name, provider, who, opts, stored, [key, ...cached]),
      deps.debug,
    );
  } finally {
    await release();
  }
}
