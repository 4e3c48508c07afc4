// Shared set-up for the `vault token` suites: a logged-in sandbox against the real test server,
// direct access to the sandbox's store (to age a cached token or read the stored refresh token),
// and `provider add` as every suite writes it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { accessKey, loginKey, type AccessRecord, type LoginRecord } from '../../src/core/credentials.js';
import { dataDir } from '../../src/infra/paths.js';
import { FileStore } from '../../src/infra/stores/file-store.js';
import { keychainStore } from '../../src/infra/stores/index.js';
import { KeyringStore } from '../../src/infra/stores/keyring-store.js';
import { RedisStore, redisStoreOptions } from '../../src/infra/stores/redis-store.js';
import { runVault, sandbox, type RunResult, type Sandbox } from './cli.js';
import { FETCH_BROWSER } from './fetch-browser.js';
import type { SecretStore } from '../../src/core/ports.js';

/** `redis`: the sandbox's extra environment names the server (VAULT_STORE, password, key). */
export type StoreKind = 'file' | 'keychain' | 'redis';

/** A sandbox with ways into its store. */
export interface Vault extends Sandbox {
  sb: Sandbox;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** The sandbox's store, opened in this process as a second `vault` would open it. */
  store(): SecretStore;
  readLogin(account?: string): Promise<LoginRecord | undefined>;
  readAccess(account?: string, scopes?: string[]): Promise<AccessRecord | undefined>;
  /** Rewrites the cached access token's times, as if it had been issued earlier. */
  age(change: (record: AccessRecord) => Partial<AccessRecord>, account?: string, scopes?: string[]): Promise<void>;
  cleanup(): void;
}

export function vaultSandbox(storeKind: StoreKind, extraEnv: NodeJS.ProcessEnv = {}): Vault {
  const sb = sandbox({ VAULT_STORE: storeKind, VAULT_BROWSER: FETCH_BROWSER, ...extraEnv });
  const store = (): SecretStore =>
    storeKind === 'file'
      ? new FileStore(join(dataDir(sb.env), 'credentials.json'), { passphrase: sb.env.VAULT_FILE_PASSPHRASE })
      : storeKind === 'redis'
        ? new RedisStore(
            redisStoreOptions(
              sb.env,
              () => {},
              () => {},
            ),
          )
        : keychainStore(sb.env);
  const v: Vault = {
    sb,
    dir: sb.dir,
    env: sb.env,
    run: (args, env = {}) => runVault(args, { env: { ...sb.env, ...env } }),
    store,
    async readLogin(account = 'default') {
      const raw = await store().get(loginKey('acme', account));
      return raw === null ? undefined : (JSON.parse(raw) as LoginRecord);
    },
    async readAccess(account = 'default', scopes) {
      const raw = await store().get(accessKey('acme', account, scopes));
      return raw === null ? undefined : (JSON.parse(raw) as AccessRecord);
    },
    async age(change, account = 'default', scopes) {
      const record = await v.readAccess(account, scopes);
      assert.ok(record, 'no cached access token to age');
      await store().set(accessKey('acme', account, scopes), JSON.stringify({ ...record, ...change(record) }));
    },
    cleanup() {
      if (storeKind === 'keychain') {
        // Keychain entries outlive the sandbox directory: remove them with it.
        const keyring = new KeyringStore(sb.env.VAULT_KEYRING_SERVICE!);
        void keyring
          .keys('')
          .then((keys) => Promise.all(keys.map((k) => keyring.delete(k))))
          .catch(() => {});
      }
      sb.cleanup();
    },
  };
  return v;
}

/** The scopes the token suites' provider asks for unless told otherwise. */
export const TOKEN_SCOPES = ['openid', 'offline_access', 'email', 'api:read'] as const;

