// The cached-token path reads `vault token` argv without commander. Whatever it accepts must
// mean exactly what commander makes of it; whatever is unusual must be left to commander.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';

import { createContext } from '../../../src/cli/context.js';
import { withExecSeparator } from '../../../src/cli/exec-args.js';
import { buildProgram } from '../../../src/cli/root.js';
import { fastCommandLine, parseFastToken } from '../../../src/fast-path.js';
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
    // The provider implied (VAULT_PROVIDER, or the only one configured).
    ['token'],
    ['token', '--json'],
  ];
  for (const argv of accepted) {
    test(`takes ${argv.join(' ')} exactly as commander does`, async () => {
      const fast = parseFastToken(argv);
      assert.ok(fast, 'recognised');
      assert.deepEqual(fast, await viaCommander(argv));
    });
  }

  const declined: string[][] = [
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

// Every command the cached-token path answers reads its options from one table (cli/grammar.ts),
// which commander reads too. What the fast reading accepts must be what commander makes of it.
describe('the options table, read by both paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-grammar-'));
  writeFileSync(
    join(dir, 'config.toml'),
    '[providers.acme]\nissuer = "http://127.0.0.1:9"\nclient_id = "x"\n\n[providers.google]\nissuer = "http://127.0.0.1:9"\nclient_id = "y"\n',
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** What commander hands `name`'s action for argv (exec: after the separator is put in), or undefined. */
  async function viaCommanderFor(name: string, argv: string[], env: NodeJS.ProcessEnv) {
    const ctx = createContext(fakeDeps({ clock: fakeClock(0), env: { VAULT_CONFIG_DIR: dir, ...env } }).deps);
    const program = buildProgram(ctx);
    const command = program.commands.find((c) => c.name() === name)!;
    let seen: unknown[] | undefined;
    command.action((...args: unknown[]) => {
      // The command object and its options come last; the positionals first.
      seen = args.slice(0, -1).map((a) => (a && typeof a === 'object' && !Array.isArray(a) ? { ...a } : a));
    });
    try {
      await program.parseAsync(await withExecSeparator(program, argv, ctx), { from: 'user' });
    } catch {
      return undefined;
    }
    return seen;
  }

  const words: Record<string, string[]> = {
    env: [
      'acme',
      'google',
      'x',
      '-a',
      'work',
      '--name',
      'TOKEN',
      '--name=B',
      '--min-valid',
      '30',
      '--format',
      'fish',
      '--format=json',
      'nope',
      '--format=github-actions',
      '--debug',
      '-h',
      '--',
      '-',
      '',
    ],
    'kube-credential': [
      'acme',
      'google',
      'x',
      '-a',
      '--account=me',
      'work',
      '--min-valid',
      '--min-valid=0',
      '12',
      '--json',
      '--',
      '-x',
      '',
    ],
    exec: [
      'acme',
      'google',
      'ls',
      '-la',
      'x',
      '-a',
      'work',
      '--name',
      'T',
      '--min-valid',
      '10',
      '--allow-nested',
      '--gce',
      '--token-file',
      'F',
      '--',
      '-',
      '--debug',
      '',
    ],
  };
  for (const [name, vocabulary] of Object.entries(words)) {
    for (const env of [{}, { VAULT_PROVIDER: 'acme' }]) {
      test(`${name}${env.VAULT_PROVIDER ? ' with VAULT_PROVIDER' : ''}: anything the fast reading accepts, commander reads the same way (property)`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.constantFrom(...vocabulary), { maxLength: 6 }), async (rest) => {
            const fast = fastCommandLine(name, rest, env, dir);
            if (!fast) return;
            const commander = await viaCommanderFor(name, [name, ...rest], env);
            assert.deepEqual(fast, commander, [name, ...rest].join(' '));
          }),
          { numRuns: 400 },
        );
      });
    }
  }

  test('the fast reading takes the plain forms (not only refusals)', () => {
    assert.ok(fastCommandLine('env', ['acme', '--format', 'fish'], {}, dir));
    assert.ok(fastCommandLine('kube-credential', ['acme', '-a', 'work'], {}, dir));
    assert.ok(fastCommandLine('exec', ['acme', 'ls', '-la'], {}, dir));
    assert.ok(fastCommandLine('exec', ['ls'], { VAULT_PROVIDER: 'acme' }, dir));
    assert.equal(fastCommandLine('exec', ['acme'], {}, dir), undefined);
  });
});
