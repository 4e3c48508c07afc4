// Suggested commands: one helper renders them, with `-a ACCOUNT` for any account but `default`, and
// no message in src builds a command that acts on a login by hand (it would drop the account).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

import { suggest } from '../../../src/core/suggest.js';
import { ROOT } from '../../support/cli.js';

test('suggest adds -a ACCOUNT before the first flag, and nothing for the default account', () => {
  assert.equal(suggest(['logout', 'acme', '--no-revoke'], { account: 'ci' }), 'vault logout acme -a ci --no-revoke');
  assert.equal(suggest(['logout', 'acme', '--no-revoke'], { account: 'default' }), 'vault logout acme --no-revoke');
  assert.equal(suggest(['login', 'acme'], { account: 'work' }), 'vault login acme -a work');
  assert.equal(suggest(['login', 'acme']), 'vault login acme');
  assert.equal(
    suggest(['store', 'migrate', '--to', 'redis://HOST', 'acme'], { account: 'ci' }),
    'vault store migrate -a ci --to redis://HOST acme',
  );
});

/** Commands that act on one login: a hint naming one without its account acts on the default login. */
const LOGIN_COMMANDS = /\\?`vault (login|logout|token|export|status|env|store migrate) [^`\n]*\$\{/;

test('no message in src builds a login command by hand (every one goes through suggest)', () => {
  const src = join(ROOT, 'src');
  const offenders: string[] = [];
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(\*|\/\/)/.test(line)) return;
        if (LOGIN_COMMANDS.test(line)) offenders.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offenders, []);
});
