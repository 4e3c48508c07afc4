// `vault env`'s formats as text: what a user pastes or a CI runner reads, and what is refused
// rather than written in a form its reader would get wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatAssignments,
  githubEnvFileLines,
  githubMaskCommands,
} from '../../../../src/core/protocols/env-format.js';
import { VaultError } from '../../../../src/core/errors.js';

const TOKEN = 'ya29.a0AfB_by-Token~with+b64/chars==';

test('each format assigns every name, one line per name', () => {
  assert.equal(formatAssignments('sh', ['A', 'B'], TOKEN), `export A='${TOKEN}'\nexport B='${TOKEN}'\n`);
  assert.equal(formatAssignments('fish', ['A'], "it's"), "set -gx A 'it\\'s';\n");
  assert.equal(formatAssignments('powershell', ['A'], 'x\ny'), `$Env:A = 'x' + "\`n" + 'y'\n`);
  assert.equal(formatAssignments('dotenv', ['A', 'B'], TOKEN), `A=${TOKEN}\nB=${TOKEN}\n`);
  assert.deepEqual(JSON.parse(formatAssignments('json', ['A', 'B'], 'x"y')), { A: 'x"y', B: 'x"y' });
});

test('dotenv refuses a token it could only write quoted, without naming the token', () => {
  for (const token of ['has space', "quote'", 'new\nline', '$HOME']) {
    assert.throws(
      () => formatAssignments('dotenv', ['A'], token),
      (e: unknown) => e instanceof VaultError && !e.message.includes(token),
    );
  }
});

test('github-actions: a mask for the whole value and each of its lines, escaped as the runner reads them', () => {
  assert.equal(githubMaskCommands('abc'), '::add-mask::abc\n');
  assert.equal(githubMaskCommands('a%b\nline2'), '::add-mask::a%25b%0Aline2\n::add-mask::a%25b\n::add-mask::line2\n');
});

test('github-actions: NAME<<DELIM blocks, refused when the runner could not read the value back', () => {
  assert.equal(githubEnvFileLines(['A', 'B'], 'x\ny', 'EOF_1'), 'A<<EOF_1\nx\ny\nEOF_1\nB<<EOF_1\nx\ny\nEOF_1\n');
  assert.throws(() => githubEnvFileLines(['A'], 'x\ry', 'EOF_1'), /carriage return/);
  assert.throws(() => githubEnvFileLines(['A'], 'xEOF_1', 'EOF_1'), /delimiter/);
});
