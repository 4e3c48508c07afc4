// A real oidc-provider authorization server on 127.0.0.1 for tests: native clients (public,
// confidential, and a public one without the refresh_token grant), code + PKCE, refresh tokens with rotation, device flow, revocation,
// introspection, and counters of what the server saw.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientMetadata, Configuration, Context, Middleware, Provider, Token } from 'oidc-provider';

import { FetchBrowser, describeErrorPage } from './fetch-browser.js';

export interface TestServerOptions {
  /** Seconds, default 5. */
  accessTokenTtl?: number;
  /** Seconds, default 3600. */
  refreshTokenTtl?: number;
  /** Default true. */
  rotateRefreshToken?: boolean;
  /**
   * Default true: interactions finish at once (login and consent, with a saved Grant) as
   * `alice`. False: oidc-provider's devInteractions login and consent pages (any login name).
   */
  autoLogin?: boolean;
  /** Seconds added as `interval` to the device authorization response; default 1. */
  deviceInterval?: number;
  /** Supported scopes, default ['openid','offline_access','email','profile','api:read','api:write']. */
  scopes?: string[];
  /** Seconds a device code stays valid, default 600. */
  deviceCodeTtl?: number;
  /**
   * How the confidential client authenticates, default 'client_secret_basic'. It is also the only
   * secret-based method the server advertises and accepts (token_endpoint_auth_methods_supported).
   */
  confidentialClientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * An issuer with a path (Keycloak's `/realms/x`, Microsoft's `/{tenant}/v2.0`): the server is
   * mounted there. Any path prefix of the same depth reaches it too (`/common/v2.0/auth` as
   * Microsoft's shared endpoints do), while tokens and callbacks keep naming the issuer.
   */
  issuerPath?: string;
  /** A `tid` claim in ID tokens (Microsoft's tenant id), with the ID token carrying the scopes' claims. */
  tenantId?: string;
  /**
   * Default true, oidc-provider's default (and Google's behaviour): revoking a refresh token revokes
   * its whole grant, which a later login of the same user and client shares. False: only the token
   * (GitLab's behaviour).
   */
  revokeWholeGrant?: boolean;
  /**
   * Token exchange grants: Auth0 Token Vault's federated-connection exchange for `connection`
   * (confidential clients only, the subject a live refresh token of the client), answered with a
   * "federated" token of this server's own, and RFC 8693 with an access-token subject.
   */
  tokenExchange?: { connection: string };
  /**
   * RFC 8707 resource indicators: access tokens for this resource (an MCP server's URL) are JWTs
   * (RFC 9068) with `aud` = the resource and its `scopes`, signed with the server's JWKS.
   */
  resource?: { url: string; scopes: string[] };
  /** RFC 7591 dynamic client registration, open to anyone (no initial access token). */
  registration?: boolean;
}

export interface TestServerEvent {
  /** 'grant.success', 'grant.error', 'grant.revoked', or 'revocation.success' (synthesized). */
  name: string;
  grantType?: string;
  error?: string;
  /** The RFC 8707 `resource` the token request carried, when it carried one. */
  resource?: string;
}

export interface TestServerCounts {
  refresh: number;
  authorizationCode: number;
  deviceCode: number;
  grantErrors: number;
  grantRevoked: number;
  revocations: number;
  /** Token exchanges granted: Auth0 Token Vault's, RFC 8693's. */
  tokenVault: number;
  tokenExchange: number;
}

export interface TestServer {
  /** e.g. http://127.0.0.1:PORT */
  issuer: string;
  port: number;
  publicClientId: string;
  confidentialClientId: string;
  confidentialClientSecret: string;
  /** A public client without the refresh_token grant: its logins get no refresh token. */
  noRefreshClientId: string;
  counts: TestServerCounts;
  /** Every counted event, in order. */
  events: TestServerEvent[];
  /** RFC 7662 introspection through the server's endpoint, as the confidential client. */
  introspect(token: string): Promise<{ active: boolean; [k: string]: unknown }>;
  /** Revokes, server-side, the whole grant a refresh token belongs to (no event is emitted). */
  revokeGrantOf(refreshToken: string): Promise<void>;
  /**
   * Invalidates one access token before it expires, leaving the grant and its refresh token
   * alone. (RFC 7009 revocation of an access token at oidc-provider also revokes every token of
   * the grant, so this goes through the model.)
   */
  revokeAccessToken(accessToken: string): Promise<void>;
  /** Every access token, refresh token, ID token, authorization code and device code issued. */
  issuedTokens(): string[];
  /** Completes the user side of the device flow for `user_code`, through the /device pages. */
  approveDevice(userCode: string): Promise<void>;
  /** Closes the server and all open connections. */
  close(): Promise<void>;
  /** The client ids registered through RFC 7591 dynamic registration. */
  registeredClients: string[];
}

export const ACCOUNT = { sub: 'alice', email: 'alice@example.test', name: 'Alice' } as const;

const PUBLIC_CLIENT_ID = 'vault-public';
const CONFIDENTIAL_CLIENT_ID = 'vault-confidential';
const CONFIDENTIAL_CLIENT_SECRET = 'vault-confidential-secret-for-tests';
const NO_REFRESH_CLIENT_ID = 'vault-no-refresh';
// RFC 8252 §7.3: native clients may use any port on a loopback redirect registered without one.
const REDIRECT_URI = 'http://127.0.0.1/callback';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT];
export const TOKEN_VAULT_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const FEDERATED_TOKEN = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE = {
  refresh: 'urn:ietf:params:oauth:token-type:refresh_token',
  access: 'urn:ietf:params:oauth:token-type:access_token',
};
const DEFAULT_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'api:read', 'api:write'];
const DAY = 24 * 60 * 60;

