import type { Configuration } from './configure.js';
import { authorizationUrl, exchangeCode, loginSecrets, pollDevice, startDevice } from './grants.js';
import type { Provider } from '../../core/config/providers.js';
import type { AuthorizationRequest, DeviceAuthorization, LoginClient } from '../../core/ports.js';

/** The login grants of the LoginClient port, for a configured `provider`. */
export function loginGrants(
  config: Configuration,
  provider: Provider,
  now: () => number,
): Pick<LoginClient, 'scopesSupported' | 'authorize' | 'startDevice'> {
  return {
    scopesSupported: config.serverMetadata().scopes_supported ?? [],
    async authorize(params, withNonce): Promise<AuthorizationRequest> {
      const secrets = await loginSecrets(withNonce);
      return {
        state: secrets.state,
        url: (redirectUri) =>
          authorizationUrl(config, {
            ...params,
            redirect_uri: redirectUri,
            code_challenge: secrets.challenge,
            code_challenge_method: 'S256',
            state: secrets.state,
            ...(secrets.nonce && { nonce: secrets.nonce }),
          }).href,
        exchange: (callback) =>
          exchangeCode(config, provider, callback, { ...secrets, idTokenExpected: withNonce }, now),
      };
    },
    async startDevice(scope): Promise<DeviceAuthorization> {
      const device = await startDevice(config, provider, { scope });
      return {
        verificationUri: device.verification_uri,
        verificationUriComplete: device.verification_uri_complete,
        userCode: device.user_code,
        expiresIn: device.expires_in,
        poll: (signal) => pollDevice(config, provider, device, signal, now),
      };
    },
  };
}
