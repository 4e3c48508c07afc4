// Shared set-up for the integration suites: a sandbox logged in to the test authorization
// server, and child processes run with a given environment.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { runCommand, runVault, sandbox, type Sandbox } from './cli.js';
import { FETCH_BROWSER } from './fetch-browser.js';
import type { TestServer } from './oidc-server.js';

/** A sandbox with provider `acme` at `server` (extra `provider add` flags allowed), not logged in. */
export async function withProvider(
  server: TestServer,
  addFlags: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Sandbox> {
  const box = sandbox({ VAULT_STORE: 'file', VAULT_BROWSER: FETCH_BROWSER, ...extraEnv });
  const added = await runVault(
    ['provider', 'add', 'acme', '--issuer', server.issuer, '--client-id', server.publicClientId, ...addFlags],
    { env: box.env },
  );
  assert.equal(added.code, 0, added.stderr);
  return box;
}

/** As withProvider, then `vault login acme` through the fetch browser. */
export async function loggedIn(
  server: TestServer,
  addFlags: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Sandbox> {
  const box = await withProvider(server, addFlags, extraEnv);
  const login = await runVault(['login', 'acme'], { env: box.env });
  assert.equal(login.code, 0, login.stderr);
  return box;
}

/** Runs a command (no shell) and collects its output. */
export const run = runCommand;

/** assert.equal for values holding real tokens: a failure says what differs, never the values. */
export function assertSameSecret(actual: string | undefined, expected: string, what: string): void {
  assert.ok(actual === expected, `${what} differs from the expected token (values not shown)`);
}

/** The environment for the installed gcloud: its own empty configuration, no prompts, no update checks. */
export function gcloudEnv(box: Sandbox): NodeJS.ProcessEnv {
  const config = join(box.dir, 'gcloud');
  mkdirSync(config, { recursive: true, mode: 0o700 });
  return {
    ...box.env,
    CLOUDSDK_CONFIG: config,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
  };
}
