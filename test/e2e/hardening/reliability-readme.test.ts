// README's "Reliability" section states what the hardening suite runs: its counts and crash
// stages must be the ones in the case tables, so the numbers there cannot go stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/cli.js';
import { CRASH_STAGES, RELIABILITY_COUNTS } from './cases.js';

function reliabilitySection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Reliability\n');
  assert.ok(start >= 0, 'README has no "Reliability" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  assert.ok(readme.indexOf('\n## Development') > start, '"Reliability" must come before "Development"');
  return section;
}

test('README "Reliability" lists each fault class with the number of cases the suite runs', (t) => {
  const section = reliabilitySection();
  const rows = new Map([...section.matchAll(/^\| ([^|]+?) \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
  assert.deepEqual(Object.fromEntries(rows), RELIABILITY_COUNTS);
  for (const [name, count] of Object.entries(RELIABILITY_COUNTS)) t.diagnostic(`${name}: ${count}`);
});

test('README "Reliability" names every crash stage the suite kills vault at, with the stores and the outcome', () => {
  const section = reliabilitySection();
  for (const stage of CRASH_STAGES) {
    const row = section.split('\n').find((l) => l.startsWith(`| ${stage.name} |`));
    assert.ok(row, `no row for crash stage "${stage.name}"`);
    assert.ok(row.includes(`| ${stage.stores.join(', ')} |`), `stores of "${stage.name}": ${row}`);
    assert.equal(/exit 3/.test(row), stage.next === 3, `outcome of "${stage.name}": ${row}`);
  }
});
