// The small part of oidc-provider 9 that the test harness uses. The package ships no
// type declarations and @types/oidc-provider is not installed.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Client {
    clientId: string;
    clientAuthMethod: string;
    grantTypeAllowed(grantType: string): boolean;
  }

  /** Present on requests handled by one of the provider's routes. */
  export interface OIDCContext {
    route: string;
    params?: Record<string, unknown>;
    client?: Client;
  }

  export interface Context {
    method: string;
    path: string;
    status: number;
    body: unknown;
    respond: boolean;
    req: IncomingMessage;
    res: ServerResponse;
    oidc?: OIDCContext;
  }

  export type Next = () => Promise<void>;
  export type Middleware = (ctx: Context, next: Next) => Promise<void>;

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }

  export interface Token {
    jti: string;
    kind: string;
    clientId?: string;
    accountId?: string;
    grantId?: string;
    scope?: string;
    /** Not consumed (rotated) and not expired. */
    readonly isValid: boolean;
    /** Seconds until it expires. */
    readonly expiration: number;
    save(): Promise<string>;
    destroy(): Promise<void>;
  }

  export interface DeviceCode extends Token {
    userCode: string;
    error?: string;
  }

  export interface TokenModel<T extends Token = Token> {
    find(value: string, options?: { ignoreExpiration?: boolean }): Promise<T | undefined>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface AccessTokenModel extends TokenModel {
    new (properties: { accountId: string; client: Client; grantId: string; gty: string; scope?: string }): Token;
  }

  export interface DeviceCodeModel extends TokenModel<DeviceCode> {
    findByUserCode(userCode: string, options?: { ignoreExpiration?: boolean }): Promise<DeviceCode | undefined>;
  }

  export interface Grant {
    jti: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantModel {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
    adapter: { destroy(id: string): Promise<void> };
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId: string };
    grantId?: string;
  }

  export interface InteractionResult {
    login?: { accountId: string };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    application_type?: 'native' | 'web';
    token_endpoint_auth_method?: string;
    redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    clientAuthMethods?: string[];
    scopes?: string[];
    claims?: Record<string, string[]>;
    clockTolerance?: number;
    conformIdTokenClaims?: boolean;
    interactions?: { url?: (ctx: Context, interaction: { uid: string }) => string };
    findAccount?: (ctx: Context, id: string) => Promise<Account | undefined>;
    issueRefreshToken?: (ctx: Context, client: Client, source: Token) => Promise<boolean>;
    rotateRefreshToken?: boolean;
    ttl?: Record<string, number>;
    features?: Record<string, { enabled: boolean; [option: string]: unknown }>;
  }

  export interface OIDCError extends Error {
    error: string;
    error_description?: string;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantModel;
    readonly AccessToken: AccessTokenModel;
    readonly RefreshToken: TokenModel;
    readonly AuthorizationCode: TokenModel;
    readonly DeviceCode: DeviceCodeModel;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): this;
    /** A custom grant at the token endpoint; `params` are the request parameters it may read. */
    registerGrantType(name: string, handler: (ctx: Context) => Promise<void>, params?: string[]): void;
    on(event: 'grant.success', listener: (ctx: Context) => void): this;
    on(event: 'grant.error' | 'server_error', listener: (ctx: Context, error: OIDCError) => void): this;
    on(event: 'grant.revoked', listener: (ctx: Context, grantId: string) => void): this;
    on(event: 'registration_create.success', listener: (ctx: Context, client: Client) => void): this;
    on(event: `${string}.saved`, listener: (token: Token) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  type OIDCErrorClass = new (description?: string) => OIDCError;
  export const errors: {
    InvalidGrant: OIDCErrorClass;
    InvalidRequest: OIDCErrorClass;
    InvalidClient: OIDCErrorClass;
    InvalidTarget: OIDCErrorClass;
  };

  export default Provider;
}
