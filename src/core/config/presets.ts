import type { ProviderConfig } from './providers.js';

/**
 * The issuer (`iss`) of a server whose ID tokens and RFC 9207 callbacks name a tenant in a path,
 * as a template: `{origin}` is the authorization endpoint's origin, `{tenant}` the first segment
 * of its path, or, when that segment is one of `any_tenant` (an endpoint every tenant shares), the
 * ID token's `tenant_claim`. Relative to the configured endpoint, so a local stand-in works too.
 */
export interface IssuerTemplate {
  template: string;
  tenant_claim: string;
  any_tenant: string[];
}

/**
 * What to tell a user about a preset's server's own refresh-token rules, when a login or refresh
 * goes wrong. Also used for a provider set up by hand that `recognised_by` matches.
 */
export interface RefreshTokenHints {
  /** Why the server may have refused a refresh token (`invalid_grant`). */
  rejected: string;
  /** Why a login returned no refresh token. */
  missing: string;
  /** A token endpoint containing `token_host`, or a `param` set to its value, marks the same server. */
  recognised_by: { token_host: string; param: [string, string] };
}

/** What a preset fills in for `vault provider add --preset`. Plain data: add a provider by adding a row. */
export interface Preset extends Omit<
  ProviderConfig,
  'preset' | 'client_id' | 'authorization_endpoint' | 'token_endpoint' | 'scopes'
> {
  authorization_endpoint: string;
  token_endpoint: string;
  scopes: string[];
  /** Looked up by the preset's name when a login is checked; never copied into config.toml. */
  issuer_template?: IssuerTemplate;
  /** Looked up by the preset's name when an error is explained; never copied into config.toml. */
  refresh_token_hints?: RefreshTokenHints;
  /** The scope for an Azure resource asked of `--azure` (`{resource}` replaced); never copied into config.toml. */
  azure_scope_template?: string;
}

export const PRESETS: Record<string, Preset> = {
  // Desktop-app clients: https://developers.google.com/identity/protocols/oauth2/native-app
  google: {
    issuer: 'https://accounts.google.com',
    authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    token_endpoint: 'https://oauth2.googleapis.com/token',
    revocation_endpoint: 'https://oauth2.googleapis.com/revoke',
    device_authorization_endpoint: 'https://oauth2.googleapis.com/device/code',
    userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
    scopes: ['openid', 'email', 'profile'],
    // Google issues a refresh token only with access_type=offline, and again on a later login
    // only with prompt=consent.
    params: { access_type: 'offline', prompt: 'consent' },
    // Terraform's Google provider reads the first, gcloud (and the Cloud SDK tools) the second.
    env_names: ['GOOGLE_OAUTH_ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN'],
    // Container Registry and Artifact Registry take an OAuth access token as the password of this
    // fixed user name: https://cloud.google.com/artifact-registry/docs/docker/authentication#token
    registry_hosts: ['gcr.io', '*.gcr.io', '*-docker.pkg.dev'],
    registry_username: 'oauth2accesstoken',
    // Google keeps the refresh token across refreshes (no rotation): an exported copy can live
    // beside the local one. https://developers.google.com/identity/protocols/oauth2#expiration
    rotates_refresh_tokens: false,
    refresh_token_hints: {
      // https://developers.google.com/identity/protocols/oauth2#expiration
      rejected: 'Google expires refresh tokens after 7 days for apps in "Testing" status',
      missing: "Google sends one only with access_type=offline and prompt=consent (check the provider's params)",
      recognised_by: { token_host: 'googleapis.com', param: ['access_type', 'offline'] },
    },
  },
  // OAuth apps and GitHub Apps: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
  github: {
    authorization_endpoint: 'https://github.com/login/oauth/authorize',
    token_endpoint: 'https://github.com/login/oauth/access_token',
    device_authorization_endpoint: 'https://github.com/login/device/code',
    scopes: ['repo', 'read:org', 'gist'],
    env_names: ['GH_TOKEN', 'GITHUB_TOKEN'],
    git_hosts: ['github.com'],
    registry_hosts: ['ghcr.io'],
  },
  gitlab: {
    issuer: 'https://gitlab.com',
    authorization_endpoint: 'https://gitlab.com/oauth/authorize',
    token_endpoint: 'https://gitlab.com/oauth/token',
    revocation_endpoint: 'https://gitlab.com/oauth/revoke',
    device_authorization_endpoint: 'https://gitlab.com/oauth/authorize_device',
    userinfo_endpoint: 'https://gitlab.com/oauth/userinfo',
    jwks_uri: 'https://gitlab.com/oauth/discovery/keys',
    scopes: ['openid', 'email', 'read_repository', 'write_repository'],
    env_names: ['GITLAB_TOKEN'],
    git_hosts: ['gitlab.com'],
    git_username: 'oauth2',
    // GitLab (Doorkeeper) revokes the one token sent to /oauth/revoke; a new login is a new token
    // pair, so the one it replaces can go. (Not Google: a revocation there ends the user's whole
    // grant to the client, new login included.)
    revoke_replaced: true,
  },
  // The multi-tenant `common` endpoints; single-tenant apps use --issuer https://login.microsoftonline.com/<tenant>/v2.0.
  microsoft: {
    authorization_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    token_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    device_authorization_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    env_names: ['AZURE_ACCESS_TOKEN'],
    // Microsoft identity platform ID tokens carry iss https://login.microsoftonline.com/{tid}/v2.0;
    // on the shared endpoints the tenant is the user's, known only from the token's `tid` (as in MSAL).
    issuer_template: {
      template: '{origin}/{tenant}/v2.0',
      tenant_claim: 'tid',
      any_tenant: ['common', 'organizations', 'consumers'],
    },
    // A v2.0 token for a v1 resource (what Azure SDKs and az ask for): https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope
    azure_scope_template: '{resource}/.default',
  },
};

/** The fields a preset writes into a provider's table of config.toml. */
export function presetConfig(
  preset: Preset,
): Omit<Preset, 'issuer_template' | 'refresh_token_hints' | 'azure_scope_template'> {
  const {
    issuer_template: _template,
    refresh_token_hints: _hints,
    azure_scope_template: _azure,
    ...fields
  } = structuredClone(preset);
  return fields;
}

/**
 * The refresh-token hints for a provider: its preset's, else those of a preset whose server it is
 * recognised as, by its token endpoint (`by: 'token_host'`) or its params (`by: 'param'`).
 */
export function refreshTokenHints(
  provider: Pick<ProviderConfig, 'preset' | 'token_endpoint' | 'params'>,
  by: 'token_host' | 'param',
): RefreshTokenHints | undefined {
  const own = PRESETS[provider.preset ?? '']?.refresh_token_hints;
  if (own) return own;
  for (const preset of Object.values(PRESETS)) {
    const hints = preset.refresh_token_hints;
    if (!hints) continue;
    const [name, value] = hints.recognised_by.param;
    const match =
      by === 'token_host'
        ? provider.token_endpoint?.includes(hints.recognised_by.token_host)
        : provider.params?.[name] === value;
    if (match) return hints;
  }
  return undefined;
}
