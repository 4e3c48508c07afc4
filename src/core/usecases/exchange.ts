/**
 * Providers whose tokens come by exchanging another provider's login (`exchange_from`): Auth0
 * Token Vault's federated-connection grant (the source's refresh token as subject) and RFC 8693
 * token exchange (the source's access or ID token as subject). The exchanged token is cached like
 * an access token and never stored as a refresh token; the exchange is single-flight per
 * exchanged provider and account, and the source's own refresh stays single-flight as ever.
 */
import { LoginRequiredError, UsageError, VaultError, loginCommand } from '../errors.js';
import type { Provider } from '../config/providers.js';
import { isFresh, type TokenResult } from '../token-set.js';
import { accessKey, ciLogin, readAccess, readLogin, type AccessRecord } from '../credentials.js';
import { readClientSecret } from './client-secret.js';
import { refreshLock } from './refresh-lock.js';
import type { TokenDeps, TokenRequest } from './get-token.js';
import { received } from './store-refreshed.js';
import type { RefreshLock } from '../ports.js';

// https://auth0.com/docs/secure/tokens/token-vault/access-token-exchange-with-token-vault
const TOKEN_VAULT_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const TOKEN_VAULT_REQUESTED = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
// RFC 8693 §2.1 and §3.
const RFC8693_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TYPE = {
  refresh: 'urn:ietf:params:oauth:token-type:refresh_token',
  access: 'urn:ietf:params:oauth:token-type:access_token',
  id: 'urn:ietf:params:oauth:token-type:id_token',
} as const;

/** The source of an exchanged provider: configured, and itself a provider one logs in to. */
export function exchangeSource(provider: Provider, deps: Pick<TokenDeps, 'provider'>): Provider {
  const name = provider.exchange_from!;
  if (!deps.provider) throw new UsageError(`${provider.name} gets its tokens by exchange, which is not available here`);
  const source = deps.provider(name);
  if (source.exchange_from !== undefined)
    throw new UsageError(
      `${provider.name} exchanges the login to ${name}, which gets its own tokens by exchange: set exchange_from to the provider you log in to`,
    );
  return source;
}

/** The error of the source login's side, naming the source: its kind (exit code) is kept. */
function sourceFailed(provider: Provider, source: Provider, error: unknown): unknown {
  if (!(error instanceof VaultError)) return error;
  return new VaultError(
    error.kind,
    `${provider.name} gets its tokens from the login to ${source.name}, which failed: ${error.message}`,
    { cause: error },
  );
}

/** The error of the exchange's side (its message names the source's server: "token exchange for SRC failed"). */
function exchangeFailed(provider: Provider, error: unknown): unknown {
  if (!(error instanceof VaultError)) return error;
  return new VaultError(error.kind, `${provider.name}: ${error.message}`, { cause: error });
}

/**
 * A valid exchanged token for (provider, account, scopes): from the cache while fresh, else from one
 * exchange under the exchanged provider's own lock, after which the processes that waited read the
 * winner's token. `sourceToken` is getAccessToken, for the source's access or ID token.
 */
export async function getExchangedToken(
  req: TokenRequest,
  deps: TokenDeps,
  sourceToken: (req: TokenRequest) => Promise<AccessRecord>,
): Promise<AccessRecord> {
  const { provider, account } = req;
  const source = exchangeSource(provider, deps);
  const key = accessKey(provider.name, account, req.scopes);
  const fresh = async () => {
    if (req.forceRefresh) return undefined;
    const cached = await readAccess(deps.store, key, () => {});
    return cached && isFresh(cached, deps.clock.now(), req.minValid) ? cached : undefined;
  };
  const cached = await fresh();
  if (cached) return cached;
  for (;;) {
    const lock = await refreshLock(
      deps,
      provider.name,
      account,
      req.forceRefresh ? undefined : async () => Boolean(await fresh()),
    );
    try {
      const waited = await fresh();
      if (waited) {
        deps.debug('store: another process exchanged while we waited');
        return waited;
      }
      const record = await exchangeLocked(req, deps, source, key, lock, sourceToken);
      if (record) return record;
      deps.debug('lock: lost while paused; starting over');
    } finally {
      await lock.release();
    }
  }
}

