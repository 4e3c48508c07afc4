import { LoginRequiredError, StoreError, UsageError } from '../errors.js';
import {
  accessPrefix,
  clientSecretKey,
  listLogins,
  loginKey,
  parseRecord,
  readAccess,
  type LoginRecord,
} from '../credentials.js';
import type { RefreshLock, SecretStore } from '../ports.js';

export interface MigrateRequest {
  from: SecretStore;
  to: SecretStore;
  /** Only this provider's logins (and only `account`, when given). */
  provider?: string;
  account?: string;
  /** Copy instead of move: the login then lives in both stores. */
  keep: boolean;
  /** The refresh lock of (provider, account) in `store` (core/usecases/refresh-lock.ts). */
  lock(store: SecretStore, provider: string, account: string): Promise<RefreshLock>;
  debug(message: string): void;
  /** The clock that judges which cached access tokens are still valid (default: the system's). */
  now?: () => number;
}

export interface MigrateResult {
  logins: { provider: string; account: string; identity?: string }[];
  /** Providers whose client secret was copied (moved, when no login of theirs is left behind). */
  clientSecrets: string[];
}

/** Writes `key` to `to` and reads it back: only a confirmed copy lets the source go. */
async function copyConfirmed(from: SecretStore, to: SecretStore, key: string, value: string): Promise<void> {
  await to.set(key, value);
  if ((await to.get(key)) !== value) {
    throw new StoreError(`${to.describe(key)} did not read back as written; nothing was removed from ${from.location}`);
  }
}

/**
 * The cached access tokens still valid go along with the login: without them the first call in the
 * target store would spend a refresh (and, with rotation, a refresh token) for nothing. An expired
 * or damaged one is left behind, as the next call would replace it anyway.
 */
async function carryAccessTokens(req: MigrateRequest, provider: string, account: string): Promise<void> {
  const now = (req.now ?? Date.now)();
  for (const k of await req.from.keys(accessPrefix(provider, account))) {
    const access = await readAccess(req.from, k, (m) => req.debug(`store: not carried over: ${m}`));
    if (!access || (access.expires_at !== null && access.expires_at <= now)) continue;
    await req.to.set(k, JSON.stringify(access), { expiresAt: access.expires_at });
    req.debug(`store: ${k} (still valid) copied to ${req.to.location}`);
  }
}

/**
 * Moves logins (refresh token and identity, and the provider's client secret) from one store to
 * another. Each login moves under its refresh lock in the source — and in the target when the
 * target has its own (a fleet store) — so no refresh can rotate the token between the copy and
 * the deletion. The source is deleted only after the target confirmed the copy by reading it
 * back. A target that already holds a different login for the same account is never overwritten.
 */
export async function migrateLogins(req: MigrateRequest): Promise<MigrateResult> {
  const { from, to } = req;
  if (from.describe(loginKey('x', 'y')) === to.describe(loginKey('x', 'y'))) {
    throw new UsageError(`${to.location} is the store in use: name another one with --to`);
  }
  const found = await listLogins(from, req);
  if (found.length === 0 && req.provider) {
    const who = req.account && req.account !== 'default' ? ` as account ${req.account}` : '';
    throw new LoginRequiredError(`no login for ${req.provider}${who} in ${from.location}: nothing to migrate`);
  }
  const result: MigrateResult = { logins: [], clientSecrets: [] };
  for (const { provider, account } of found) {
    const key = loginKey(provider, account);
    const lock = await req.lock(from, provider, account);
    try {
      const target = to.lock ? await req.lock(to, provider, account) : undefined;
      try {
        const raw = await from.get(key);
        if (raw === null) continue;
        const login = parseRecord<LoginRecord>(raw, from.describe(key), ['obtained_at']);
        const existing = await to.get(key);
        if (existing !== null && existing !== raw) {
          throw new UsageError(
            `${to.describe(key)} already holds a login for ${provider} (account ${account}): log out of it there first, or migrate another account`,
          );
        }
        await copyConfirmed(from, to, key, raw);
        req.debug(`store: ${key} copied to ${to.location} and read back`);
        await carryAccessTokens(req, provider, account);
        if (!req.keep) {
          for (const k of [key, ...(await from.keys(accessPrefix(provider, account)))]) await from.delete(k);
          req.debug(`store: ${key} and its cached access tokens removed from ${from.location}`);
        }
        result.logins.push({ provider, account, ...(login.identity && { identity: login.identity }) });
      } finally {
        await target?.release();
      }
    } finally {
      await lock.release();
    }
  }
  for (const provider of new Set(result.logins.map((l) => l.provider))) {
    const key = clientSecretKey(provider);
    const secret = await from.get(key);
    if (secret === null) continue;
    const existing = await to.get(key);
    if (existing === null) await copyConfirmed(from, to, key, secret);
    else if (existing !== secret)
      throw new UsageError(
        `${to.describe(key)} holds another client secret for ${provider}: the logins moved, the source's secret stays in ${from.location}`,
      );
    result.clientSecrets.push(provider);
    // The client secret belongs to the provider: it stays while logins of it remain in the source.
    if (!req.keep && (await from.keys(loginKey(provider, ''))).length === 0) await from.delete(key);
  }
  return result;
}
