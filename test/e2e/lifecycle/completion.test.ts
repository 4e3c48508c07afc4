// Shell completion: answers from the commander tree, and the bash, zsh and fish scripts loaded in
// the real shells, completing through the built CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { complete, type Completion } from '../../../src/cli/completion.js';
import { createContext } from '../../../src/cli/context.js';
import { buildProgram } from '../../../src/cli/root.js';
import { sandbox, VAULT_BIN, type Sandbox } from '../../support/cli.js';
import { fakeDeps } from '../../support/fakes.js';
import { addProvider } from '../../support/vault-sandbox.js';

const run = promisify(execFile);

const { deps } = fakeDeps();

function values(words: string[]): string[] | string {
  const result: Completion = complete(buildProgram(createContext(deps)), words, {
    providers: () => ['acme', 'google'],
  });
  return result.kind === 'words' ? result.candidates.map(([v]) => v) : `:${result.kind}`;
}

test('commands, subcommands, options, choices and providers come from the command tree', () => {
  assert.deepEqual(values(['to']), ['token']);
  assert.ok((values(['']) as string[]).includes('logout'));
  assert.ok(!(values(['']) as string[]).includes('__complete'), 'the hidden command is not offered');
  assert.deepEqual(values(['provider', 's']), ['set', 'show']);
  assert.deepEqual(values(['token', 'acme', '--min']), ['--min-valid']);
  assert.ok(
    (values(['token', '--']) as string[]).includes('--debug'),
    'program options are accepted after a subcommand',
  );
  assert.deepEqual(values(['env', 'acme', '--format', 'f']), ['fish']);
  assert.deepEqual(values(['env', 'acme', '--format', 'fish', '--na']), ['--name']);
  assert.deepEqual(values(['token', '-a', 'work', '']), ['acme', 'google'], 'the value of -a is skipped');
  assert.deepEqual(values(['logout', 'g']), ['google']);
  assert.deepEqual(values(['provider', 'remove', '']), ['acme', 'google']);
  assert.deepEqual(values(['provider', 'add', '']), [], "a new provider's name is not one of the old");
  assert.deepEqual(values(['token', 'acme', '']), [], 'one provider only');
  assert.deepEqual(values(['completion', '']), ['bash', 'zsh', 'fish']);
  assert.deepEqual(values(['exec', 'acme', '']), ['--']);
  assert.equal(values(['exec', 'acme', '--', '']), ':commands');
  assert.equal(values(['exec', 'acme', '--', 'ls', '']), ':files');
  assert.deepEqual(values(['token', '--scope', '']), [], 'free-form values get no candidates');
});

let sb: Sandbox;
let env: NodeJS.ProcessEnv;

before(async () => {
  sb = sandbox({ VAULT_STORE: 'file' });
  // The scripts call `vault` as typed, so put the built CLI on PATH under that name.
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(VAULT_BIN, join(bin, 'vault'));
  env = { ...sb.env, PATH: `${bin}:${sb.env.PATH}` };
  await addProvider(
    sb,
    { issuer: 'https://login.acme.test', publicClientId: 'cli' },
    { scopes: [], extra: ['--offline'] },
  );
});
after(() => sb.cleanup());

async function shell(command: string, args: string[]): Promise<string> {
  const { stdout } = await run(command, args, { env, cwd: sb.dir, timeout: 30_000 });
  return stdout;
}

test('bash: the script registers vault and completes commands and providers', async () => {
  const out = await shell('bash', [
    '-c',
    `
    source <(vault completion bash)
    complete -p vault
    t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vault; echo "[$*] ${'${COMPREPLY[*]}'}"; }
    t vault to
    t vault login a
    t vault env acme --format p
  `,
  ]);
  assert.match(out, /^complete -F _vault vault$/m);
  assert.match(out, /^\[vault to\] token$/m);
  assert.match(out, /^\[vault login a\] acme$/m);
  assert.match(out, /^\[vault env acme --format p\] powershell$/m);
});

test('zsh: the script registers _vault with compinit and offers candidates with descriptions', async () => {
  const out = await shell('zsh', [
    '-f',
    '-c',
    `
    autoload -Uz compinit && compinit -u -D
    source <(vault completion zsh)
    print -r -- "registered: $_comps[vault]"
    # Outside a real completion widget, print what would be offered.
    _describe() { print -rl -- "\${(@P)\${@[-1]}}" }
    words=(vault to); CURRENT=2; _vault
    words=(vault logout ''); CURRENT=3; _vault
  `,
  ]);
  assert.match(out, /^registered: _vault$/m);
  assert.match(out, /^token:print a valid access token/m);
  assert.match(out, /^acme:provider$/m);
});

test('fish: the script loads and completes', async () => {
  const out = await shell('fish', [
    '--no-config',
    '-c',
    `
    vault completion fish | source
    complete -C'vault to'
    complete -C'vault status '
  `,
  ]);
  assert.match(out, /^token\tprint a valid access token/m);
  assert.match(out, /^acme\tprovider$/m);
});