/** What `vault provider add` is given; unset fields take the token suites' values. */
export interface ProviderSpec {
  /** Default `acme`. */
  name?: string;
  /** False: no `--issuer` (explicit endpoints only, no discovery). */
  issuer?: boolean;
  /** Explicit endpoints; without `revocation`, none is configured. */
  endpoints?: { authorization: string; token: string; revocation?: string };
  /** Default the server's public client. */
  clientId?: string;
  /** Default TOKEN_SCOPES; [] for the provider's own default. */
  scopes?: readonly string[];
  /** Given on stdin (`--client-secret-stdin`). */
  secret?: string;
  /** More `provider add` flags. */
  extra?: readonly string[];
}

export interface ServerRef {
  issuer: string;
  publicClientId: string;
}

/**
 * Endpoints whose token endpoint is at `tokenBase` (a proxy in front of `server`). The issuer stays
 * the real one, so the ID token and RFC 9207 `iss` checks still pass.
 */
export function tokenVia(server: ServerRef, tokenBase: string): NonNullable<ProviderSpec['endpoints']> {
  return {
    authorization: `${server.issuer}/auth`,
    token: `${tokenBase}/token`,
    revocation: `${server.issuer}/token/revocation`,
  };
}

export function providerAddArgs(server: ServerRef, spec: ProviderSpec = {}): string[] {
  const e = spec.endpoints;
  return [
    'provider',
    'add',
    spec.name ?? 'acme',
    ...(spec.issuer === false ? [] : ['--issuer', server.issuer]),
    ...(e
      ? [
          '--authorization-endpoint',
          e.authorization,
          '--token-endpoint',
          e.token,
          ...(e.revocation === undefined ? [] : ['--revocation-endpoint', e.revocation]),
        ]
      : []),
    '--client-id',
    spec.clientId ?? server.publicClientId,
    ...(spec.scopes ?? TOKEN_SCOPES).flatMap((scope) => ['--scope', scope]),
    ...(spec.extra ?? []),
    ...(spec.secret === undefined ? [] : ['--client-secret-stdin']),
  ];
}

/** `vault provider add` in the sandbox; fails the test when it does not succeed. */
export async function addProvider(box: { env: NodeJS.ProcessEnv }, server: ServerRef, spec: ProviderSpec = {}) {
  const r = await runVault(providerAddArgs(server, spec), { env: box.env, input: spec.secret });
  assert.equal(r.code, 0, `provider add exited ${r.code}: ${r.stderr}`);
}

/** `vault login acme` (as `account`) through the scripted browser, unless the sandbox names another. */
export async function login(box: { env: NodeJS.ProcessEnv }, account = 'default', extra: string[] = []) {
  const args = ['login', 'acme', ...(account === 'default' ? [] : ['-a', account]), ...extra];
  const r = await runVault(args, { env: { VAULT_BROWSER: FETCH_BROWSER, ...box.env } });
  assert.equal(r.code, 0, `vault ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

export interface LoggedInOptions {
  /** Default `file`. */
  store?: StoreKind;
  env?: NodeJS.ProcessEnv;
  provider?: ProviderSpec;
  /** Changes the sandbox before anything runs in it. */
  adjust?: (box: Vault) => void;
}

/** A sandbox with provider `acme` added, not logged in. */
export async function withProvider(server: ServerRef, options: LoggedInOptions = {}): Promise<Vault> {
  const v = vaultSandbox(options.store ?? 'file', options.env);
  try {
    options.adjust?.(v);
    await addProvider(v, server, options.provider);
  } catch (error) {
    v.cleanup();
    throw error;
  }
  return v;
}

/** A sandbox with provider `acme` added and logged in. */
export async function loggedIn(server: ServerRef, options: LoggedInOptions = {}): Promise<Vault> {
  const v = await withProvider(server, options);
  try {
    await login(v);
  } catch (error) {
    v.cleanup();
    throw error;
  }
  return v;
}

/** Makes the cached access token look expired to vault (the server still honours it). */
export function expire(v: Vault, account = 'default', scopes?: string[]): Promise<void> {
  return v.age((r) => ({ issued_at: r.issued_at - 3_600_000, expires_at: Date.now() - 1000 }), account, scopes);
}

/** A port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}
