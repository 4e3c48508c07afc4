import { PRESETS } from './presets.js';
import { ENDPOINT_KEYS, type Provider, type ProviderConfig } from './providers.js';

/** A tenant id as it may appear in an issuer's path: no `/`, `?`, `#` or anything else to escape. */
const TENANT = /^[A-Za-z0-9._-]{1,128}$/;

/** The issuer a provider's ID tokens and RFC 9207 callbacks must carry, when its preset has a template. */
export interface TenantIssuer {
  /** The issuer when the endpoint names the tenant; undefined on a shared endpoint (`common`...). */
  fixed: string | undefined;
  /** The template filled with the endpoint's own segment: what stands in until a tenant is known. */
  placeholder: string;
  /** The claim that names the tenant on a shared endpoint (`tid`). */
  claim: string;
  /** The issuer the claims of an ID token name, or undefined when they name no tenant. */
  fromClaims(claims: Record<string, unknown>): string | undefined;
  /** Whether `iss` is the template filled with some tenant (only that tenant, on a fixed endpoint). */
  fits(iss: string): boolean;
}

/**
 * The preset's issuer template applied to the provider's authorization endpoint. Undefined when
 * the provider names its issuer itself (`--issuer`), or its preset has no template.
 */
export function tenantIssuer(provider: Provider): TenantIssuer | undefined {
  const template = provider.preset ? PRESETS[provider.preset]?.issuer_template : undefined;
  if (!template || provider.issuer || !provider.authorization_endpoint) return undefined;
  const url = new URL(provider.authorization_endpoint);
  const segment = url.pathname.split('/')[1] ?? '';
  const fill = (tenant: string) => template.template.replace('{origin}', url.origin).replace('{tenant}', tenant);
  const shared = template.any_tenant.includes(segment);
  const [before = '', after = ''] = fill('\0').split('\0');
  return {
    fixed: shared ? undefined : fill(segment),
    placeholder: fill(segment),
    claim: template.tenant_claim,
    fromClaims(claims) {
      const tenant = claims[template.tenant_claim];
      return typeof tenant === 'string' && TENANT.test(tenant) ? fill(tenant) : undefined;
    },
    fits(iss) {
      if (!shared) return iss === fill(segment);
      return (
        iss.length > before.length + after.length &&
        iss.startsWith(before) &&
        iss.endsWith(after) &&
        TENANT.test(iss.slice(before.length, iss.length - after.length))
      );
    },
  };
}

/**
 * The endpoints configured beside an issuer that discovery runs for (one without both an
 * authorization and a token endpoint): they win over the discovery document's (a proxy in front of
 * the token endpoint, a revocation endpoint the document leaves out), and discovery fills the rest.
 * The document's issuer is still checked against the configured one (RFC 8414 §3.3).
 */
export function configuredEndpoints(provider: ProviderConfig): Partial<Record<(typeof ENDPOINT_KEYS)[number], string>> {
  const endpoints: Partial<Record<(typeof ENDPOINT_KEYS)[number], string>> = {};
  for (const key of ENDPOINT_KEYS) if (provider[key] !== undefined) endpoints[key] = provider[key];
  return endpoints;
}
