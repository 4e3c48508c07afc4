// Set-up for CLI suites: a configured provider without a server (`provider add --offline` skips
// discovery, and the issuer is the discard port, so nothing reaches a network), and store damage.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runVault, type RunResult, type Sandbox } from './cli.js';
import { providerAddArgs } from './vault-sandbox.js';
import { credentialsFile } from './world.js';

/** The argv of `vault provider add <name>` for such a provider; `extra` flags follow it. */
export function offlineProviderArgs(name = 'acme', ...extra: string[]): string[] {
  return providerAddArgs(
    { issuer: 'http://127.0.0.1:9', publicClientId: 'x' },
    { name, scopes: [], extra: ['--offline', ...extra] },
  );
}

/** Adds such a provider to the sandbox (`input` feeds --client-secret-stdin) and checks it was added. */
export async function addOfflineProvider(
  box: Sandbox,
  name = 'acme',
  extra: string[] = [],
  input?: string,
): Promise<RunResult> {
  const r = await runVault(offlineProviderArgs(name, ...extra), { env: box.env, input });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/**
 * Replaces one entry of the sandbox's credentials.json (the file store), as a broken writer or a
 * newer vault would leave it; returns the file's path.
 */
export function plantEntry(box: Sandbox, key: string, value: string): string {
  const file = credentialsFile(box);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { v: number; entries: Record<string, string> };
  doc.entries[key] = value;
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return file;
}
