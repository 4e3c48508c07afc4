// docs/reliability.md states what the hardening suite runs: its counts and crash stages must be the
// ones in the case tables, so the numbers there cannot go stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/cli.js';
import { CRASH_STAGES, RELIABILITY_COUNTS } from './cases.js';

function reliabilityDoc(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'reliability.md'), 'utf8');
  assert.ok(doc.startsWith('# Reliability\n'), 'docs/reliability.md is the Reliability document');
  return doc;
}

test('docs/reliability.md lists each fault class with the number of cases the suite runs', (t) => {
  const doc = reliabilityDoc();
  const rows = new Map([...doc.matchAll(/^\| ([^|]+?) \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
  assert.deepEqual(Object.fromEntries(rows), RELIABILITY_COUNTS);
  for (const [name, count] of Object.entries(RELIABILITY_COUNTS)) t.diagnostic(`${name}: ${count}`);
});

test('docs/reliability.md names every crash stage the suite kills vault at, with the stores and the outcome', () => {
  const doc = reliabilityDoc();
  for (const stage of CRASH_STAGES) {
    const row = doc.split('\n').find((l) => l.startsWith(`| ${stage.name} |`));
    assert.ok(row, `no row for crash stage "${stage.name}"`);
    assert.ok(row.includes(`| ${stage.stores.join(', ')} |`), `stores of "${stage.name}": ${row}`);
    assert.equal(/exit 3/.test(row), stage.next === 3, `outcome of "${stage.name}": ${row}`);
  }
});
