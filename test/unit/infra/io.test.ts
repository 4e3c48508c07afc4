// writeAllSync prints the cached token without a stream object: it must deliver every byte even
// to a descriptor that is non-blocking and full (short writes, EAGAIN).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { writeAllSync } from '../../../src/infra/io.js';

test('writeAllSync delivers 1 MiB through a non-blocking FIFO whose reader starts late', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-io-'));
  try {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // The reader holds the FIFO open at once but drains it only after a pause, so the 64 KiB pipe
    // buffer fills and the writer meets EAGAIN.
    const reader = spawn('sh', ['-c', 'exec 3<"$1"; sleep 0.3; wc -c <&3', 'sh', fifo], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let counted = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (counted += d));
    const done = new Promise((resolve) => reader.on('close', resolve));

    let fd: number | undefined;
    try {
      while (fd === undefined) {
        try {
          fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (error) {
          // ENXIO until the reader has the FIFO open.
          if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
          if (reader.exitCode !== null) throw new Error('the reader ended before opening the FIFO');
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      writeAllSync(fd, 'é'.repeat(512 * 1024));
    } finally {
      // Closing is the reader's end of file, whatever happened.
      if (fd !== undefined) closeSync(fd);
    }
    await done;
    assert.equal(counted.trim(), String(1024 * 1024));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
