// The one shell quoter: what `vault env`, `vault serve` and the git helper command print must read
// back in a real sh as exactly the value quoted, whatever it contains.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { helperCommand, isHelperFor } from '../../../../src/core/protocols/git-credential.js';
import { formatAssignments } from '../../../../src/core/protocols/env-format.js';
import { shQuote } from '../../../../src/core/protocols/shell.js';

const VALUES = ['', "it's", "''", '"$HOME" `id` $(id) \\ \\\' ;&|*?~!#', 'two\nlines\r\n', '-n', 'tab\there ‘quotes’'];

/** What sh makes of `script`: each printf'd value, NUL-separated. */
function sh(script: string): string[] {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH } })
    .split('\0')
    .slice(0, -1);
}

test('a quoted word is one argument carrying the value exactly', () => {
  assert.deepEqual(sh(`printf '%s\\0' ${VALUES.map(shQuote).join(' ')}`), VALUES);
});

test('`vault env --format sh` output, evaluated by sh, sets every name to the token', () => {
  for (const token of VALUES) {
    const script = `${formatAssignments('sh', ['A', 'B_2'], token)}printf '%s\\0%s\\0' "$A" "$B_2"`;
    assert.deepEqual(sh(script), [token, token], JSON.stringify(token));
  }
});

test("the git helper command runs node and the script git's shell is given, whatever their paths", () => {
  const node = "/opt/it's node/bin/node";
  const script = '/home/a b/$(vault)/bin/vault.js';
  const value = helperCommand(node, script);
  assert.ok(value.startsWith('!'));
  // git runs a `!` helper as `sh -c '<value> get'` (git-credential(1)): print the argv it builds.
  assert.deepEqual(sh(`set -- ${value.slice(1)} get; printf '%s\\0' "$@"`), [node, script, 'git-credential', 'get']);
  assert.ok(isHelperFor(value, script));
  assert.ok(!isHelperFor(value, '/home/a b/other/bin/vault.js'));
});
