// Shared steps of the lifecycle suites: a sandbox logged in to the real test server.
import assert from 'node:assert/strict';

import type { TestServer } from './oidc-server.js';
import type { ProviderSpec } from './vault-sandbox.js';
import { entries } from './world.js';
import type { RunResult, Sandbox } from './cli.js';

/** Asserts success; the message carries stderr only (stdout may hold a token). */
export function ok(result: RunResult, what: string): RunResult {
  assert.equal(result.code, 0, `${what} exited ${result.code}: ${result.stderr}`);
  return result;
}

/** The lifecycle suites' provider: the server's public client with openid, email and offline_access. */
export const LIFECYCLE_PROVIDER: ProviderSpec = { scopes: ['openid', 'email', 'offline_access'] };

/** LIFECYCLE_PROVIDER with the server's confidential client, its secret given on stdin. */
export function confidentialProvider(server: TestServer, spec: ProviderSpec = {}): ProviderSpec {
  return {
    ...LIFECYCLE_PROVIDER,
    clientId: server.confidentialClientId,
    secret: server.confidentialClientSecret,
    ...spec,
  };
}

/** The entries of the file store, each value parsed (only for VAULT_STORE=file sandboxes). */
export function fileEntries(sb: Sandbox): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(entries(sb)).map(([k, v]) => [k, JSON.parse(v) as Record<string, unknown>]));
}

/** Every token value found in parsed store entries. */
export function storedTokens(entries: Record<string, Record<string, unknown>>): string[] {
  return Object.values(entries).flatMap((e) =>
    [e.refresh_token, e.access_token, e.client_secret].filter((t): t is string => typeof t === 'string'),
  );
}

/** Fails when any of `secrets` occurs in `text`, naming where, never the secret. */
export function assertNoSecret(text: string, secrets: string[], where: string): void {
  assert.ok(secrets.length > 0, 'no secrets to look for: the check could not fail');
  secrets.forEach((secret, i) => {
    assert.ok(!text.includes(secret), `secret #${i} (${secret.length} chars) appears in ${where}`);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
