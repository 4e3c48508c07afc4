import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../debug.js';

/** The proxy settings of the environment, as curl and most tools read them. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  /** The variables the proxies came from, for messages (never their values: they may hold a password). */
  names: { http?: string; https?: string };
}

/** The first non-empty variable of `names`, lower case first (curl's order). */
function pick(env: NodeJS.ProcessEnv, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * A proxy URL as undici needs it: `proxy.corp:3128` (scheme-less, as curl accepts it) means
 * http://. Only http and https proxies exist for undici's ProxyAgent.
 */
function proxyUrl(name: string, value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${name} is not a proxy URL (expected http://[user:password@]host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `${name}: ${url.protocol.slice(0, -1)} proxies are not supported; use an http:// or https:// proxy`,
    );
  }
  return withScheme;
}

/** The proxies set in `env`, or undefined when none is: then nothing proxy-related is loaded. */
export function proxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const http = pick(env, ['http_proxy', 'HTTP_PROXY']);
  const https = pick(env, ['https_proxy', 'HTTPS_PROXY']);
  if (!http && !https) return undefined;
  const noProxy = pick(env, ['no_proxy', 'NO_PROXY']);
  return {
    ...(http && { httpProxy: proxyUrl(http.name, http.value) }),
    ...(https && { httpsProxy: proxyUrl(https.name, https.value) }),
    noProxy: noProxy?.value ?? '',
    names: { ...(http && { http: http.name }), ...(https && { https: https.name }) },
  };
}

/**
 * The proxy a request to `target` goes through, named for messages: the same choice as undici's
 * EnvHttpProxyAgent (https:// takes HTTPS_PROXY, else HTTP_PROXY; NO_PROXY entries match a host,
 * its subdomains, optionally one port; `*` alone matches everything).
 */
export function proxyFor(settings: ProxySettings, target: string): string | undefined {
  const url = new URL(target);
  const https = url.protocol === 'https:';
  const [proxy, name] =
    https && settings.httpsProxy
      ? [settings.httpsProxy, settings.names.https]
      : [settings.httpProxy, settings.names.http];
  if (!proxy) return undefined;
  const noProxy = settings.noProxy ?? '';
  if (noProxy.trim() === '*') return undefined;
  const host = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number(url.port) || (https ? 443 : 80);
  for (const entry of noProxy.split(/[,\s]/).filter(Boolean)) {
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const entryHost = (withPort ? withPort[1]! : entry).replace(/^\*?\./, '').toLowerCase();
    if (withPort && Number(withPort[2]) !== port) continue;
    if (host === entryHost || host.endsWith(`.${entryHost}`)) return undefined;
  }
  return `proxy ${redactUrl(proxy)} (${name})`;
}

/** The proxy's answer when it refused the tunnel (CONNECT answered other than 200), else undefined. */
export function proxyRefusal(error: unknown): string | undefined {
  for (let e = error as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const status = typeof e.message === 'string' ? /Proxy response \((\d+)\)/.exec(e.message)?.[1] : undefined;
    if (status) {
      // RFC 9110 §15.5.8: 407 asks for proxy credentials; some proxies (tinyproxy) answer 401.
      const hint = status === '407' || status === '401' ? ' (check the user and password in the proxy URL)' : '';
      return `HTTP ${status}${hint}`;
    }
    if (e.cause === e) break;
  }
  return undefined;
}

/** One debug line naming the proxies, with any credentials in them redacted. */
export function describeProxies(settings: ProxySettings): string {
  const parts: string[] = [];
  if (settings.httpsProxy) parts.push(`https via ${redactUrl(settings.httpsProxy)} (${settings.names.https})`);
  if (settings.httpProxy)
    parts.push(
      `http${settings.httpsProxy ? '' : 's and http'} via ${redactUrl(settings.httpProxy)} (${settings.names.http})`,
    );
  return `proxy: ${parts.join(', ')}; not for: ${settings.noProxy || '-'}`;
}

/**
 * A fetch that goes through the proxies: undici's EnvHttpProxyAgent (CONNECT tunnels, NO_PROXY
 * host and domain-suffix matching, `*`), given the values read from `env` rather than letting it
 * read process.env itself. undici is imported here only, so a run without a proxy never loads it.
 */
export async function proxiedFetch(settings: ProxySettings): Promise<typeof fetch> {
  // undici is CommonJS: its exports are the default export, bundled or not.
  const undici = (await import('undici')).default;
  const dispatcher = new undici.EnvHttpProxyAgent({
    ...(settings.httpProxy && { httpProxy: settings.httpProxy }),
    ...(settings.httpsProxy && { httpsProxy: settings.httpsProxy }),
    noProxy: settings.noProxy ?? '',
  });
  return ((url: string, init: RequestInit = {}) =>
    undici.fetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}
