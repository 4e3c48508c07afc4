import { StoreError, UsageError } from '../../core/errors.js';
import { checkProviderName } from '../../core/config/names.js';
import {
  buildProviderConfig,
  editProviderConfig,
  identityChanges,
  type ProviderFlags,
} from '../../core/provider-edit.js';
import { envNames, getProvider, type ProviderConfig } from '../../core/config/providers.js';
import { renderConfig } from '../../core/config/render.js';
import { loadConfig, writeConfigAtomically } from '../../infra/config-file.js';
import { clientSecretKey, loginKey } from '../../core/credentials.js';
import { readStdin } from '../../infra/io.js';
import { acquireLock } from '../../infra/lock.js';
import { configFile, lockDir } from '../../infra/paths.js';
import { openStore } from '../../infra/stores/index.js';
import type { Deps } from '../../ports.js';

export { buildProviderConfig };

export interface AddOptions extends ProviderFlags {
  replace?: boolean;
}

/** Reads, changes and writes config.toml under a lock, so concurrent `provider add` calls all land. */
async function updateConfig(deps: Deps, change: (providers: Record<string, ProviderConfig>) => void): Promise<void> {
  const file = configFile(deps.env);
  const release = await acquireLock(lockDir(deps.env), 'config', { debug: deps.debug });
  try {
    const config = loadConfig(file);
    change(config.providers);
    writeConfigAtomically(file, renderConfig(config));
  } finally {
    await release();
  }
}

/** Discovery runs once when the endpoints will come from the issuer, to catch a typo now. */
async function checkIssuer(deps: Deps, cfg: ProviderConfig, opts: ProviderFlags): Promise<void> {
  if (opts.issuer === undefined || cfg.token_endpoint || opts.offline) return;
  const { discoverMetadata } = await import('../../infra/oauth/index.js');
  const metadata = await discoverMetadata(opts.issuer, deps);
  deps.debug(`discovery: ${metadata.issuer} token endpoint ${metadata.token_endpoint}`);
}

async function clientSecret(deps: Deps, opts: ProviderFlags): Promise<string | undefined> {
  if (opts.clientSecretStdin) {
    const secret = (await readStdin(deps.io.stdin)).replace(/\r?\n$/, '');
    if (!secret) throw new UsageError('--client-secret-stdin: standard input was empty');
    return secret;
  }
  return deps.env.VAULT_CLIENT_SECRET || undefined;
}

/** Logins were issued to a client at a server: changing either leaves them pointing elsewhere. */
async function warnAboutLogins(deps: Deps, name: string, changed: string[]): Promise<void> {
  if (!changed.length) return;
  let accounts: string[];
  try {
    accounts = (await openStore(deps).keys(loginKey(name, ''))).map((k) => k.slice(loginKey(name, '').length));
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    deps.debug(`store: cannot list logins of ${name}: ${error.message}`);
    return;
  }
  if (!accounts.length) return;
  const to = changed.includes('client_id') ? 'client' : 'server';
  deps.io.stderr.write(
    `warning: ${changed.join(', ')} changed; the logins of ${name} (${accounts.join(', ')}) were issued to the old ${to} and may need \`vault login ${name}\`\n`,
  );
}

export async function addRun(deps: Deps, name: string, opts: AddOptions): Promise<number> {
  const file = configFile(deps.env);
  // A malformed file is reported before anything else happens.
  const existing = loadConfig(file).providers[checkProviderName(name)];
  if (existing && !opts.replace) {
    throw new UsageError(
      `provider ${name} already exists in ${file}: change fields with \`vault provider set ${name} --client-id ID\` (any flag of add; the others are kept), or replace it whole with \`vault provider add ${name} ... --replace\``,
    );
  }
  const cfg = buildProviderConfig(name, opts);
  await checkIssuer(deps, cfg, opts);
  await saveProvider(deps, name, () => cfg, await clientSecret(deps, opts));
  if (existing) await warnAboutLogins(deps, name, identityChanges(existing, cfg));
  deps.io.stderr.write(`${existing ? 'Replaced' : 'Added'} provider ${name} in ${file}. Next: vault login ${name}\n`);
  return 0;
}

