import * as oidc from 'openid-client';
import { LoginRequiredError, VaultError, loginCommand } from '../../core/errors.js';
import type { Provider } from '../../core/config/providers.js';
import { loginResource } from '../../core/config/mcp.js';
import type { TokenResult } from '../../core/token-set.js';
import { serverText } from '../../core/server-text.js';
import { grant, grantSentAt, sharedEndpointOf } from './configure.js';
import { classify, describe } from './errors.js';
import { toTokenResult } from './token-result.js';

/**
 * RFC 8707 §2: the resource a provider's tokens are for goes in the token requests as well as the
 * authorization request, so that every access token (refreshed ones too) names it as audience.
 */
function resourceParam(provider: Provider): Record<string, string> {
  const resource = loginResource(provider);
  return resource ? { resource } : {};
}

/** A refresh grant (RFC 6749 §6), optionally narrowed to a subset of the granted scopes. */
export async function refreshGrant(
  config: oidc.Configuration,
  provider: Provider,
  account: string,
  refreshToken: string,
  scopes: readonly string[] | undefined,
  now: () => number,
): Promise<TokenResult> {
  const params: Record<string, string> = resourceParam(provider);
  if (scopes?.length) params.scope = scopes.join(' ');
  try {
    const started = now();
    const response = await grant(config, null, (c) => oidc.refreshTokenGrant(c, refreshToken, params));
    return toTokenResult(response, grantSentAt(config) ?? started, true, true);
  } catch (error) {
    throw classify(error, provider, 'refresh', account);
  }
}

/**
 * A token exchange (RFC 8693, or Auth0 Token Vault's federated-connection grant) at `provider`'s
 * token endpoint, with its client authentication. Its answer is dated like a refresh's; a token
 * without expires_in is taken to live an hour, since another exchange can always replace it.
 */
export async function exchangeGrant(
  config: oidc.Configuration,
  provider: Provider,
  grantType: string,
  params: Record<string, string>,
  subjectOf: string,
  now: () => number,
): Promise<TokenResult> {
  try {
    const started = now();
    const response = await grant(config, null, (c) => oidc.genericGrantRequest(c, grantType, params));
    return toTokenResult(response, grantSentAt(config) ?? started, true);
  } catch (error) {
    // RFC 8693 §2.2.2: invalid_grant says the subject token is not (or no longer) acceptable.
    if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
      throw new LoginRequiredError(
        `${provider.name} refused the login's token as the subject of the exchange: ${describe(error)} — run \`${loginCommand(subjectOf, 'default')}\``,
        { cause: error },
      );
    }
    throw classify(error, provider, 'token exchange', 'default');
  }
}

/** RFC 7009 revocation of a refresh token (or of a non-expiring access token, the only credential of some logins). */
export async function revoke(
  config: oidc.Configuration,
  provider: Provider,
  token: string,
  hint: 'refresh_token' | 'access_token' = 'refresh_token',
): Promise<void> {
  try {
    await oidc.tokenRevocation(config, token, { token_type_hint: hint });
  } catch (error) {
    throw classify(error, provider, 'revocation', 'default');
  }
}

/** PKCE (RFC 7636, S256 only), state (RFC 6749 §10.12) and nonce (OIDC Core §3.1.2.1) for one login. */
export async function loginSecrets(
  withNonce: boolean,
): Promise<{ verifier: string; challenge: string; state: string; nonce?: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  return {
    verifier,
    challenge: await oidc.calculatePKCECodeChallenge(verifier),
    state: oidc.randomState(),
    ...(withNonce && { nonce: oidc.randomNonce() }),
  };
}

export function authorizationUrl(config: oidc.Configuration, params: Record<string, string>): URL {
  return oidc.buildAuthorizationUrl(config, params);
}

/**
 * Exchanges the code from the loopback callback. openid-client checks state, the RFC 9207 `iss`
 * parameter when the server advertises it, the ID token's claims and nonce, and sends the PKCE
 * verifier.
 */
export async function exchangeCode(
  config: oidc.Configuration,
  provider: Provider,
  callbackUrl: URL,
  checks: { verifier: string; state: string; nonce?: string; idTokenExpected: boolean },
  now: () => number,
): Promise<TokenResult> {
  try {
    // RFC 9207 §2.4: a callback naming another issuer is refused before the code is sent anywhere.
    const iss = callbackUrl.searchParams.get('iss');
    const shared = sharedEndpointOf(config);
    if (shared && iss !== null && !shared.issuer.fits(iss)) {
      throw new VaultError(
        'failure',
        `login to ${provider.name} failed: the callback names issuer ${serverText(iss)}, not one of ${provider.name}'s`,
      );
    }
    const started = now();
    const response = await grant(config, iss, (c) =>
      oidc.authorizationCodeGrant(
        c,
        callbackUrl,
        {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          ...(checks.nonce && { expectedNonce: checks.nonce }),
          idTokenExpected: checks.idTokenExpected,
        },
        resourceParam(provider),
      ),
    );
    return await loginResult(config, response, grantSentAt(config) ?? started);
  } catch (error) {
    throw classify(error, provider, 'login', 'default');
  }
}

/**
 * A login's token result with the best identity at hand: the ID token's email, else the email
 * from the UserInfo endpoint (OIDC Core §5.3; many servers keep `email` there, not in the ID
 * token) when the `email` scope was granted, else the subject. UserInfo is optional: a failure
 * only leaves the subject.
 */
async function loginResult(
  config: oidc.Configuration,
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  sentAt: number,
): Promise<TokenResult> {
  const result = toTokenResult(response, sentAt);
  const claims = response.id_token ? response.claims() : undefined;
  const granted = (result.scope ?? '').split(' ');
  if (
    claims &&
    typeof claims.email !== 'string' &&
    granted.includes('email') &&
    config.serverMetadata().userinfo_endpoint
  ) {
    try {
      const info = await oidc.fetchUserInfo(config, response.access_token, claims.sub);
      if (typeof info.email === 'string') result.identity = info.email;
    } catch {
      // The subject identifies the login well enough; the email is for people reading `status`.
    }
  }
  return result;
}

export type DeviceAuthorization = Awaited<ReturnType<typeof oidc.initiateDeviceAuthorization>>;

/** RFC 8628 §3.1–3.2: asks for a device code and user code. */
export async function startDevice(
  config: oidc.Configuration,
  provider: Provider,
  params: Record<string, string>,
): Promise<DeviceAuthorization> {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new VaultError('usage', `${provider.name} has no device authorization endpoint: log in without --device`);
  }
  try {
    return await oidc.initiateDeviceAuthorization(config, { ...params, ...resourceParam(provider) });
  } catch (error) {
    throw classify(error, provider, 'device authorization', 'default');
  }
}

/** RFC 8628 §3.4–3.5: polls at `interval`, slowing down on `slow_down`, until approval, denial or expiry. */
export async function pollDevice(
  config: oidc.Configuration,
  provider: Provider,
  device: DeviceAuthorization,
  signal: AbortSignal,
  now: () => number,
): Promise<TokenResult> {
  try {
    const started = now();
    const response = await grant(config, null, (c) =>
      oidc.pollDeviceAuthorizationGrant(c, device, resourceParam(provider), { signal }),
    );
    // The last poll's sending, not the first one's: the user approved in between.
    return await loginResult(config, response, grantSentAt(config) ?? started);
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === 'expired_token') {
      throw new VaultError(
        'failure',
        `the device code for ${provider.name} expired before the login was approved: run the login again`,
        { cause: error },
      );
    }
    throw classify(error, provider, 'login', 'default');
  }
}
