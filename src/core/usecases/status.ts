import { serverText } from '../server-text.js';
import { suggest } from '../suggest.js';
import { LoginRequiredError, StoreError, loginCommand } from '../errors.js';
import { checkAccountName } from '../config/names.js';
import { getProvider } from '../config/providers.js';
import {
  accessKey,
  ciLogin,
  listLogins,
  loginKey,
  parseRecord,
  readAccess,
  type AccessRecord,
  type LoginRecord,
} from '../credentials.js';
import type { ConfigAccess, SecretStore } from '../ports.js';

export interface StatusDeps extends Pick<ConfigAccess, 'config' | 'configFile'> {
  store: SecretStore;
  /** Where the CI refresh tokens (`VAULT_<NAME>_REFRESH_TOKEN`) are read from. */
  env: NodeJS.ProcessEnv;
  debug(message: string): void;
  /** The clock that judges whether a cached access token is still valid (`state`). */
  now(): number;
  /** A damaged entry: reported, and the listing goes on. */
  warn(message: string): void;
}

export interface StatusFilter {
  provider?: string;
  account?: string;
}

/** One row of `vault status`: what is known about a login, and never a secret. */
export interface AccountStatus {
  provider: string;
  account: string;
  identity: string | null;
  scopes: string[];
  /** The full-grant access token's expiry (ms since the epoch); null when it does not expire or none is cached. */
  expires_at: number | null;
  /** Whether an access token for the full grant is cached at all. */
  access_cached: boolean;
  refresh_token_stored: boolean;
  /** The server refused the stored refresh token (invalid_grant) since the last login. */
  refresh_token_rejected: boolean;
  /** Where the login was found: a store, or `env` for a CI refresh token (core/credentials.ts ciLogin). */
  store: SecretStore['kind'] | 'env';
  /** What the login can do now (see LoginState). */
  state: LoginState;
  /** The entry cannot be read (corrupt, or from a newer vault): the command that removes it. */
  fix?: string;
}

/**
 * What a login can do now, for scripts (`status --json` "state"); a small set that stays stable:
 * - `valid`: a cached access token for the full grant is still valid (or never expires);
 * - `refreshable`: no valid access token, but a refresh token the next call will use;
 * - `rejected`: the server refused the stored refresh token (invalid_grant): log in again;
 * - `login_required`: no valid access token and no refresh token: log in again;
 * - `corrupt`: the entry cannot be read: `fix` names the command that removes it.
 */
export type LoginState = 'valid' | 'refreshable' | 'rejected' | 'login_required' | 'corrupt';

function loginState(row: Omit<AccountStatus, 'state'>, now: number): LoginState {
  if (row.fix) return 'corrupt';
  if (row.refresh_token_rejected) return 'rejected';
  if (row.access_cached && (row.expires_at === null || row.expires_at > now)) return 'valid';
  return row.refresh_token_stored ? 'refreshable' : 'login_required';
}

function logoutCommand(provider: string, account: string): string {
  return suggest(['logout', provider], { account });
}

/** The row of a login entry that cannot be read: one bad entry must not hide the others. */
function unreadableLogin(provider: string, account: string, store: SecretStore['kind']): AccountStatus {
  return {
    provider,
    account,
    identity: null,
    scopes: [],
    expires_at: null,
    access_cached: false,
    refresh_token_stored: false,
    refresh_token_rejected: false,
    store,
    state: 'corrupt',
    fix: logoutCommand(provider, account),
  };
}

function describeLogin(
  provider: string,
  account: string,
  login: LoginRecord,
  access: AccessRecord | undefined,
  store: AccountStatus['store'],
  now: number,
): AccountStatus {
  const row = {
    provider,
    account,
    // Both came from the server: escaped and cut here, so no format can carry an escape sequence or a forged row.
    identity: login.identity === undefined ? null : serverText(login.identity),
    scopes: login.scope.split(/\s+/).filter(Boolean).map(serverText),
    expires_at: access ? access.expires_at : null,
    access_cached: access !== undefined,
    refresh_token_stored: typeof login.refresh_token === 'string' && login.refresh_token !== '',
    refresh_token_rejected: login.rejected_at !== undefined,
    store,
  };
  return { ...row, state: loginState(row, now) };
}

/**
 * Every login in the store, plus the CI refresh tokens of configured providers
 * (`VAULT_<NAME>_REFRESH_TOKEN`, default account) that nothing stored shadows. Reads only: no
 * refresh, no network, so `status` is safe to run anywhere and tells the truth about the cache.
 */
export async function collectStatus(deps: StatusDeps, filter: StatusFilter): Promise<AccountStatus[]> {
  const { store } = deps;
  const ids = await listLogins(store, filter);
  deps.debug(`store: ${ids.length} login(s) found in ${store.kind}${filter.provider ? ` for ${filter.provider}` : ''}`);
  const rows: AccountStatus[] = [];
  for (const id of ids) {
    const key = loginKey(id.provider, id.account);
    // Read first, parse apart: a store that cannot be read (a locked keychain) still fails status.
    const raw = await store.get(key);
    if (raw === null) continue;
    let login: LoginRecord;
    try {
      login = parseRecord<LoginRecord>(raw, store.describe(key), ['obtained_at']);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      deps.warn(error.message);
      rows.push(unreadableLogin(id.provider, id.account, store.kind));
      continue;
    }
    const access = await readAccess(store, accessKey(id.provider, id.account), (m) =>
      deps.warn(`${m}; the next \`${suggest(['token', id.provider], { account: id.account })}\` replaces it`),
    );
    rows.push(describeLogin(id.provider, id.account, login, access, store.kind, deps.now()));
  }
  if (filter.account === undefined || filter.account === 'default') {
    const providers = filter.provider ? [filter.provider] : Object.keys(deps.config().providers);
    for (const provider of providers) {
      if (rows.some((r) => r.provider === provider && r.account === 'default')) continue;
      const login = ciLogin(deps.env, provider);
      if (login) rows.push(describeLogin(provider, 'default', login, undefined, 'env', deps.now()));
    }
  }
  return rows.sort((a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account));
}

/**
 * `vault status [provider] [-a account]`: the rows to show. A named provider must be configured
 * and have a login (else exit 3, with the login command to run). Only an explicit account narrows
 * the list: status is an overview, VAULT_ACCOUNT a default for actions.
 */
export async function status(deps: StatusDeps, provider?: string, accountFlag?: string): Promise<AccountStatus[]> {
  if (provider !== undefined) getProvider(deps.config(), provider, deps.configFile);
  const account = accountFlag === undefined ? undefined : checkAccountName(accountFlag);
  const rows = await collectStatus(deps, { provider, account });
  if (provider !== undefined && rows.length === 0) {
    const who = account === undefined || account === 'default' ? '' : ` as account ${account}`;
    throw new LoginRequiredError(
      `not logged in to ${provider}${who} — run \`${loginCommand(provider, account ?? 'default')}\``,
    );
  }
  return rows;
}