export async function setRun(deps: Deps, name: string, opts: ProviderFlags): Promise<number> {
  const file = configFile(deps.env);
  const { name: _, ...before } = getProvider(loadConfig(file), name, file);
  const secret = await clientSecret(deps, opts);
  const cfg = editProviderConfig(name, before, opts);
  const changed = (Object.keys({ ...before, ...cfg }) as (keyof ProviderConfig)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(cfg[k]),
  );
  if (!changed.length && secret === undefined) {
    throw new UsageError(
      `nothing to change for ${name}: give the fields to change, with the flags of \`vault provider add\` (see \`vault provider set --help\`)`,
    );
  }
  await checkIssuer(deps, cfg, opts);
  // Applied again to the table read under the lock, so concurrent edits of other fields are kept.
  await saveProvider(deps, name, (current) => (current ? editProviderConfig(name, current, opts) : cfg), secret);
  await warnAboutLogins(deps, name, identityChanges(before, cfg));
  const what = [...changed, ...(secret === undefined ? [] : ['client secret'])];
  deps.io.stderr.write(`Updated provider ${name} in ${file}: ${what.join(', ')}.\n`);
  return 0;
}

/** Stores the client secret (if any), then writes the provider's table as `table` makes it from the current one. */
export async function saveProvider(
  deps: Deps,
  name: string,
  table: (current: ProviderConfig | undefined) => ProviderConfig,
  secret: string | undefined,
): Promise<void> {
  if (secret !== undefined) {
    // The secret goes to the store first: if the store is unavailable, nothing has changed.
    const store = openStore(deps);
    await store.set(clientSecretKey(name), JSON.stringify({ v: 1, client_secret: secret }));
    deps.debug(`store: client secret for ${name} written to ${store.kind}`);
  }
  await updateConfig(deps, (providers) => {
    providers[name] = table(providers[name]);
  });
}

function describeSource(cfg: ProviderConfig): string {
  if (cfg.preset) return `preset ${cfg.preset}`;
  if (cfg.issuer && !cfg.token_endpoint) return `issuer ${cfg.issuer}`;
  return `token endpoint ${cfg.token_endpoint}`;
}

export async function listRun(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const file = configFile(deps.env);
  const { providers } = loadConfig(file);
  const names = Object.keys(providers).sort();
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify({ providers: names.map((n) => ({ name: n, ...providers[n] })) })}\n`);
    return 0;
  }
  if (!names.length) {
    deps.io.stderr.write(
      `No providers configured in ${file}. Add one with \`vault provider add NAME --preset google --client-id ID\`.\n`,
    );
    return 0;
  }
  for (const n of names) {
    const p = providers[n]!;
    deps.io.stdout.write(
      `${n}\t${describeSource(p)}\tclient ${p.client_id}\tscopes ${(p.scopes ?? []).join(' ') || '-'}\n`,
    );
  }
  return 0;
}

/** Whether the store holds a client secret for the provider (never the secret); null when the store cannot be read. */
async function secretStored(deps: Deps, name: string): Promise<boolean | null> {
  try {
    return (await openStore(deps).get(clientSecretKey(name))) !== null;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    deps.io.stderr.write(`warning: cannot tell whether a client secret is stored: ${error.message}\n`);
    return null;
  }
}

export async function showRun(deps: Deps, name: string, opts: { json?: boolean }): Promise<number> {
  const file = configFile(deps.env);
  const provider = getProvider(loadConfig(file), name, file);
  const shown = {
    ...provider,
    env_names: envNames(provider),
    git_username: provider.git_username ?? 'oauth2',
    client_secret_stored: await secretStored(deps, name),
  };
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify(shown)}\n`);
    return 0;
  }
  for (const [key, value] of Object.entries(shown)) {
    const text = Array.isArray(value)
      ? value.join(' ')
      : value !== null && typeof value === 'object'
        ? Object.entries(value)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : value === null
          ? 'unknown'
          : typeof value === 'boolean'
            ? value
              ? 'yes'
              : 'no'
            : String(value);
    deps.io.stdout.write(`${key.padEnd(30)} ${text}\n`);
  }
  return 0;
}

export async function removeRun(deps: Deps, name: string): Promise<number> {
  const file = configFile(deps.env);
  getProvider(loadConfig(file), name, file);
  const store = openStore(deps);
  const logins = (await store.keys(loginKey(name, ''))).map((k) => k.slice(loginKey(name, '').length));
  if (logins.length) {
    throw new UsageError(
      `${name} still has stored logins (${logins.join(', ')}): run \`vault logout ${name}\` for each first, so they are revoked`,
    );
  }
  await store.delete(clientSecretKey(name));
  await updateConfig(deps, (providers) => {
    delete providers[name];
  });
  deps.io.stderr.write(`Removed provider ${name} from ${file}.\n`);
  return 0;
}
