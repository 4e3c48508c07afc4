// The provider use cases in-process: what lands in config.toml and in the store, and what is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Config } from '../../../../src/core/config/providers.js';
import { clientSecretKey, loginKey } from '../../../../src/core/credentials.js';
import { VaultError } from '../../../../src/core/errors.js';
import type { McpDiscovery } from '../../../../src/core/config/mcp.js';
import { addProvider, removeProvider, setProvider, type ProviderDeps } from '../../../../src/core/usecases/provider.js';
import type { McpPorts } from '../../../../src/core/usecases/mcp-provider.js';
import { memoryStore, type MemoryStore } from '../../../support/fakes.js';

interface World {
  deps: ProviderDeps & McpPorts;
  config: Config;
  store: MemoryStore;
  discovered: string[];
  /** Clients registered through the MCP port. */
  registered: string[];
  writes: () => number;
}

/** What an MCP server's discovery answers, as the infra adapter reports it. */
const FOUND: McpDiscovery = {
  resource: 'https://notes.example.test/mcp',
  metadataUrl: 'https://notes.example.test/.well-known/oauth-protected-resource/mcp',
  resourceScopes: ['notes:read'],
  issuer: 'https://auth.example.test',
  discoveredBy: 'oauth2',
  endpoints: {
    authorization_endpoint: 'https://auth.example.test/authorize',
    token_endpoint: 'https://auth.example.test/token',
  },
  serverScopes: ['openid', 'offline_access', 'notes:read'],
  registration: true,
};

async function world(
  entries: Record<string, string> = {},
  config: Config = { providers: {} },
  found: McpDiscovery = FOUND,
): Promise<World> {
  const store = await memoryStore(entries);
  const discovered: string[] = [];
  const registered: string[] = [];
  let writes = 0;
  const deps: ProviderDeps & McpPorts = {
    configFile: '/home/u/.config/vault/config.toml',
    config: () => config,
    async updateConfig(change) {
      change(config);
      writes++;
    },
    store: () => store,
    debug: () => {},
    discover: async (issuer) => void discovered.push(issuer),
    discoverMcp: async (url) => (discovered.push(url), found),
    registerClient: async () => {
      registered.push(`dyn-${registered.length + 1}`);
      return { clientId: registered.at(-1)! };
    },
  };
  return { deps, config, store, discovered, registered, writes: () => writes };
}

const ACME = { issuer: 'https://login.acme.test', clientId: 'vault-cli', scope: ['openid', 'offline_access'] };
const noSecret = async () => undefined;

function kindOf(kind: VaultError['kind']) {
  return (error: unknown) => error instanceof VaultError && error.kind === kind;
}

test('add writes the provider, keeps the client secret in the store, and checks the issuer once', async () => {
  const w = await world();
  const result = await addProvider(w.deps, 'acme', ACME, async () => 's3cret');
  assert.deepEqual(result, { replaced: false });
  assert.equal(w.config.providers.acme?.client_id, 'vault-cli');
  assert.equal(w.config.providers.acme?.issuer, 'https://login.acme.test');
  assert.deepEqual(JSON.parse((await w.store.get(clientSecretKey('acme')))!), { v: 1, client_secret: 's3cret' });
  assert.deepEqual(w.discovered, ['https://login.acme.test']);
});

test('add --offline skips discovery', async () => {
  const w = await world();
  await addProvider(w.deps, 'acme', { ...ACME, offline: true }, noSecret);
  assert.deepEqual(w.discovered, []);
});

test('add of an existing provider is a usage error that changes nothing and never reads the secret', async () => {
  const w = await world();
  await addProvider(w.deps, 'acme', ACME, noSecret);
  let asked = false;
  await assert.rejects(
    addProvider(w.deps, 'acme', { ...ACME, clientId: 'other' }, async () => ((asked = true), 'x')),
    (e: unknown) => kindOf('usage')(e) && /already exists/.test((e as Error).message),
  );
  assert.equal(asked, false);
  assert.equal(w.config.providers.acme?.client_id, 'vault-cli');
  assert.equal(w.writes(), 1);
});

test('add --replace of a provider with logins reports them as stale when the client changes', async () => {
  const w = await world();
  await addProvider(w.deps, 'acme', ACME, noSecret);
  await w.store.set(loginKey('acme', 'work'), '{}');
  const result = await addProvider(w.deps, 'acme', { ...ACME, clientId: 'new-id', replace: true }, noSecret);
  assert.equal(result.replaced, true);
  assert.deepEqual(result.stale, { accounts: ['work'], changed: ['client_id'] });
  assert.equal(w.config.providers.acme?.client_id, 'new-id');
});

