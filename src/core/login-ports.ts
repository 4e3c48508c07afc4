/**
 * The ports of OAuth and of the person at the terminal: the token endpoint, the login grants, the
 * browser, the loopback listener, prompts and termination signals (adapters in infra/oauth and
 * infra/). Importers take them from ports.ts.
 */
import type { Provider } from './config/providers.js';
import type { TokenResult } from './token-set.js';

/** The token endpoint of one provider, prepared for one client (infra/oauth). */
export interface OAuthClient {
  /** Where tokens are revoked (RFC 7009), when the provider has such an endpoint. */
  readonly revocationEndpoint: string | undefined;
  /** A refresh grant (RFC 6749 §6), narrowed to `scopes` when given; `account` names the login in errors. */
  refresh(account: string, refreshToken: string, scopes: readonly string[] | undefined): Promise<TokenResult>;
  /** Revocation (RFC 7009) of a refresh token, or of a non-expiring access token. */
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void>;
  /**
   * A token exchange grant (`grantType` with `params`) with this client's authentication. A refused
   * subject token (`invalid_grant`) is a LoginRequiredError naming `subjectOf`, the login it came from.
   */
  exchange(grantType: string, params: Record<string, string>, subjectOf: string): Promise<TokenResult>;
}

/** OAuth as the use cases need it; the adapter loads the OAuth library only when asked. */
export interface OAuth {
  /** The client for `provider` (discovery first, when its endpoints are not configured). */
  client(provider: Provider, clientSecret: string | undefined): Promise<OAuthClient>;
}

/** Opens a URL for the user to visit; resolves false when no browser could be started. */
export interface Browser {
  /** `onFailure` hears of a launcher that started but failed later (a non-zero exit). */
  open(url: string, onFailure?: (why: string) => void): Promise<boolean>;
}

/**
 * An authorization request in progress (RFC 6749 §4.1 with PKCE, RFC 7636): its verifier and nonce
 * never leave the adapter.
 */
export interface AuthorizationRequest {
  /** The state the callback must carry (RFC 6749 §10.12). */
  readonly state: string;
  /** The authorization URL that sends the browser back to `redirectUri`. */
  url(redirectUri: string): string;
  /** The code exchange of the callback URL: state, `iss` (RFC 9207) and nonce checked, the verifier sent. */
  exchange(callback: URL): Promise<TokenResult>;
}

/** A device authorization (RFC 8628 §3.2) waiting for the user's approval. */
export interface DeviceAuthorization {
  readonly verificationUri: string;
  readonly verificationUriComplete: string | undefined;
  readonly userCode: string;
  /** Seconds until the device code expires; 0 when the server did not say. */
  readonly expiresIn: number;
  /** Polls (RFC 8628 §3.4–3.5) until approval, denial or expiry; stops when `signal` aborts. */
  poll(signal: AbortSignal): Promise<TokenResult>;
}

/** A provider's client with the login grants as well (infra/oauth). */
export interface LoginClient extends OAuthClient {
  /** The server metadata's `scopes_supported` (RFC 8414 §2), empty when it lists none. */
  readonly scopesSupported: readonly string[];
  /** Starts an authorization code request with `params` (scope, prompt, ...); a nonce when `withNonce`. */
  authorize(params: Record<string, string>, withNonce: boolean): Promise<AuthorizationRequest>;
  /** Asks for a device code and user code (RFC 8628 §3.1) for `scope`. */
  startDevice(scope: string): Promise<DeviceAuthorization>;
}

/** OAuth with the login grants: what `vault login` needs (an OAuthLogin is also an OAuth). */
export interface OAuthLogin {
  client(provider: Provider, clientSecret: string | undefined): Promise<LoginClient>;
}

export type TerminationSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The termination signals that end a wait (infra/signals.ts). */
export interface Interrupts {
  /** Calls `onSignal` on the first SIGINT, SIGTERM or SIGHUP, until the returned function is called. */
  watch(onSignal: (signal: TerminationSignal) => void): () => void;
}

/** What the loopback listener hands back: the full callback URL with code, state and iss. */
export interface CallbackListener {
  port: number;
  redirectUri: string;
  /** Resolves with the callback URL once a request carrying the expected state arrives. */
  callback: Promise<URL>;
  /**
   * The URL to start the browser on: the listener's own one-time address, which redirects once to
   * `authorizationUrl`, so that URL (state, PKCE challenge) never sits in a process's argv.
   */
  launchUrl(authorizationUrl: string): string;
  close(): Promise<void>;
}

/** The RFC 8252 §7.3 loopback redirect listener (infra/loopback.ts). */
export interface Loopback {
  /** Listens on 127.0.0.1:`port` (0: any free port) for the callback carrying `expectedState`. */
  listen(port: number, expectedState: string): Promise<CallbackListener>;
}

/** Questions to the person at the terminal (infra/prompt.ts): the question on stderr, the answer from stdin. */
export interface Prompt {
  /** One line, shown as it is typed. */
  line(question: string): Promise<string>;
  /** One line typed without echo (a client secret). */
  secret(question: string): Promise<string>;
}
