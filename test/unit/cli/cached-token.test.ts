// The cached-token path reads `vault token` argv without commander. Whatever it accepts must
// mean exactly what commander makes of it; whatever is unusual must be left to commander.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import { createContext } from '../../../src/cli/context.js';
import { buildProgram } from '../../../src/cli/root.js';
import { parseFastToken } from '../../../src/fast-path.js';
import { fakeClock, fakeDeps } from '../../support/fakes.js';

/** What commander makes of `argv` for `vault token`, or undefined when it refuses. */
async function viaCommander(
  argv: string[],
): Promise<{ provider: string; options: Record<string, unknown> } | undefined> {
  const program = buildProgram(createContext(fakeDeps({ clock: fakeClock(0) }).deps));
  const token = program.commands.find((c) => c.name() === 'token')!;
  let seen: { provider: string; options: Record<string, unknown> } | undefined;
  token.action((provider: string, options: Record<string, unknown>) => {
    seen = { provider, options: { ...options } };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch {
    return undefined;
  }
  return seen;
}

describe('parseFastToken', () => {
  const accepted: string[][] = [
    ['token', 'acme'],
    ['token', 'acme', '--json'],
    ['token', 'acme', '--header'],
    ['token', '--json', 'acme'],
    ['token', 'acme', '-a', 'work'],
    ['token', 'acme', '--account', 'work'],
    ['token', 'acme', '--account=work', '--min-valid=300'],
    ['token', 'acme', '--min-valid', '0', '--force-refresh'],
    ['token', 'acme', '--scope', 'openid', '--scope', 'email profile', '--scope=api:read'],
    ['token', '-a', 'me@example.test', 'google', '--header', '--min-valid', '120'],
  ];
  for (const argv of accepted) {
    test(`takes ${argv.join(' ')} exactly as commander does`, async () => {
      const fast = parseFastToken(argv);
      assert.ok(fast, 'recognised');
      assert.deepEqual(fast, await viaCommander(argv));
    });
  }

  const declined: string[][] = [
    ['token'],
    ['token', 'acme', 'extra'],
    ['token', 'acme', '--debug'],
    ['token', 'acme', '--help'],
    ['token', 'acme', '-h'],
    ['token', 'acme', '--json', '--header'],
    ['token', 'acme', '-a'],
    ['token', 'acme', '-awork'],
    ['token', 'acme', '--account', '--json'],
    ['token', 'acme', '--account='],
    ['token', 'acme', '--min-valid', '60', '--min-valid', '30'],
    ['token', 'acme', '--json', '--json'],
    ['token', 'acme', '--unknown'],
    ['token', 'acme', '--', 'x'],
    ['--debug', 'token', 'acme'],
    ['env', 'acme'],
    ['status'],
  ];
  for (const argv of declined) {
    test(`leaves ${JSON.stringify(argv.join(' '))} to commander`, () => {
      assert.equal(parseFastToken(argv), undefined);
    });
  }

  test('anything it accepts, commander reads the same way (property)', async () => {
    const word = fc.constantFrom(
      'acme',
      'google',
      'work',
      '60',
      '0',
      'openid',
      'email profile',
      '-a',
      '--account',
      '--scope',
      '--min-valid',
      '--force-refresh',
      '--json',
      '--header',
      '--debug',
      '--account=x',
      '--scope=api:read',
      '--min-valid=5',
      '-',
      '--',
      '-x',
      '',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 7 }), async (rest) => {
        const argv = ['token', ...rest];
        const fast = parseFastToken(argv);
        if (fast) assert.deepEqual(fast, await viaCommander(argv));
      }),
      { numRuns: 2000 },
    );
  });
});