async function exchangeLocked(
  req: TokenRequest,
  deps: TokenDeps,
  source: Provider,
  key: string,
  lock: RefreshLock,
  sourceToken: (req: TokenRequest) => Promise<AccessRecord>,
): Promise<AccessRecord | undefined> {
  const { provider, account } = req;
  const scope = req.scopes?.length ? req.scopes.join(' ') : provider.scopes?.join(' ');
  let result: TokenResult;
  if (provider.exchange === 'token-vault') {
    // The source's refresh token is the subject: taken under the source's own refresh lock, so no
    // refresh of the source rotates it while the exchange is in flight (Auth0 wants rotation off
    // for Token Vault; a later change of that setting must not cost the login).
    const sourceLock = await refreshLock(deps, source.name, account);
    try {
      let login = await readLogin(deps.store, source.name, account);
      if (!login && account === 'default') login = ciLogin(deps.env, source.name);
      if (!login?.refresh_token) {
        throw sourceFailed(
          provider,
          source,
          new LoginRequiredError(
            `${login ? 'no refresh token is stored' : 'not logged in'} — run \`${loginCommand(source.name, account)}\``,
          ),
        );
      }
      const params: Record<string, string> = {
        subject_token: login.refresh_token,
        subject_token_type: TYPE.refresh,
        requested_token_type: TOKEN_VAULT_REQUESTED,
        connection: provider.connection!,
        ...(provider.login_hint && { login_hint: provider.login_hint }),
        ...(scope && { scope }),
      };
      if (!(await lock.commitToGrant()) || !(await sourceLock.commitToGrant())) return undefined;
      result = await exchange(req, deps, source, TOKEN_VAULT_GRANT, params);
    } finally {
      await sourceLock.release();
    }
  } else {
    const kind = provider.subject_token ?? 'access';
    let subject: string | undefined;
    try {
      // An ID token comes only from a refresh (with openid in scope) and is not cached: an ID token
      // subject costs a refresh of the source, single-flight as any other.
      const record = await sourceToken({ provider: source, account, minValid: 60, forceRefresh: kind === 'id' });
      subject = kind === 'id' ? record.id_token : record.access_token;
    } catch (error) {
      throw sourceFailed(provider, source, error);
    }
    if (subject === undefined)
      throw sourceFailed(
        provider,
        source,
        new VaultError('failure', `${source.name} sends no ID token on refresh (is openid among its scopes?)`),
      );
    const params: Record<string, string> = {
      subject_token: subject,
      subject_token_type: TYPE[kind],
      requested_token_type: TYPE.access,
      ...(provider.audience && { audience: provider.audience }),
      ...(provider.resource && { resource: provider.resource }),
      ...(scope && { scope }),
    };
    if (!(await lock.commitToGrant())) return undefined;
    result = await exchange(req, deps, source, RFC8693_GRANT, params);
  }
  // The exchanged token is checked as a refreshed one is: token text, not expired on arrival.
  const { record, unusable } = received(result, deps.clock.now(), result.scope ?? scope ?? '', req.provider.name);
  if (unusable) throw unusable;
  // Only the exchanged token is kept: a refresh token in the answer is not stored, since the next
  // exchange gets a new token from the source login anyway.
  if (await lock.commit([{ key, value: JSON.stringify(record), expiresAt: record.expires_at }]))
    deps.debug(`store: exchanged token cached as ${key}`);
  return record;
}

async function exchange(
  req: TokenRequest,
  deps: TokenDeps,
  source: Provider,
  grantType: string,
  params: Record<string, string>,
): Promise<TokenResult> {
  deps.debug(`exchange: ${req.provider.name}/${req.account} from ${source.name} (${req.provider.exchange})`);
  try {
    const secret = await readClientSecret(deps.store, deps.env, source.name);
    const client = await deps.oauth.client(source, secret);
    return await client.exchange(grantType, params, source.name);
  } catch (error) {
    // A refused subject is the source login's failure (exit 3 naming it); the rest is the exchange's.
    if (error instanceof LoginRequiredError) throw sourceFailed(req.provider, source, error);
    throw exchangeFailed(req.provider, error);
  }
}
