// Set-up for CLI suites that need a configured provider but no server: `provider add --offline`
// skips discovery, and the issuer is the discard port, so nothing the suite runs reaches a network.
import assert from 'node:assert/strict';
import { runVault, type RunResult, type Sandbox } from './cli.js';

/** The argv of `vault provider add <name>` for such a provider; `extra` flags follow it. */
export function offlineProviderArgs(name = 'acme', ...extra: string[]): string[] {
  return ['provider', 'add', name, '--issuer', 'http://127.0.0.1:9', '--client-id', 'x', '--offline', ...extra];
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
