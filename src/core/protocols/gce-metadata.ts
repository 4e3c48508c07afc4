/**
 * The GCE metadata server protocol, as far as Google's client libraries and gcloud use it to find
 * credentials (https://cloud.google.com/compute/docs/metadata/overview): which requests are
 * refused, and what each path answers. Pure: the HTTP server and the token service are the caller's.
 */

const FLAVOR_HEADER = 'metadata-flavor';
export const FLAVOR = 'Google';
const BASE = '/computeMetadata/v1/';
// No other universe is reachable through a vault login.
const UNIVERSE_DOMAIN = 'googleapis.com';

/**
 * Provider params that describe the project the metadata endpoint reports (`project/project-id`,
 * `project/numeric-project-id`), not the authorization request: they are never sent to the
 * authorization server, which may refuse parameters it does not know (Google does).
 */
export const METADATA_PARAMS: readonly string[] = ['project_id', 'project_number'];

/** What a metadata request carries that matters here (node's lower-cased header names). */
export interface MetadataRequest {
  method: string;
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The login behind the endpoint, as the paths describe it; no secret in here. */
export interface MetadataIdentity {
  /**
   * The service account name clients see besides `default` (serviceAccountName): gcloud takes it
   * from `default/email` as its active account and fails without one.
   */
  name: string;
  /** The scopes granted at login. */
  scopes: string[];
  projectId?: string;
  projectNumber?: string;
}

export type MetadataAnswer =
  | { kind: 'reply'; status: number; body: string; json?: boolean }
  /** A token is due: for `scopes` (a subset of the granted ones), else the login's own token. */
  | { kind: 'token'; scopes?: string[] };

const reply = (status: number, body: string, json = false): MetadataAnswer => ({ kind: 'reply', status, body, json });
const notFound = reply(404, 'not found\n');

/**
 * Why a request is refused before anything is served, or undefined. These are the checks of GCE's
 * own server, plus the Host check: a web page the user visits can make the browser send GETs to
 * 127.0.0.1 under its own host name after a DNS rebinding, but cannot make it send another Host
 * (aws-vault's local server lacked it: 99designs/aws-vault#578). Custom request headers such as
 * Metadata-Flavor need a CORS preflight (Fetch standard, "CORS-safelisted request-header"), which
 * nothing here answers, so a page cannot send them either; and a request relayed by a proxy
 * carries X-Forwarded-For, which GCE refuses too.
 */
export function refusal(req: MetadataRequest, expectedHost: string): string | undefined {
  if (req.method !== 'GET') return 'only GET is served';
  if (req.headers['x-forwarded-for'] !== undefined) return 'forwarded requests are refused';
  if (req.headers.host !== expectedHost) return 'wrong Host header';
  if (!req.url.startsWith('/')) return 'absolute request targets are refused';
  if (pathOf(req.url) !== '/' && req.headers[FLAVOR_HEADER] !== FLAVOR)
    return `missing header Metadata-Flavor: ${FLAVOR}`;
  return undefined;
}

function pathOf(url: string): string {
  return new URL(url, 'http://metadata.invalid').pathname;
}

/** The scopes a token request asks for: `scopes=a,b` (the libraries' form), commas or spaces. */
function askedScopes(url: string): string[] {
  const value = new URL(url, 'http://metadata.invalid').searchParams.get('scopes') ?? '';
  return [...new Set(value.split(/[\s,]+/).filter(Boolean))];
}

/**
 * The answer to an unrefused request. A token for asked scopes that are all granted is a
 * downscoped one (least privilege, RFC 6749 §6); scopes the login lacks cannot be had from its
 * refresh token, so those requests get the login's token, and the API decides.
 */
export function route(req: MetadataRequest, who: MetadataIdentity): MetadataAnswer {
  const url = new URL(req.url, 'http://metadata.invalid');
  const path = url.pathname;
  if (path === '/') return reply(200, 'computeMetadata/\n');
  if (!path.startsWith(BASE)) return notFound;
  const key = path.slice(BASE.length);
  switch (key) {
    case 'instance':
    case 'instance/':
      return reply(200, 'service-accounts/\n');
    case 'instance/service-accounts/':
      return reply(200, [...new Set(['default/', `${who.name}/`])].map((l) => `${l}\n`).join(''));
    case 'project/project-id':
      return who.projectId ? reply(200, who.projectId) : notFound;
    case 'project/numeric-project-id':
      return reply(200, who.projectNumber ?? '0');
    case 'universe/universe-domain':
      return reply(200, UNIVERSE_DOMAIN);
  }
  const account = /^instance\/service-accounts\/([^/]+)\/(.*)$/.exec(key);
  if (!account || !(account[1] === 'default' || account[1] === who.name)) return notFound;
  switch (account[2]) {
    case 'token': {
      const asked = askedScopes(req.url);
      const subset = asked.length > 0 && asked.every((s) => who.scopes.includes(s)) && asked.length < who.scopes.length;
      return subset ? { kind: 'token', scopes: asked } : { kind: 'token' };
    }
    case 'email':
      return reply(200, who.name);
    case 'scopes':
      return reply(200, who.scopes.map((s) => `${s}\n`).join(''));
    case '':
      if (url.searchParams.get('recursive') !== 'true') return notFound;
      return reply(200, JSON.stringify({ aliases: ['default'], email: who.name, scopes: who.scopes }), true);
    default:
      // identity (ID tokens) among them: a vault login cannot mint one for an arbitrary audience.
      return notFound;
  }
}

/**
 * The service account name for a login: its email, else its subject (the two a login records as
 * its identity), else the vault account name. A subject is used only when it is a plain path
 * segment, since clients put the name into metadata paths (`service-accounts/<name>/token`).
 */
export function serviceAccountName(identity: string | undefined, account: string): string {
  if (identity !== undefined && (identity.includes('@') || /^[\w.+-]+$/.test(identity)) && !identity.includes('/'))
    return identity;
  return account;
}

/** The token endpoint's body, as GCE writes it; `expiresIn` in seconds. */
export function tokenBody(accessToken: string, expiresIn: number): string {
  return JSON.stringify({ access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' });
}
