// What each command hands its run function for a command line: the flags parsed, defaults
// applied, the provider and the command's words in place. No store, no network, no run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';

import type { Run } from '../../../src/cli/act.js';
import { envCommand } from '../../../src/cli/commands/env.js';
import { execCommand } from '../../../src/cli/commands/exec.js';
import { loginCommand } from '../../../src/cli/commands/login.js';
import { tokenCommand } from '../../../src/cli/commands/token.js';
import { createContext, type Context } from '../../../src/cli/context.js';
import { fakeDeps } from '../../support/fakes.js';

type Factory = (ctx: Context, run: Run<object>) => Command;

/** The options object the command's run function receives for `argv`. */
async function optionsFor(factory: Factory, argv: string[]): Promise<object> {
  const ctx = createContext(fakeDeps().deps);
  let seen: object | undefined;
  const command = factory(ctx, async (_ctx, opts) => void (seen = opts));
  const program = new Command('vault').exitOverride().addCommand(command.exitOverride());
  await program.parseAsync(argv, { from: 'user' });
  assert.ok(seen, 'the run function was called');
  return { ...seen };
}

const rows: [string, Factory, string[], object][] = [
  ['token: defaults', tokenCommand as Factory, ['token'], { provider: undefined, minValid: 60 }],
  [
    'token: every flag',
    tokenCommand as Factory,
    ['token', 'acme', '-a', 'work', '--scope', 'a', '--scope=b', '--min-valid', '300', '--force-refresh', '--json'],
    { provider: 'acme', account: 'work', scope: ['a', 'b'], minValid: 300, forceRefresh: true, json: true },
  ],
  [
    'token: --header',
    tokenCommand as Factory,
    ['token', 'acme', '--header'],
    { provider: 'acme', minValid: 60, header: true },
  ],
  ['env: defaults', envCommand as Factory, ['env', 'acme'], { provider: 'acme', minValid: 60, format: 'sh' }],
  [
    'env: names and format',
    envCommand as Factory,
    ['env', '--name', 'A', '--name', 'B', '--format', 'fish', '--min-valid=5'],
    { provider: undefined, name: ['A', 'B'], format: 'fish', minValid: 5 },
  ],
  [
    'exec: the command after --',
    execCommand as Factory,
    ['exec', 'acme', '--', 'ls', '-la'],
    { provider: 'acme', command: ['ls', '-la'], minValid: 300 },
  ],
  [
    'exec: its own flags',
    execCommand as Factory,
    ['exec', 'acme', '--gce', '--token-file', 'TF', '--allow-nested', '-a', 'ci', '--', 'job'],
    { provider: 'acme', command: ['job'], minValid: 300, gce: true, tokenFile: 'TF', allowNested: true, account: 'ci' },
  ],
  ['login: defaults', loginCommand as Factory, ['login', 'acme'], { provider: 'acme', browser: true, timeout: 300 }],
  [
    'login: device, no browser, port',
    loginCommand as Factory,
    ['login', '--device', '--no-browser', '--port', '8080', '--timeout', '60', '--scope', 'openid'],
    { provider: undefined, device: true, browser: false, port: 8080, timeout: 60, scope: ['openid'] },
  ],
];

for (const [name, factory, argv, expected] of rows) {
  test(`${name}: ${argv.join(' ')}`, async () => {
    assert.deepEqual(await optionsFor(factory, argv), expected);
  });
}

test('a bad value is a usage error before any run', async () => {
  await assert.rejects(
    optionsFor(loginCommand as Factory, ['login', '--timeout', 'soon']),
    (error: unknown) => error instanceof Error && /--timeout expects a whole number of seconds/.test(error.message),
  );
});
