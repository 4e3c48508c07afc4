// `vault exec --token-file`'s schedule, on a clock the test moves: a reader of the file at any
// moment holds a token that stays valid for at least --min-valid (the margin rule of `vault token`).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, mock, test } from 'node:test';

import { createContext } from '../../../src/cli/context.js';
import { keepTokenFile } from '../../../src/cli/long-job.js';
import type { AccessRecord } from '../../../src/core/credentials.js';
import { fakeClock, fakeDeps } from '../../support/fakes.js';

let runtime: string;
beforeEach(() => {
  runtime = mkdtempSync(join(tmpdir(), 'vault-token-file-'));
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => {
  mock.timers.reset();
  rmSync(runtime, { recursive: true, force: true });
});

const LIFETIME = 60_000;
const MIN_VALID = 10;

test('a reader at expiry - min_valid + 1 s finds a token valid for at least min_valid, at every renewal', async () => {
  const clock = fakeClock();
  const ctx = createContext(fakeDeps({ clock, env: { XDG_RUNTIME_DIR: runtime } }).deps);
  let issued = 0;
  const tokens = new Map<string, AccessRecord>();
  const mint = (): AccessRecord => {
    const now = clock.now();
    const record: AccessRecord = {
      v: 1,
      access_token: `at-${++issued}`,
      token_type: 'Bearer',
      issued_at: now,
      expires_at: now + LIFETIME,
      scope: '',
    };
    tokens.set(record.access_token, record);
    return record;
  };
  const first = mint();
  const file = await keepTokenFile(ctx, async () => mint(), first, MIN_VALID, 'TOKEN_FILE');
  try {
    const path = file.env.TOKEN_FILE!;
    let expiry = first.expires_at!;
    for (let round = 0; round < 3; round++) {
      // Second by second, as the timers fire, up to 1 s past the point where the margin starts.
      const readAt = expiry - MIN_VALID * 1000 + 1000;
      while (clock.now() < readAt) {
        clock.advance(1000);
        mock.timers.tick(1000);
        // The renewal's obtain() and write run on promises: let them finish.
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      const held = tokens.get(readFileSync(path, 'utf8'))!;
      const left = held.expires_at! - clock.now();
      assert.ok(
        left >= MIN_VALID * 1000,
        `round ${round}: the file holds ${held.access_token}, valid ${left / 1000} s more`,
      );
      expiry = held.expires_at!;
    }
    assert.equal(issued, 4, 'one renewal per token, none sooner');
  } finally {
    await file.stop();
  }
});