let ProviderClass: typeof Provider | undefined;

/** Imports oidc-provider once, with its console advice silenced (errors still print). */
async function loadProvider(): Promise<typeof Provider> {
  if (!ProviderClass) {
    // Quick-start notices ("default findAccount function called…", "Unsupported runtime"
    // on Node 20, devInteractions warnings) go through console.info/warn with this prefix.
    const advice = /^(?:\x1b\[[\d;]*m)?oidc-provider (?:NOTICE|WARNING): /;
    for (const level of ['info', 'warn'] as const) {
      const print = console[level];
      console[level] = (...args: unknown[]) => {
        if (typeof args[0] === 'string' && advice.test(args[0])) return;
        print.apply(console, args);
      };
    }
    ProviderClass = (await import('oidc-provider')).default;
  }
  return ProviderClass;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const {
    accessTokenTtl = 5,
    refreshTokenTtl = 3600,
    rotateRefreshToken = true,
    autoLogin = true,
    deviceInterval = 1,
    scopes = DEFAULT_SCOPES,
    deviceCodeTtl = 600,
    confidentialClientAuthMethod = 'client_secret_basic',
    issuerPath = '',
    tenantId,
    revokeWholeGrant = true,
    tokenExchange,
    resource,
    registration = false,
  } = options;

  // The issuer must contain the port, so listen first and attach the provider afterwards.
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await loadProvider();
  const { InvalidTarget } = (await import('oidc-provider')).errors;
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}${issuerPath}`;

  const nativeClient = {
    application_type: 'native',
    redirect_uris: [REDIRECT_URI],
    grant_types: tokenExchange ? [...GRANT_TYPES, TOKEN_VAULT_GRANT, TOKEN_EXCHANGE_GRANT] : GRANT_TYPES,
    response_types: ['code'],
  } satisfies Partial<ClientMetadata>;
  const configuration: Configuration = {
    clients: [
      { ...nativeClient, client_id: PUBLIC_CLIENT_ID, token_endpoint_auth_method: 'none' },
      {
        ...nativeClient,
        client_id: CONFIDENTIAL_CLIENT_ID,
        client_secret: CONFIDENTIAL_CLIENT_SECRET,
        token_endpoint_auth_method: confidentialClientAuthMethod,
      },
      {
        ...nativeClient,
        client_id: NO_REFRESH_CLIENT_ID,
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
      },
    ],
    clientAuthMethods: ['none', confidentialClientAuthMethod],
    scopes,
    claims: {
      openid: tenantId === undefined ? ['sub'] : ['sub', 'tid'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // The default interaction URL is an absolute path that knows nothing of a mount point.
    ...(issuerPath && { interactions: { url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}` } }),
    // Microsoft puts tid (and the scopes' claims) in the ID token itself.
    ...(tenantId !== undefined && { conformIdTokenClaims: false }),
    // The default 15 s would keep a 5 s access token alive for 20 s.
    clockTolerance: 0,
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: id,
        email: ACCOUNT.email,
        email_verified: true,
        name: ACCOUNT.name,
        ...(tenantId !== undefined && { tid: tenantId }),
      }),
    }),
    // The default issues refresh tokens only for offline_access, which oidc-provider drops from
    // any authorization request without prompt=consent (OIDC Core §11).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken,
    ...(!revokeWholeGrant && { revokeGrantPolicy: () => false }),
    ttl: {
      AccessToken: accessTokenTtl,
      RefreshToken: refreshTokenTtl,
      IdToken: 3600,
      DeviceCode: deviceCodeTtl,
      Interaction: 3600,
      Session: 30 * DAY,
      Grant: 30 * DAY,
    },
    features: {
      devInteractions: { enabled: !autoLogin },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      registration: { enabled: registration },
      ...(resource && {
        resourceIndicators: {
          enabled: true,
          // The token endpoint keeps the resource granted at authorization (refresh grants too).
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: Context, indicator: string) => {
            if (indicator !== resource.url) throw new InvalidTarget();
            return {
              scope: resource.scopes.join(' '),
              audience: resource.url,
              accessTokenFormat: 'jwt',
              accessTokenTTL: accessTokenTtl,
            };
          },
        },
      }),
    },
  };

  const provider = new (await loadProvider())(issuer, configuration);
  if (tokenExchange) await registerExchanges(provider, tokenExchange.connection);

  const counts: TestServerCounts = {
    refresh: 0,
    authorizationCode: 0,
    deviceCode: 0,
    grantErrors: 0,
    grantRevoked: 0,
    revocations: 0,
    tokenVault: 0,
    tokenExchange: 0,
  };
  const events: TestServerEvent[] = [];
  const issued = new Set<string>();
  const registeredClients: string[] = [];
  provider.on('registration_create.success', (_ctx, client) => registeredClients.push(client.clientId));

  provider.on('grant.success', (ctx) => {
    const grantType = grantTypeOf(ctx);
    if (grantType === 'refresh_token') counts.refresh++;
    else if (grantType === 'authorization_code') counts.authorizationCode++;
    else if (grantType === DEVICE_CODE_GRANT) counts.deviceCode++;
    else if (grantType === TOKEN_VAULT_GRANT) counts.tokenVault++;
    else if (grantType === TOKEN_EXCHANGE_GRANT) counts.tokenExchange++;
    const sent = ctx.oidc?.params?.resource;
    events.push({ name: 'grant.success', grantType, ...(typeof sent === 'string' && { resource: sent }) });
  });
  provider.on('grant.error', (ctx, error) => {
    counts.grantErrors++;
    events.push({ name: 'grant.error', grantType: grantTypeOf(ctx), error: error.error });
  });
  provider.on('grant.revoked', () => {
    counts.grantRevoked++;
    events.push({ name: 'grant.revoked' });
  });
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error:', error));
  // Opaque tokens and codes: the value handed out is the model's jti.
  for (const model of ['access_token', 'refresh_token', 'authorization_code', 'device_code']) {
    provider.on(`${model}.saved`, (token) => issued.add(token.jti));
  }

  const observeResponses: Middleware = async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    const body = ctx.body;
    if (route === 'revocation' && ctx.status === 200) {
      // oidc-provider has no revocation event.
      counts.revocations++;
      events.push({ name: 'revocation.success' });
    }
    if (!isRecord(body)) return;
    // ID tokens are signed, not stored, so they only show up in token responses.
    if (typeof body.id_token === 'string') issued.add(body.id_token);
    // oidc-provider sends no interval, which makes RFC 8628 clients wait the default 5 s.
    if (route === 'device_authorization' && ctx.status === 200) body.interval = deviceInterval;
  };
  provider.use(observeResponses);

  if (autoLogin) {
    const finishInteraction: Middleware = async (ctx, next) => {
      if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) return next();
      const { params, grantId, session } = await provider.interactionDetails(ctx.req, ctx.res);
      const accountId = session?.accountId ?? ACCOUNT.sub;
      // Native clients always get a consent prompt after login, so finish both at once.
      const grant =
        (grantId ? await provider.Grant.find(grantId) : undefined) ??
        new provider.Grant({ accountId, clientId: String(params.client_id) });
      if (typeof params.scope === 'string') grant.addOIDCScope(params.scope);
      // RFC 8707: the resource's scopes are consented to separately.
      if (resource && typeof params.scope === 'string' && params.resource === resource.url)
        grant.addResourceScope(resource.url, params.scope);
      const result = { login: { accountId }, consent: { grantId: await grant.save() } };
      ctx.respond = false;
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    };
    provider.use(finishInteraction);
  }

  const handle = provider.callback();
  const depth = issuerPath.split('/').length - 1;
  server.on('request', (req, res) => {
    if (depth > 0) {
      // Measured: a mounted oidc-provider reads its mount point from the difference between these two.
      // Any prefix of that depth counts as the issuer's own.
      const rest = `/${(req.url ?? '/')
        .split('/')
        .slice(depth + 1)
        .join('/')}`;
      (req as typeof req & { originalUrl?: string }).originalUrl = `${issuerPath}${rest}`;
      req.url = rest;
    }
    void handle(req, res);
  });

  return {
    issuer,
    port,
    publicClientId: PUBLIC_CLIENT_ID,
    confidentialClientId: CONFIDENTIAL_CLIENT_ID,
    confidentialClientSecret: CONFIDENTIAL_CLIENT_SECRET,
    noRefreshClientId: NO_REFRESH_CLIENT_ID,
    counts,
    events,

    async introspect(token) {
      const body = new URLSearchParams({ token });
      const headers: Record<string, string> = {};
      if (confidentialClientAuthMethod === 'client_secret_basic') {
        headers.authorization = `Basic ${Buffer.from(`${CONFIDENTIAL_CLIENT_ID}:${CONFIDENTIAL_CLIENT_SECRET}`).toString('base64')}`;
      } else {
        body.set('client_id', CONFIDENTIAL_CLIENT_ID);
        body.set('client_secret', CONFIDENTIAL_CLIENT_SECRET);
      }
      const response = await fetch(`${issuer}/token/introspection`, { method: 'POST', headers, body });
      if (!response.ok) throw new Error(`introspection failed: HTTP ${response.status} ${await response.text()}`);
      return (await response.json()) as { active: boolean; [k: string]: unknown };
    },

    async revokeGrantOf(refreshToken) {
      const token = await provider.RefreshToken.find(refreshToken, { ignoreExpiration: true });
      if (!token?.grantId) throw new Error('revokeGrantOf: unknown refresh token');
      const { grantId } = token;
      // What oidc-provider's own revoke helper does, minus the request context it needs.
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.DeviceCode.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
    },

    async revokeAccessToken(accessToken) {
      const token = await provider.AccessToken.find(accessToken, { ignoreExpiration: true });
      if (!token) throw new Error('revokeAccessToken: unknown access token');
      await token.destroy();
    },

    issuedTokens: () => [...issued],
    registeredClients,

    async approveDevice(userCode) {
      const findCode = () =>
        provider.DeviceCode.findByUserCode(
          userCode.toUpperCase().replace(/\W/g, ''), // oidc-provider's user code normalization
          { ignoreExpiration: true },
        );
      const pending = await findCode();
      if (!pending) throw new Error(`approveDevice: no device authorization has user code ${userCode}`);
      if (pending.accountId || pending.error) throw new Error(`approveDevice: user code ${userCode} was already used`);

      // GET /device?user_code=… answers with a self-submitting form carrying the XSRF token;
      // the browser then confirms and goes through the login and consent interaction.
      const url = new URL('/device', issuer);
      url.searchParams.set('user_code', userCode);
      const page = await new FetchBrowser().navigate(url);
      if (!(await findCode())?.accountId) {
        const where =
          page instanceof URL ? page.href : `${page.url.href} (HTTP ${page.status})${describeErrorPage(page.html)}`;
        throw new Error(`approveDevice: user code ${userCode} was not approved; the browser ended at ${where}`);
      }
    },

    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The two exchange grants, as the servers they stand for check them: the subject must be a live
 * token of a grant that still exists, issued to the client that authenticated; the token handed out
 * belongs to the same grant (so revoking the login revokes it too) and is valid at introspection.
 */
async function registerExchanges(provider: Provider, connection: string): Promise<void> {
  const { errors } = await import('oidc-provider');
  const issue = async (ctx: Context, subject: Token, scope: string | undefined, type: string) => {
    if (!subject.isValid || !subject.grantId || !(await provider.Grant.find(subject.grantId)))
      throw new errors.InvalidGrant('subject token invalid or expired');
    const client = ctx.oidc!.client!;
    if (subject.clientId !== client.clientId) throw new errors.InvalidGrant('subject token issued to another client');
    const token = new provider.AccessToken({
      accountId: subject.accountId!,
      client,
      grantId: subject.grantId,
      gty: 'token_exchange',
      scope: scope ?? subject.scope,
    });
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: type,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: token.scope,
    };
  };
  const param = (ctx: Context, name: string) => {
    const value = ctx.oidc!.params?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  provider.registerGrantType(
    TOKEN_VAULT_GRANT,
    async (ctx) => {
      // Auth0: "only confidential clients can use Token Vault".
      if (ctx.oidc!.client!.clientAuthMethod === 'none')
        throw new errors.InvalidClient('client authentication required');
      if (param(ctx, 'subject_token_type') !== TOKEN_TYPE.refresh)
        throw new errors.InvalidRequest('subject_token_type');
      if (param(ctx, 'requested_token_type') !== FEDERATED_TOKEN)
        throw new errors.InvalidRequest('requested_token_type');
      if (param(ctx, 'connection') !== connection) throw new errors.InvalidRequest('unknown connection');
      const subject = await provider.RefreshToken.find(param(ctx, 'subject_token') ?? '');
      if (!subject) throw new errors.InvalidGrant('subject token invalid or expired');
      await issue(ctx, subject, `federated:${connection}`, FEDERATED_TOKEN);
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'connection', 'login_hint', 'scope'],
  );
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      if (param(ctx, 'subject_token_type') !== TOKEN_TYPE.access) throw new errors.InvalidRequest('subject_token_type');
      const subject = await provider.AccessToken.find(param(ctx, 'subject_token') ?? '');
      if (!subject) throw new errors.InvalidGrant('subject token invalid or expired');
      await issue(ctx, subject, param(ctx, 'scope'), TOKEN_TYPE.access);
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
  );
}

function grantTypeOf(ctx: Context): string | undefined {
  const grantType = ctx.oidc?.params?.grant_type;
  return typeof grantType === 'string' ? grantType : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
