// Shared pieces of the integration suites: child processes run with a given environment, token
// comparisons that never print a token, and gcloud's own configuration.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { runCommand, type Sandbox } from './cli.js';

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
