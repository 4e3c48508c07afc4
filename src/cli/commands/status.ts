import { serverText } from '../../core/server-text.js';
import { LoginRequiredError, StoreError, loginCommand } from '../../core/errors.js';
import { checkAccountName } from '../../core/config/names.js';
import { getProvider } from '../../core/config/providers.js';
import { loadConfig } from '../../infra/config-file.js';
import { isoTime } from '../../core/token-set.js';
import {
  CI_SOURCE,
  accessKey,
  ciLogin,
  listLogins,
  loginKey,
  parseRecord,
  readAccess,
  type AccessRecord,
  type LoginRecord,
} from '../../core/credentials.js';
import { configFile } from '../../infra/paths.js';
import { openStore } from '../../infra/stores/index.js';
import type { SecretStore } from '../../ports.js';
import { unreachableKeychainNote } from '../../infra/stores/keychain-reach.js';
import type { Deps } from '../../ports.js';

export interface StatusOptions {
  account?: string;
  json?: boolean;
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
  /** The entry cannot be read (corrupt, or from a newer vault): the command that removes it. */
  fix?: string;
}

function logoutCommand(provider: string, account: string): string {
  return account === 'default' ? `vault logout ${provider}` : `vault logout ${provider} -a ${account}`;
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
    fix: logoutCommand(provider, account),
  };
}

function describeLogin(
  provider: string,
  account: string,
  login: LoginRecord,
  access: AccessRecord | undefined,
  store: AccountStatus['store'],
): AccountStatus {
  return {
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
}

/**
 * Every login in the store, plus the CI refresh tokens of configured providers
 * (`VAULT_<NAME>_REFRESH_TOKEN`, default account) that nothing stored shadows. Reads only: no
 * refresh, no network, so `status` is safe to run anywhere and tells the truth about the cache.
 */
export async function collectStatus(
  deps: Deps,
  filter: { provider?: string; account?: string },
  store = openStore(deps),
): Promise<AccountStatus[]> {
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
      deps.io.stderr.write(`warning: ${error.message}\n`);
      rows.push(unreadableLogin(id.provider, id.account, store.kind));
      continue;
    }
    const access = await readAccess(store, accessKey(id.provider, id.account), (m) =>
      deps.io.stderr.write(`warning: ${m}; the next \`vault token ${id.provider}\` replaces it\n`),
    );
    rows.push(describeLogin(id.provider, id.account, login, access, store.kind));
  }
  if (filter.account === undefined || filter.account === 'default') {
    const providers = filter.provider ? [filter.provider] : Object.keys(loadConfig(configFile(deps.env)).providers);
    for (const provider of providers) {
      if (rows.some((r) => r.provider === provider && r.account === 'default')) continue;
      const login = ciLogin(deps.env, provider);
      if (login) rows.push(describeLogin(provider, 'default', login, undefined, 'env'));
    }
  }
  return rows.sort((a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account));
}

/** "expires in 42m", "expired", "no expiry" or "none cached", relative to `now`. */
export function describeExpiry(row: AccountStatus, now: number): string {
  if (row.fix) return '-';
  if (!row.access_cached) return 'none cached';
  if (row.expires_at === null) return 'no expiry';
  const left = Math.floor((row.expires_at - now) / 1000);
  if (left <= 0) return 'expired';
  if (left < 60) return `expires in ${left}s`;
  if (left < 3600) return `expires in ${Math.floor(left / 60)}m`;
  if (left < 48 * 3600) return `expires in ${Math.floor(left / 3600)}h ${Math.floor((left % 3600) / 60)}m`;
  return `expires in ${Math.floor(left / 86400)}d`;
}

export function formatTable(rows: AccountStatus[], now: number): string {
  const header = ['PROVIDER', 'ACCOUNT', 'IDENTITY', 'SCOPES', 'ACCESS TOKEN', 'REFRESH TOKEN', 'STORE'];
  const lines = rows.map((r) => [
    r.provider,
    r.account,
    r.identity ?? '-',
    r.scopes.join(' ') || '-',
    describeExpiry(r, now),
    r.fix ? `corrupt: run \`${r.fix}\`` : r.refresh_token_rejected ? 'rejected' : r.refresh_token_stored ? 'yes' : 'no',
    r.store,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return (
    [header, ...lines]
      .map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
      .join('\n') + '\n'
  );
}

export function formatJson(rows: AccountStatus[]): string {
  return `${JSON.stringify({
    accounts: rows.map((r) => ({
      provider: r.provider,
      account: r.account,
      identity: r.identity,
      scopes: r.scopes,
      expires_at: r.expires_at === null ? null : isoTime(r.expires_at),
      refresh_token_stored: r.refresh_token_stored,
      store: r.store,
      ...(r.fix && { corrupt: true, fix: r.fix }),
    })),
  })}\n`;
}

export async function run(deps: Deps, providerName: string | undefined, opts: StatusOptions): Promise<number> {
  if (providerName !== undefined) {
    const file = configFile(deps.env);
    getProvider(loadConfig(file), providerName, file);
  }
  // Only an explicit -a narrows the list: status is an overview, VAULT_ACCOUNT a default for actions.
  const account = opts.account === undefined ? undefined : checkAccountName(opts.account);
  const store = openStore(deps);
  const rows = await collectStatus(deps, { provider: providerName, account }, store);
  if (providerName !== undefined && rows.length === 0) {
    const who = account === undefined || account === 'default' ? '' : ` as account ${account}`;
    throw new LoginRequiredError(
      `not logged in to ${providerName}${who} — run \`${loginCommand(providerName, account ?? 'default')}\``,
    );
  }
  const unreachable = unreachableKeychainNote(deps.env);
  if (opts.json) {
    deps.io.stdout.write(formatJson(rows));
    if (unreachable) deps.io.stderr.write(`warning: ${unreachable}\n`);
    return 0;
  }
  if (rows.length === 0) {
    const scope = account === undefined ? '' : ` for account ${account}`;
    deps.io.stderr.write(`No logins${scope}. Log in with \`vault login PROVIDER\` (see \`vault provider list\`).\n`);
  } else {
    deps.io.stdout.write(formatTable(rows, deps.clock.now()));
  }
  const consulted = [store.kind === 'file' ? `file store ${store.location}` : store.location];
  if (account === undefined || account === 'default') consulted.push(CI_SOURCE);
  deps.io.stderr.write(`Stores consulted: ${consulted.join(', ')}.\n`);
  if (unreachable) deps.io.stderr.write(`warning: ${unreachable}\n`);
  return 0;
}
