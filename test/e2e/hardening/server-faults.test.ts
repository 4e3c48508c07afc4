// Faults at the authorization server, through the fault proxy in front of the real oidc-provider:
// for each, the exit code SPEC.md prescribes after bounded retries, a one-line message, the store
// untouched byte for byte, the refresh token still honoured and usable afterwards, no secret in
// stderr (with --debug), in files or in any process's argv, and no hang.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SERVER_FAULTS } from './cases.js';
import { vault } from '../../support/cli.js';
import {
  HANG_BOUND_MS,
  PROVIDER,
  TOKEN_PATH,
  assertLoginIntact,
  assertNoSecrets,
  assertNoSecretsInFiles,
  credentialsFile,
  argvWatch,
  loggedInVia,
  startWorld,
  storedRefreshToken,
  timed,
} from '../../support/world.js';

const argv = argvWatch();

describe('faults at the token endpoint during a refresh', { concurrency: 4 }, () => {
  for (const c of SERVER_FAULTS) {
    test(`${c.name}: exit ${c.exit} after ${c.attempts} attempt(s), nothing lost`, async () => {
      const world = await startWorld();
      const box = await loggedInVia(world);
      try {
        const refreshToken = storedRefreshToken(box);
        const store = readFileSync(credentialsFile(box));
        const seen = world.proxy.attempts.length;
        const refreshesBefore = world.server.counts.refresh;

        world.proxy.set(TOKEN_PATH, c.fault);
        // A 1 s timeout only where the timeout is the fault: on a loaded machine the proxy's
        // answer may take longer, and a timeout there would count as another attempt.
        const timeout = c.fault.kind === 'hang' ? '1' : '60';
        const { value: r, ms } = await timed(() =>
          vault(box, ['token', PROVIDER, '--force-refresh', '--debug'], { VAULT_HTTP_TIMEOUT: timeout }),
        );
        world.proxy.set(TOKEN_PATH, undefined);

        assert.equal(r.code, c.exit, r.stderr);
        assert.equal(r.stdout, '', 'a failed call printed something on stdout');
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0]!, /^error: refresh for acme failed: /);
        assert.match(errors[0]!, c.message);
        if (c.exit === 4) assert.match(errors[0]!, /\(temporary; try again\)$/);

        const attempts = world.proxy.attempts.slice(seen).filter((a) => a.path === TOKEN_PATH);
        assert.equal(attempts.length, c.attempts, 'attempts at the token endpoint');
        for (let i = 1; i < attempts.length && c.minGapMs; i++) {
          const gap = attempts[i]!.at - attempts[i - 1]!.at;
          assert.ok(
            gap >= c.minGapMs - 5,
            `attempt ${i + 1} came ${gap} ms after the previous one, before Retry-After allowed`,
          );
        }
        assert.ok(ms < HANG_BOUND_MS, `took ${Math.round(ms)} ms`);

        assert.equal(world.server.counts.refresh, refreshesBefore, 'a faulty refresh reached the server');
        assert.deepEqual(readFileSync(credentialsFile(box)), store, 'the store changed');
        assertNoSecrets('stderr (--debug)', r.stderr, world.server);
        assertNoSecretsInFiles(box, world.server);
        await assertLoginIntact(world, box, refreshToken);
      } finally {
        argv.track(world.server);
        box.cleanup();
        await world.close();
      }
    });
  }
});

test('no issued token or code was ever in the argv of any process while the faults ran', () => argv.check());
