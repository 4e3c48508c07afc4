// Every command's --help teaches by example: walks the command tree, so a new command without
// examples fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';

import { createContext } from '../../../src/cli/context.js';
import { buildProgram, run } from '../../../src/cli/root.js';
import { fakeDeps } from '../../support/fakes.js';

function paths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd
    .createHelp()
    .visibleCommands(cmd)
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);
}

test('the program and every visible command show at least two examples in --help', async () => {
  const all = [[], ...paths(buildProgram(createContext(fakeDeps().deps)))];
  assert.ok(all.length >= 14, `commands: ${all.map((p) => p.join(' ')).join(', ')}`);
  for (const path of all) {
    const { deps, stdout } = fakeDeps();
    assert.equal(await run([...path, '--help'], createContext(deps)), 0);
    const after = stdout().split(/\n(?:Examples|Getting started):\n/)[1];
    assert.ok(after, `vault ${path.join(' ')} --help has no examples`);
    const examples = after.split('\n').filter((l) => /^ {2}\S/.test(l));
    assert.ok(examples.length >= 2, `vault ${path.join(' ')} --help shows ${examples.length} example(s)`);
  }
});
