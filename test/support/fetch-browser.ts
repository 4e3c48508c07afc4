// A fast stand-in for a browser: follows redirects by hand, keeps cookies, and submits the
// HTML forms oidc-provider shows (device flow pages, the auto-submitting form_post page,
// and devInteractions' login and consent pages). No JavaScript, no CSS, no real DOM.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_STEPS = 30;

/** A VAULT_BROWSER command (vault runs it through /bin/sh) for a script beside this file, from any directory. */
function browserCommand(script: string): string {
  // Inside a built browser this module is part of its bundle: nothing to build or start from there.
  if (!import.meta.url.endsWith('.ts')) return '';
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [process.execPath, bundled(script)].map(quote).join(' ');
}

/**
 * The script beside this file as one JavaScript file, built once per version of the two: every
 * login of every suite starts a browser, and through tsx's loader each cost five times the CPU of
 * the browser's own work (the suites run on two cores).
 */
function bundled(script: string): string {
  const entry = fileURLToPath(new URL(script, import.meta.url));
  const hash = createHash('sha256')
    .update(readFileSync(entry))
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  const dir = fileURLToPath(new URL('../../node_modules/.cache/vault-test/', import.meta.url));
  const out = join(dir, `${basename(script, '.ts')}-${hash}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    // Suites start side by side: each builds its own file and renames it into place.
    const temporary = `${out}.${process.pid}.tmp`;
    // Required, not imported, so that esbuild stays out of the bundles it builds.
    const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: temporary });
    renameSync(temporary, out);
  }
  return out;
}

/** VAULT_BROWSER that completes the login through the test server (see fetch-browser-cli.ts). */
export const FETCH_BROWSER = browserCommand('fetch-browser-cli.ts');
/** VAULT_BROWSER that clicks "Cancel" on the server's login page (needs autoLogin: false). */
export const DENY_BROWSER = browserCommand('deny-browser-cli.ts');

/** Login name typed into devInteractions' login page (it accepts any name and password). */
export const LOGIN_NAME = 'alice';

export interface Page {
  url: URL;
  status: number;
  html: string;
}

interface Cookie {
  origin: string;
  path: string;
  name: string;
  value: string;
  expires: number;
}

interface Form {
  action: string;
  fields: URLSearchParams;
}

export class FetchBrowser {
  readonly #cookies = new Map<string, Cookie>();

  /**
   * Navigates from `start`, following redirects and submitting forms, until the next request
   * would go to a URL for which `stopBefore` is true (that URL is returned without being
   * requested) or a page offers nothing more to do (that page is returned).
   */
  async navigate(start: string | URL, stopBefore: (url: URL) => boolean = () => false): Promise<URL | Page> {
    let url = new URL(start);
    let form: URLSearchParams | undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      if (stopBefore(url)) return url;

      const headers: Record<string, string> = { accept: 'text/html' };
      const cookie = this.#cookieHeader(url);
      if (cookie) headers.cookie = cookie;
      const response = await fetch(
        url,
        form ? { method: 'POST', headers, body: form, redirect: 'manual' } : { headers, redirect: 'manual' },
      );
      this.#storeCookies(url, response.headers.getSetCookie());

      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        // 302 and 303 after a POST both turn into a GET, as in browsers.
        url = new URL(location, url);
        form = undefined;
        continue;
      }

      const html = await response.text();
      const next = response.ok ? submittableForm(html) : undefined;
      if (!next) return { url, status: response.status, html };
      url = new URL(next.action, url);
      form = next.fields;
    }
    throw new Error(`fetch browser: more than ${MAX_STEPS} steps from ${String(start)}`);
  }

  #cookieHeader(url: URL): string {
    const now = Date.now();
    const cookies: string[] = [];
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expires <= now) {
        this.#cookies.delete(key);
      } else if (cookie.origin === url.origin && pathMatches(url.pathname, cookie.path)) {
        cookies.push(`${cookie.name}=${cookie.value}`);
      }
    }
    return cookies.join('; ');
  }

  #storeCookies(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const cookie: Cookie = {
        origin: url.origin,
        path: defaultPath(url.pathname),
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        expires: Infinity,
      };
      for (const attribute of attributes) {
        const [rawName = '', ...rest] = attribute.split('=');
        const name = rawName.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (name === 'path' && value.startsWith('/')) cookie.path = value;
        else if (name === 'expires') cookie.expires = Date.parse(value);
        else if (name === 'max-age') cookie.expires = Date.now() + Number(value) * 1000;
      }
      const key = `${cookie.origin} ${cookie.path} ${cookie.name}`;
      if (!cookie.value || !(cookie.expires > Date.now())) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }
}

/**
 * Follows an authorization URL (or vault's one-time launch URL to it) through the authorization server (auto-login interactions or
 * devInteractions' pages, logging in as `alice`) and returns the URL the browser was sent back
 * to — the request's `redirect_uri` with `code`, `state` and `iss`, or `error` — without
 * requesting it. Throws, with the server's error if it showed one, when the flow ends elsewhere.
 */
export async function authorizeWithFetch(startUrl: string): Promise<URL> {
  const authorizationUrl = await launchedAt(startUrl);
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error('authorization URL has no redirect_uri');
  const callback = new URL(redirectUri);
  const result = await new FetchBrowser().navigate(
    authorizationUrl,
    (url) => url.origin === callback.origin && url.pathname === callback.pathname,
  );
  if (result instanceof URL) return result;
  throw new Error(`authorization ended at ${result.url.href} (HTTP ${result.status})${describeErrorPage(result.html)}`);
}

/**
 * The authorization URL a browser started on `url` goes to: `url` itself, or where vault's one-time
 * launch URL (`http://127.0.0.1:PORT/<random>`, no redirect_uri of its own) redirects, asked once.
 */
export async function launchedAt(url: string): Promise<string> {
  if (new URL(url).searchParams.has('redirect_uri')) return url;
  const response = await fetch(url, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) throw new Error(`the launch URL answered ${response.status}, no redirect`);
  return new URL(location, url).href;
}

/** The error shown on an oidc-provider page (error page or device flow page), if any. */
export function describeErrorPage(html: string): string {
  const fields = [...html.matchAll(/<pre><strong>(\w+)<\/strong>: ([^<]*)<\/pre>/g)]
    .filter(([, name]) => name === 'error' || name === 'error_description')
    .map(([, name, value]) => `${name}=${decodeEntities(value ?? '')}`);
  const deviceMessage = /<p class="red">([^<]*)<\/p>/.exec(html)?.[1];
  if (deviceMessage) fields.push(decodeEntities(deviceMessage));
  return fields.length ? `: ${fields.join(' ')}` : '';
}

/** The page's first POST form, with its fields filled in, if every field can be filled. */
function submittableForm(html: string): Form | undefined {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!match) return undefined;
  const formAttributes = parseAttributes(match[1] ?? '');
  if ((formAttributes.get('method') ?? 'get').toLowerCase() !== 'post') return undefined;

  const fields = new URLSearchParams();
  for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
    const attributes = parseAttributes(input[1] ?? '');
    const name = attributes.get('name');
    if (!name) continue;
    const type = attributes.get('type')?.toLowerCase();
    let value: string | undefined;
    if (type === 'hidden') value = attributes.get('value') ?? '';
    else if (name === 'login') value = LOGIN_NAME;
    else if (type === 'password') value = 'any password';
    // Any other visible field (the device flow's user code, also when a re-rendered page
    // repeats a rejected one) is for a human: stop rather than loop.
    if (value === undefined) return undefined;
    fields.append(name, value);
  }
  return { action: formAttributes.get('action') ?? '', fields };
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const [, name = '', doubleQuoted, singleQuoted, bare] of source.matchAll(
    /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g,
  )) {
    const value = doubleQuoted ?? singleQuoted ?? bare;
    if (value !== undefined) attributes.set(name.toLowerCase(), decodeEntities(value));
  }
  return attributes;
}

function decodeEntities(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39|#x27);/g,
    (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[entity] ?? '',
  );
}

// RFC 6265 §5.1.4: a cookie path matches its own path and paths below it.
function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  );
}

// RFC 6265 §5.1.4: without a Path attribute, the request path up to its last '/'.
function defaultPath(requestPath: string): string {
  const slash = requestPath.lastIndexOf('/');
  return slash > 0 ? requestPath.slice(0, slash) : '/';
}
