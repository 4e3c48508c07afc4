import { parse as parseToml } from 'smol-toml';
import { UsageError } from '../errors.js';
import { checkEnvName, checkGitHost, checkRegistryHost, checkProviderName, closestName } from './names.js';
import { ENDPOINT_KEYS, checkEndpointUrl, type Config, type ProviderConfig } from './providers.js';
import { checkResourceIndicator } from './mcp.js';

const URL_KEYS = ['issuer', ...ENDPOINT_KEYS, 'mcp_url'] as const;
const STRING_KEYS = ['preset', ...URL_KEYS, 'client_id', 'git_username', 'registry_username'] as const;
const LIST_KEYS = ['scopes', 'env_names', 'git_hosts', 'registry_hosts'] as const;
const BOOLEAN_KEYS = ['revoke_replaced', 'rotates_refresh_tokens'] as const;
/** Seconds, from 0 to a day. */
const SECONDS_KEYS = ['rotation_grace'] as const;
const KNOWN_KEYS = new Set<string>([...STRING_KEYS, ...LIST_KEYS, ...BOOLEAN_KEYS, ...SECONDS_KEYS, 'params']);
/** Tables of strings besides `params`. */
const STRING_TABLE_KEYS = ['azure_resources'] as const;
for (const key of STRING_TABLE_KEYS) KNOWN_KEYS.add(key);
/** The keys of a provider whose tokens come by token exchange (validateExchanged). */
const EXCHANGE_KEYS = [
  'exchange_from',
  'exchange',
  'connection',
  'login_hint',
  'audience',
  'resource',
  'subject_token',
];
for (const key of EXCHANGE_KEYS) KNOWN_KEYS.add(key);

/** The lists whose every entry is a name of some kind, and the check each entry must pass. */
const NAME_LISTS = [
  ['env_names', checkEnvName],
  ['git_hosts', checkGitHost],
  ['registry_hosts', checkRegistryHost],
] as const;

/** ", did you mean X?" for the known key nearest to a typo (`scope`, `client-id`), else nothing. */
function didYouMean(key: string, known: string[]): string {
  const near = closestName(key, known) ?? closestName(key.replace(/-/g, '_'), known);
  return near ? ` (did you mean ${near}?)` : '';
}

