import type { Provider } from '../config/providers.js';

/**
 * Docker's credential-helper protocol (github.com/docker/docker-credential-helpers): the client
 * runs `docker-credential-<name> get` with a registry's server URL on stdin and reads
 * `{"ServerURL","Username","Secret"}` from stdout. A helper without credentials for it exits 1
 * with exactly this text on stdout: docker and containers/image (skopeo, podman, buildah) then go
 * on without credentials instead of failing.
 */
export const NOT_FOUND = 'credentials not found in native keychain';

/** The user name a registry gets with the token when the provider names none. */
export const DEFAULT_REGISTRY_USERNAME = 'oauth2';

/** A registry host as configured (see checkRegistryHost): ASCII letters, digits, `.` and `-`, an optional port. */
const HOST = /^[a-z0-9]([a-z0-9.-]{0,252})(:[0-9]{1,5})?$/;

/**
 * `https://eu.gcr.io/v2/` → `eu.gcr.io`; `127.0.0.1:5000` stays; undefined for what is no host.
 * The host is taken as docker sent it, only lower-cased (DNS names are case-insensitive), with no
 * WHATWG URL normalisation: that would turn `ｇｃｒ.io` (fullwidth, IDNA-mapped) or `gcr%2eio`
 * (percent-decoded) into `gcr.io`, and drop a scheme's default port, so a server URL docker never
 * uses for gcr.io would get gcr.io's token. Only `https://` and `http://` prefixes are taken off.
 */
export function registryHostOf(serverUrl: string): string | undefined {
  const text = serverUrl.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0];
  if (scheme !== undefined && !/^https?:\/\/$/i.test(scheme)) return undefined;
  const rest = text.slice(scheme?.length ?? 0);
  const slash = rest.indexOf('/');
  const host = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  // Docker sends a host and at most a path: a query, fragment or white space makes it something else.
  if (!HOST.test(host) || /[\s?#]/.test(rest)) return undefined;
  return host;
}

/**
 * Whether `host` is one of `pattern`'s: itself, or with a leading wildcard, any single DNS label in
 * its place (`*.gcr.io`: eu.gcr.io, not a.b.gcr.io; `*-docker.pkg.dev`: europe-west1-docker.pkg.dev).
 * One label only, as in TLS certificates (RFC 6125 §6.4.3), so a pattern never reaches into
 * subdomains someone else may control.
 */
export function registryMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*')) return pattern === host;
  const rest = pattern.slice(1);
  if (!host.endsWith(rest)) return false;
  const label = host.slice(0, -rest.length);
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label);
}

/** The provider serving a registry host: the first, in configuration order, with an exact entry for it, else with a wildcard one. */
export function providerForRegistry(providers: readonly Provider[], host: string): Provider | undefined {
  return (
    providers.find((p) => p.registry_hosts?.includes(host)) ??
    providers.find((p) => p.registry_hosts?.some((pattern) => registryMatches(pattern, host)))
  );
}

export function credentialAnswer(serverUrl: string, username: string, secret: string): string {
  return `${JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret })}\n`;
}

/** `list`: each registry host (or pattern) vault serves, with the user name it answers. */
export function listAnswer(providers: readonly Provider[]): string {
  const hosts: Record<string, string> = {};
  for (const p of providers) {
    for (const host of p.registry_hosts ?? []) hosts[host] ??= p.registry_username ?? DEFAULT_REGISTRY_USERNAME;
  }
  return `${JSON.stringify(hosts)}\n`;
}

/** The `credHelpers` value that makes docker run `docker-credential-vault`. */
const HELPER_NAME = 'vault';

/**
 * `setup-docker`: the docker config document with `credHelpers` entries for `hosts` set to vault
 * (or, with `remove`, vault's entries for them taken out; without hosts, all of vault's). Every
 * other key and every other helper's entry stays as it was. `changed` lists the hosts touched.
 */
export function editCredHelpers(
  doc: Record<string, unknown>,
  hosts: readonly string[] | undefined,
  remove: boolean,
): { doc: Record<string, unknown>; changed: string[] } {
  const current = doc.credHelpers;
  const helpers: Record<string, unknown> =
    typeof current === 'object' && current !== null && !Array.isArray(current)
      ? { ...(current as Record<string, unknown>) }
      : {};
  const changed: string[] = [];
  if (remove) {
    for (const [host, helper] of Object.entries(helpers)) {
      if (helper === HELPER_NAME && (hosts === undefined || hosts.includes(host))) {
        delete helpers[host];
        changed.push(host);
      }
    }
  } else {
    for (const host of hosts ?? []) {
      if (helpers[host] === HELPER_NAME) continue;
      helpers[host] = HELPER_NAME;
      changed.push(host);
    }
  }
  // A file that had no credHelpers gets none from a removal that found nothing.
  return {
    doc: Object.keys(helpers).length || current !== undefined ? { ...doc, credHelpers: helpers } : { ...doc },
    changed,
  };
}
