/**
 * What a local metadata endpoint (`--gce`, `--azure`) serves, whatever protocol it speaks: one
 * login's tokens through the one single-flight refresh path, and the login as the protocol
 * describes it. The HTTP servers (infra/) hold one of these and nothing else, as aws-vault's ECS
 * server holds one credentials provider.
 */
import type { Provider } from '../config/providers.js';
import { ciLogin, readLogin, type AccessRecord } from '../credentials.js';
import { serviceAccountName, type MetadataIdentity } from '../protocols/gce-metadata.js';
import { azureScopes } from '../protocols/azure-identity.js';
import type { Clock, SecretStore } from '../ports.js';

/** Obtains a token valid for the job's margin (through the one single-flight refresh path); `scopes` narrows it. */
export type Obtain = (scopes?: string[]) => Promise<AccessRecord>;

/** A token as an endpoint hands it out. */
export interface EndpointToken {
  accessToken: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface MetadataEndpoint {
  /** The client id of the login's provider (Azure's answers name it). */
  readonly clientId: string;
  /** The login as the GCE metadata paths describe it. */
  identity(): Promise<MetadataIdentity>;
  /** The scopes a token for an Azure resource is asked for (see azureScopes); undefined: the login's own token. */
  azureScopes(resource: string): string[] | undefined;
  /** A token for `scopes` (undefined: the login's own token); concurrent asks for one scope set share one. */
  token(scopes?: string[]): Promise<EndpointToken>;
  /** A request that could not be answered (a failed refresh), for stderr. */
  report(message: string): void;
}

export interface MetadataEndpointDeps {
  store: SecretStore;
  /** The configured provider of that name: the source of an exchanged provider. */
  provider(name: string): Provider;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  warn(message: string): void;
}

// A token that does not expire (a CI pass-through, a GitHub OAuth app's) is announced as living
// five minutes: clients then ask again now and then, which costs a local round trip.
const UNKNOWN_LIFETIME_MS = 300_000;

/**
 * The endpoint's token source for the login (provider, account): requests for the same scopes that
 * arrive while one is being obtained wait for it rather than start another.
 */
export function metadataEndpoint(
  deps: MetadataEndpointDeps,
  provider: Provider,
  account: string,
  obtain: Obtain,
): MetadataEndpoint {
  const inFlight = new Map<string, Promise<AccessRecord>>();
  // An exchanged provider has no login or client of its own: the user and client are its source's,
  // the scopes those it asks the exchange for.
  const source = provider.exchange_from === undefined ? provider : deps.provider(provider.exchange_from);
  return {
    clientId: source.client_id,
    azureScopes: (resource) => azureScopes(provider, resource),
    async identity() {
      const login = (await readLogin(deps.store, source.name, account)) ?? ciLogin(deps.env, source.name);
      const scope = source === provider ? (login?.scope ?? '') : (provider.scopes ?? []).join(' ');
      return {
        name: serviceAccountName(login?.identity, account),
        scopes: scope.split(' ').filter(Boolean),
        projectId: provider.params?.project_id ?? (deps.env.GOOGLE_CLOUD_PROJECT || undefined),
        projectNumber: provider.params?.project_number,
      };
    },
    async token(scopes) {
      const key = scopes?.join(' ') ?? '';
      let pending = inFlight.get(key);
      if (!pending) {
        pending = obtain(scopes).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const record = await pending;
      return {
        accessToken: record.access_token,
        expiresAt: record.expires_at ?? deps.clock.now() + UNKNOWN_LIFETIME_MS,
      };
    },
    report: (message) => deps.warn(message),
  };
}
