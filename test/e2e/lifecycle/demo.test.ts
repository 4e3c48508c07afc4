// `npm run demo` as CI runs it: the tour finishes by itself, every step passes, and nothing is
// left behind (temporary directories, keychain entries).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

import { killGroup, ROOT, within } from '../../support/cli.js';

type Keyring = typeof import('@napi-rs/keyring');
const keyring = createRequire(import.meta.url)('@napi-rs/keyring') as Keyring;

test('the demo runs every step green and cleans up after itself', { timeout: 120_000 }, async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VAULT_')));
  // In a process group of its own: the demo's server and vault processes end with it, whatever the outcome.
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'demo.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  let code: number | null;
  try {
    code = await within(
      110_000,
      'the demo to end',
      new Promise<number | null>((resolve) => child.on('close', resolve)),
    );
  } finally {
    killGroup(child);
  }

  const steps = [...output.matchAll(/^\$ vault (.*)$/gm)].map((m) => m[1]!.split(' ').slice(0, 2).join(' '));
  assert.deepEqual(steps, [
    'provider add',
    'login demo',
    'token demo',
    'token demo',
    'token demo',
    'exec demo',
    'env demo',
    'status',
    'logout demo',
    'status demo',
  ]);
  const failures = output.slice(output.indexOf('demo FAILED'));
  assert.equal(code, 0, `the demo failed: ${output.includes('demo FAILED') ? failures : output.slice(-2000)}`);
  assert.match(output, /refreshed with rotation: refresh token sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}/);
  assert.match(output, /refresh token is inactive/);
  assert.match(output, /1 revocation/);
  assert.match(output, /every step passed/);
  // Tokens are shortened: nothing as long as one of the server's tokens is printed whole.
  assert.doesNotMatch(output, /[A-Za-z0-9_-]{40,}/);

  const dir = /^ {2}files {4}(\S+)/m.exec(output)?.[1];
  assert.ok(dir, 'the demo names its directory');
  assert.equal(existsSync(dir), false, `${dir} is left behind`);
  const service = /service "(vault-demo-\d+)"/.exec(output)?.[1];
  if (process.env.DBUS_SESSION_BUS_ADDRESS) assert.ok(service, 'with a keychain answering, the demo uses it');
  if (service) assert.deepEqual(keyring.findCredentials(service), [], 'keychain entries left behind');
});
