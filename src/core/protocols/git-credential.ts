import { isLoopbackHost, type Provider } from '../config/providers.js';
import { shQuote } from './shell.js';

/**
 * git's credential helper protocol (git-credential(1), "INPUT/OUTPUT FORMAT"): `key=value` lines
 * ending at a blank line or end of input. Keys ending in `[]` are multi-valued. Unknown keys are
 * kept and ignored, as git asks of helpers so that newer gits can talk to older helpers.
 */
export type Attribute = readonly [key: string, value: string];

/**
 * Bounds on what a helper reads. git sends a handful of short lines; `wwwauth[]` carries the
 * server's WWW-Authenticate headers, which stay far below these limits.
 */
export const LIMITS = { maxBytes: 256 * 1024, maxLines: 512, maxLineBytes: 64 * 1024 } as const;

/** Whether `text` already holds a whole message, so a helper can stop reading (blank line). */
export function messageComplete(text: string): boolean {
  return text.startsWith('\n') || text.startsWith('\r\n') || text.includes('\n\n') || text.includes('\n\r\n');
}

/**
 * Parses one message. Returns undefined for malformed input (a line without `=`, an empty key,
 * a NUL byte, or anything over LIMITS): a helper answers nothing rather than guess.
 */
export function parseCredential(text: string): Attribute[] | undefined {
  if (text.length > LIMITS.maxBytes || text.includes('\0')) return undefined;
  const attributes: Attribute[] = [];
  const lines = text.split('\n');
  // A final line without its newline is still a line (git reads to end of input).
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    // git reads lines with strbuf_getline(), which drops a CR before the LF.
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break;
    if (line.length > LIMITS.maxLineBytes || attributes.length >= LIMITS.maxLines) return undefined;
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    attributes.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return attributes;
}

/** A key or value that would change the meaning of the message if written out. */
function unsafe(text: string): boolean {
  return /[\0\r\n]/.test(text);
}

/**
 * Formats a message, or returns undefined when a key or value cannot be written safely (a line
 * break would let a value inject attributes, e.g. a second `password=`).
 */
export function formatCredential(attributes: readonly Attribute[]): string | undefined {
  let out = '';
  for (const [key, value] of attributes) {
    if (key === '' || key.includes('=') || unsafe(key) || unsafe(value)) return undefined;
    out += `${key}=${value}\n`;
  }
  return out;
}

/** The values of a multi-valued key like `capability[]`; an empty value clears the list. */
export function allValues(attributes: readonly Attribute[], key: string): string[] {
  let values: string[] = [];
  for (const [k, v] of attributes) {
    if (k !== key) continue;
    values = v === '' ? [] : [...values, v];
  }
  return values;
}

/** What a helper needs from git's request. */
export interface CredentialRequest {
  protocol?: string;
  /** Host name with its `:port` when git gave one, lower-cased. */
  host?: string;
  path?: string;
  username?: string;
  password?: string;
}

/**
 * Reads the request in order, so later attributes win. `url=` stands for its parts
 * (git-credential(1): "treated as if its constituent parts were read").
 */
export function credentialRequest(attributes: readonly Attribute[]): CredentialRequest {
  const request: CredentialRequest = {};
  for (const [key, value] of attributes) {
    switch (key) {
      case 'protocol':
        request.protocol = value.toLowerCase();
        break;
      case 'host':
        request.host = value.toLowerCase();
        break;
      case 'path':
      case 'username':
      case 'password':
        request[key] = value;
        break;
      case 'url':
        Object.assign(request, urlParts(value));
        break;
      default:
        break;
    }
  }
  return request;
}

function urlParts(value: string): CredentialRequest {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return {};
  }
  const parts: CredentialRequest = { protocol: url.protocol.replace(/:$/, '') };
  if (url.host) parts.host = url.host.toLowerCase();
  if (url.pathname.length > 1) parts.path = decodeURIComponent(url.pathname.slice(1));
  if (url.username) parts.username = decodeURIComponent(url.username);
  if (url.password) parts.password = decodeURIComponent(url.password);
  return parts;
}

/** `host:port` → `host`; `[::1]:8080` → `[::1]`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  return host.replace(/:\d*$/, '');
}

/**
 * Tokens go out over https only, and over http only to a loopback host, where nothing crosses
 * the network (the same rule as for issuers, RFC 8252 §8.3).
 */
export function protocolAllowed(protocol: string, host: string): boolean {
  if (protocol === 'https') return true;
  return protocol === 'http' && isLoopbackHost(hostName(host));
}

const DEFAULT_PORT: Record<string, string> = { https: '443', http: '80' };

/** A configured git host matches the request's host exactly, or with the protocol's default port. */
export function hostMatches(configured: string, requested: string, protocol: string): boolean {
  const want = configured.toLowerCase();
  const got = requested.toLowerCase();
  if (want === got) return true;
  const port = DEFAULT_PORT[protocol];
  return port !== undefined && `${want}:${port}` === got;
}

/** The first provider (in the order given) that lists the request's host among its git hosts. */
export function providerForHost<P extends Pick<Provider, 'git_hosts'>>(
  providers: readonly P[],
  protocol: string,
  host: string,
): P | undefined {
  if (!protocolAllowed(protocol, host)) return undefined;
  return providers.find((p) => (p.git_hosts ?? []).some((h) => hostMatches(h, host, protocol)));
}

/** The answer to `get`: username, password and, when the token expires, its expiry (git ≥ 2.41). */
export function credentialAnswer(username: string, password: string, expiresAtMs: number | null): Attribute[] {
  const answer: Attribute[] = [
    ['username', username],
    ['password', password],
  ];
  if (expiresAtMs !== null) answer.push(['password_expiry_utc', String(Math.floor(expiresAtMs / 1000))]);
  return answer;
}

/**
 * The `credential.<url>.helper` value that runs this vault: node and the script by absolute
 * path, so git finds it whatever PATH git runs with (IDEs, GUI clients, cron).
 */
export function helperCommand(nodePath: string, scriptPath: string): string {
  return `!${shQuote(nodePath)} ${shQuote(scriptPath)} git-credential`;
}

/** A helper value that runs the vault script at `scriptPath` (whichever node runs it): what `setup-git` wrote. */
export function isHelperFor(value: string, scriptPath: string): boolean {
  return value.startsWith('!') && value.endsWith(` ${shQuote(scriptPath)} git-credential`);
}

/** A helper value written by an earlier `setup-git` (say, before vault moved). */
export function isVaultHelper(value: string): boolean {
  return value.startsWith('!') && /\bvault\b/.test(value) && /\sgit-credential$/.test(value);
}

/** The URLs to configure for a git host: https, and http too when the host is loopback. */
export function credentialUrls(host: string): string[] {
  return protocolAllowed('http', host) ? [`https://${host}`, `http://${host}`] : [`https://${host}`];
}
