// No source file grows past MAX_LINES: a file that does has more than one job, and is split along
// its seam into a sibling module instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../support/cli.js';

const SRC = join(ROOT, 'src');
const MAX_LINES = 250;

/** Lines as `wc -l` counts them: a final newline ends the last line, it does not start another. */
function lineCount(text: string): number {
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

test(`no file under src/ is longer than ${MAX_LINES} lines`, () => {
  const files = readdirSync(SRC, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(files.length > 0, 'src/ holds files');
  const over = files
    .map((e) => {
      const path = join(e.parentPath ?? e.path, e.name);
      return { file: relative(ROOT, path), lines: lineCount(readFileSync(path, 'utf8')) };
    })
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(over, [], `over ${MAX_LINES} lines:\n${over.join('\n')}`);
});
