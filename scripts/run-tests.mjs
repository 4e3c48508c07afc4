// Finds test/**/*.test.ts (Node 20's --test takes no globs) and runs them with node's test runner.
// Arguments narrow the run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
// A hang (a stopped or orphaned process, a lock never released) must be a red test, not a CI job
// that runs until it is cancelled. Node 20 applies --test-timeout to each test file as a whole
// (newer versions to each test): generous, since files of end-to-end cases take minutes on a
// busy machine.
const TIMEOUT_MS = 15 * 60_000;
// Three files at a time on two cores: many end-to-end files spend most of their time waiting (a
// grant held 60 s, a lease stretched, a token lifetime waited out), and a third file uses that
// idle time. The tests count events rather than race the clock, so a busier machine only makes
// them slower.
const CONCURRENCY = 3;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`, `--test-timeout=${TIMEOUT_MS}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
