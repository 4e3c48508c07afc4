/**
 * OAuth 2.0 and OpenID Connect, the only code that imports openid-client: configuration and
 * discovery, the grants, and the classification of their failures. Loaded lazily (a dynamic
 * import of this module), never on the cached-token path.
 */
export { configure, discoverMetadata, type Configuration, type OAuthDeps } from './configure.js';
export { describe } from './errors.js';
export {
  authorizationUrl,
  exchangeCode,
  exchangeGrant,
  loginSecrets,
  pollDevice,
  refreshGrant,
  revoke,
  startDevice,
  type DeviceAuthorization,
} from './grants.js';
export { loginGrants } from './login-client.js';
export { discoverMcpServer, registerNativeClient } from './mcp-discovery.js';