test('set changes only the given fields and names them; with nothing to change it refuses', async () => {
  const w = await world();
  await addProvider(w.deps, 'acme', ACME, noSecret);
  const result = await setProvider(w.deps, 'acme', { gitHost: ['git.acme.test'] }, async () => 'new-secret');
  assert.deepEqual(result.changed, ['git_hosts', 'client secret']);
  assert.deepEqual(w.config.providers.acme?.git_hosts, ['git.acme.test']);
  assert.equal(w.config.providers.acme?.client_id, 'vault-cli');
  assert.match((await w.store.get(clientSecretKey('acme')))!, /new-secret/);
  await assert.rejects(setProvider(w.deps, 'acme', {}, noSecret), kindOf('usage'));
});

test('remove refuses while logins are stored, then removes the provider and its client secret', async () => {
  const w = await world();
  await addProvider(w.deps, 'acme', ACME, async () => 's3cret');
  await w.store.set(loginKey('acme', 'default'), '{}');
  await assert.rejects(
    removeProvider(w.deps, 'acme'),
    (e: unknown) => kindOf('usage')(e) && /still has stored logins \(default\)/.test((e as Error).message),
  );
  assert.ok(w.config.providers.acme);
  await w.store.delete(loginKey('acme', 'default'));
  await removeProvider(w.deps, 'acme');
  assert.equal(w.config.providers.acme, undefined);
  assert.equal(await w.store.get(clientSecretKey('acme')), null);
});

test('remove of an unknown provider is a usage error', async () => {
  const w = await world();
  await assert.rejects(removeProvider(w.deps, 'nope'), kindOf('usage'));
});

test('add --mcp: the discovered server, a registered client, the resource scopes plus offline_access, resource and mcp_url', async () => {
  const w = await world();
  // VAULT_CLIENT_SECRET, say, is some other client's: a client registered now gets none.
  const result = await addProvider(w.deps, 'notes', { mcp: FOUND.resource }, async () => 'other-secret');
  assert.deepEqual(w.registered, ['dyn-1']);
  assert.equal(await w.store.get(clientSecretKey('notes')), null);
  assert.deepEqual(result.mcp, {
    resource: FOUND.resource,
    issuer: FOUND.issuer,
    clientId: 'dyn-1',
    registered: true,
    scopes: ['notes:read', 'offline_access'],
  });
  assert.deepEqual(w.config.providers.notes, {
    issuer: FOUND.issuer,
    client_id: 'dyn-1',
    scopes: ['notes:read', 'offline_access'],
    // Found by RFC 8414 only: kept, since logins would look for OpenID Connect discovery.
    authorization_endpoint: 'https://auth.example.test/authorize',
    token_endpoint: 'https://auth.example.test/token',
    resource: FOUND.resource,
    mcp_url: FOUND.resource,
  });
});

test('add --mcp with --client-id and --scope registers nothing and keeps what was given', async () => {
  const w = await world(undefined, undefined, { ...FOUND, discoveredBy: 'oidc', registration: false });
  await addProvider(w.deps, 'notes', { mcp: FOUND.resource, clientId: 'mine', scope: ['notes:read'] }, noSecret);
  assert.deepEqual(w.registered, []);
  assert.deepEqual(w.config.providers.notes, {
    issuer: FOUND.issuer,
    client_id: 'mine',
    scopes: ['notes:read'],
    resource: FOUND.resource,
    mcp_url: FOUND.resource,
  });
});

test('add --mcp refuses, writing nothing: no registration and no --client-id, a flag naming another server, a bad URL', async () => {
  const w = await world(undefined, undefined, { ...FOUND, registration: false });
  await assert.rejects(
    addProvider(w.deps, 'notes', { mcp: FOUND.resource }, noSecret),
    (e: unknown) => kindOf('usage')(e) && /no dynamic client registration.*--client-id ID/.test((e as Error).message),
  );
  for (const flags of [
    { issuer: 'https://other.test' },
    { exchangeFrom: 'acme' },
    { resource: 'https://x.test' },
    { envName: ['not a name'] },
    { clientSecretStdin: true },
  ])
    await assert.rejects(addProvider(w.deps, 'notes', { mcp: FOUND.resource, ...flags }, noSecret), kindOf('usage'));
  for (const mcp of ['http://notes.example.test/mcp', 'ftp://x/mcp', 'https://notes.example.test/mcp#x'])
    await assert.rejects(addProvider(w.deps, 'notes', { mcp }, noSecret), kindOf('usage'));
  assert.deepEqual(w.discovered, [FOUND.resource], 'only the first attempt got as far as discovery');
  assert.deepEqual(w.registered, []);
  assert.equal(w.writes(), 0);
});
