// The first-run questions with injected streams: key handling in raw mode, type-ahead, the end
// of input, and the github walk-through that needs no secret for --device.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';

import { openContext } from '../../../src/cli/context.js';
import { firstRun } from '../../../src/cli/first-run.js';
import { VaultError } from '../../../src/core/errors.js';
import { Prompter } from '../../../src/infra/prompt.js';
import { sandbox, type Sandbox } from '../../support/cli.js';
import { fileStoreEntries } from '../../support/login.js';
import type { Deps } from '../../../src/core/ports.js';
import { exitCodeFor } from '../../../src/cli/root.js';

/** A stdin that claims to be a terminal and records raw-mode switches. */
function fakeTerminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[] });
  Object.assign(stdin, { setRawMode: (mode: boolean) => stdin.modes.push(mode) });
  const stderr = new PassThrough();
  let shown = '';
  stderr.setEncoding('utf8').on('data', (d: string) => (shown += d));
  return { stdin, stderr, shown: () => shown };
}

test('secret: raw mode while typing, backspace and Ctrl-U honoured, nothing echoed', async () => {
  const term = fakeTerminal();
  const prompter = new Prompter(term.stdin, term.stderr);
  const answer = prompter.secret('Secret: ');
  term.stdin.write('wrong\x15s3cx\x7fret');
  term.stdin.write('\r');
  assert.equal(await answer, 's3cret');
  assert.deepEqual(term.stdin.modes, [true, false]);
  assert.equal(term.shown(), 'Secret: \n');
});

test('secret: Ctrl-C is exit 130, Ctrl-D on an empty answer is exit 2; raw mode is restored', async () => {
  const term = fakeTerminal();
  const prompter = new Prompter(term.stdin, term.stderr);
  const cancelled = prompter.secret('Secret: ');
  term.stdin.write('abc\x03');
  await assert.rejects(cancelled, (e: VaultError) => exitCodeFor(e.kind) === 130);
  const ended = prompter.secret('Secret: ');
  term.stdin.write('\x04');
  await assert.rejects(ended, (e: VaultError) => exitCodeFor(e.kind) === 2);
  assert.deepEqual(term.stdin.modes, [true, false, true, false]);
});

test('line: answers typed ahead are kept for the next question; input ending early is exit 2', async () => {
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  const prompter = new Prompter(stdin, stderr);
  stdin.write(' first \nsecond\r\nthird');
  assert.equal(await prompter.line('1: '), 'first');
  assert.equal(await prompter.line('2: '), 'second');
  // A pipe is not a terminal: a "secret" is read as a plain line.
  const third = prompter.secret('3: ');
  stdin.end('\n');
  assert.equal(await third, 'third');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stdin.readableEnded, true);
  await assert.rejects(prompter.line('4: '), (e: VaultError) => exitCodeFor(e.kind) === 2);
});

const sandboxes: Sandbox[] = [];
after(() => {
  for (const sb of sandboxes) sb.cleanup();
});

test('github walk-through with --device: the secret may be skipped; the preset is saved', async () => {
  const sb = sandbox({ VAULT_STORE: 'file' });
  sandboxes.push(sb);
  const term = fakeTerminal();
  const deps: Deps = {
    io: { stdin: term.stdin, stdout: new PassThrough(), stderr: term.stderr, stdinIsTTY: true, stderrIsTTY: true },
    env: sb.env,
    clock: { now: () => Date.now() },
    debug: () => {},
  };
  const provider = firstRun(await openContext(deps), 'github', { device: true });
  term.stdin.write('Iv1.0123456789abcdef\n');
  term.stdin.write('\r');
  const saved = await provider;
  assert.equal(saved.client_id, 'Iv1.0123456789abcdef');
  assert.equal(saved.token_endpoint, 'https://github.com/login/oauth/access_token');
  assert.match(term.shown(), /https:\/\/github\.com\/settings\/applications\/new/);
  assert.match(term.shown(), /Client secret \(not shown; Enter to skip, --device needs none\): /);
  assert.match(
    readFileSync(join(sb.env.VAULT_CONFIG_DIR!, 'config.toml'), 'utf8'),
    /\[providers\.github\]\npreset = "github"/,
  );
  assert.deepEqual(fileStoreEntries(sb), {});
});