/** Validates one provider table; `where` names the file and key for messages. */
export function validateProvider(name: string, raw: unknown, where: string): ProviderConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${where}: expected a table`);
  const table = raw as Record<string, unknown>;
  for (const key of Object.keys(table)) {
    if (!KNOWN_KEYS.has(key)) throw new UsageError(`${where}.${key}: unknown key${didYouMean(key, [...KNOWN_KEYS])}`);
  }
  for (const key of STRING_KEYS) {
    if (key in table && (typeof table[key] !== 'string' || table[key] === ''))
      throw new UsageError(`${where}.${key}: expected a non-empty string`);
  }
  for (const key of LIST_KEYS) {
    const v = table[key];
    if (v !== undefined && (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== ''))) {
      throw new UsageError(`${where}.${key}: expected a list of non-empty strings`);
    }
  }
  for (const key of BOOLEAN_KEYS) {
    if (key in table && typeof table[key] !== 'boolean')
      throw new UsageError(`${where}.${key}: expected true or false`);
  }
  for (const key of SECONDS_KEYS) {
    const v = table[key];
    if (key in table && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 86_400))
      throw new UsageError(`${where}.${key}: expected a number of seconds from 0 to 86400`);
  }
  if (table.params !== undefined) {
    const p = table.params;
    if (
      typeof p !== 'object' ||
      p === null ||
      Array.isArray(p) ||
      !Object.values(p).every((s) => typeof s === 'string')
    ) {
      throw new UsageError(`${where}.params: expected a table of strings`);
    }
  }
  for (const key of STRING_TABLE_KEYS) {
    const t = table[key];
    if (t !== undefined && !isStringTable(t)) throw new UsageError(`${where}.${key}: expected a table of strings`);
  }
  const cfg = table as unknown as ProviderConfig;
  if (cfg.exchange_from !== undefined) return validateExchanged(name, cfg, where);
  if (!cfg.client_id)
    throw new UsageError(`${where}.client_id: missing (every provider needs the client id registered there)`);
  for (const key of URL_KEYS) {
    const v = cfg[key];
    if (v === undefined) continue;
    const why = checkEndpointUrl(v);
    if (why) throw new UsageError(`${where}.${key}: ${why} (${v})`);
  }
  if (!cfg.issuer && !(cfg.authorization_endpoint && cfg.token_endpoint)) {
    throw new UsageError(`${where}: needs an issuer, or both authorization_endpoint and token_endpoint`);
  }
  if (cfg.resource !== undefined) {
    const why = typeof cfg.resource === 'string' ? checkResourceIndicator(cfg.resource) : 'expected a string';
    if (why) throw new UsageError(`${where}.resource: ${why} (${String(cfg.resource)})`);
  }
  checkNameLists(cfg, where);
  for (const s of cfg.scopes ?? []) {
    if (/\s/.test(s))
      throw new UsageError(`${where}.scopes: ${JSON.stringify(s)} contains white space; list each scope separately`);
  }
  checkProviderName(name);
  return cfg;
}

/** Parses and validates the text of config.toml. */
export function parseConfig(text: string, file: string): Config {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const e = error as { message?: string; line?: number; column?: number };
    const at = typeof e.line === 'number' ? ` at line ${e.line}, column ${e.column ?? 0}` : '';
    const first = String(e.message ?? error).split('\n')[0];
    throw new UsageError(`${file}: malformed TOML${at}: ${first}`, { cause: error });
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'providers') throw new UsageError(`${file}: ${key}: unknown key${didYouMean(key, ['providers'])}`);
  }
  const providers = doc.providers ?? {};
  if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) {
    throw new UsageError(`${file}: providers: expected a table`);
  }
  const out: Record<string, ProviderConfig> = {};
  for (const [name, table] of Object.entries(providers as Record<string, unknown>)) {
    const where = `${file}: providers.${name}`;
    try {
      checkProviderName(name);
    } catch (e) {
      throw new UsageError(`${where}: ${(e as Error).message}`);
    }
    out[name] = validateProvider(name, table, where);
  }
  return { providers: out };
}

function isStringTable(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((s) => typeof s === 'string' && s !== '')
  );
}

/** The keys that make no sense beside `exchange_from`: the source provider's server and client are used. */
const NOT_WITH_EXCHANGE = ['issuer', 'client_id', 'preset', ...ENDPOINT_KEYS, 'params', 'mcp_url'] as const;

/**
 * A provider whose tokens come by exchange: `exchange` says which, with its own keys; it talks to
 * the server of `exchange_from` with that provider's client, so it has neither of its own.
 */
function validateExchanged(name: string, cfg: ProviderConfig, where: string): ProviderConfig {
  for (const key of EXCHANGE_KEYS) {
    const v = (cfg as unknown as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new UsageError(`${where}.${key}: expected a non-empty string`);
  }
  for (const key of NOT_WITH_EXCHANGE) {
    if (cfg[key] !== undefined)
      throw new UsageError(
        `${where}.${key}: not used with exchange_from (the server and client of ${cfg.exchange_from} are used)`,
      );
  }
  checkProviderName(cfg.exchange_from!);
  if (cfg.exchange_from === name)
    throw new UsageError(`${where}.exchange_from: a provider cannot exchange its own login`);
  if (cfg.exchange === 'token-vault') {
    if (!cfg.connection)
      throw new UsageError(`${where}.connection: missing (the Token Vault exchange names a connection)`);
    for (const key of ['audience', 'resource', 'subject_token'] as const)
      if (cfg[key] !== undefined) throw new UsageError(`${where}.${key}: only for exchange = "rfc8693"`);
  } else if (cfg.exchange === 'rfc8693') {
    for (const key of ['connection', 'login_hint'] as const)
      if (cfg[key] !== undefined) throw new UsageError(`${where}.${key}: only for exchange = "token-vault"`);
    if (cfg.subject_token !== undefined && cfg.subject_token !== 'access' && cfg.subject_token !== 'id')
      throw new UsageError(`${where}.subject_token: expected "access" or "id"`);
  } else {
    throw new UsageError(`${where}.exchange: expected "token-vault" or "rfc8693"`);
  }
  checkNameLists(cfg, where);
  checkProviderName(name);
  return cfg;
}

/** The lists of names (env names, ...) of a provider's table, each name checked. */
function checkNameLists(cfg: ProviderConfig, where: string): void {
  for (const [key, check] of NAME_LISTS) {
    for (const value of cfg[key] ?? []) {
      try {
        check(value);
      } catch (e) {
        throw new UsageError(`${where}.${key}: ${(e as Error).message}`);
      }
    }
  }
}
