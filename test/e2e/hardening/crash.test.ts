// SIGKILL of `vault token --force-refresh` at each stage of a refresh, in the file store and the
// keychain. Afterwards the store is whole, and the next `vault token` either succeeds without a
// new login, or — where the server had rotated the refresh token and the new one provably never
// reached the store — exits 3 with the command to run (RFC 9700 §4.14.2 reuse detection revokes
// the grant when the spent token comes back).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRASH_RUNS } from './cases.js';
import { vault } from '../../support/cli.js';
import {
  PROVIDER,
  TOKEN_PATH,
  argvWatch,
  assertNoSecrets,
  assertNoSecretsInFiles,
  entries,
  loggedInVia,
  ok,
  start,
  startWorld,
  storedEntry,
  storedRefreshToken,
  timed,
} from '../../support/world.js';

const argv = argvWatch();
const DIE_AT = fileURLToPath(new URL('../../support/signal-at.mjs', import.meta.url));
const ACCESS_KEY = `at:${PROVIDER}:default:*`;
/** Between lock.ts's STALE_MS (5 s) and its INFLIGHT_MS (120 s): see the use. */
const TAKEOVER_BOUND_MS = 60_000;

// Every run has a world of its own, and most of a run is the wait for the dead holder's lock to go
// stale: all of them at once.
describe('SIGKILL at each stage of a refresh', { concurrency: CRASH_RUNS.length }, () => {
  for (const { stage, store } of CRASH_RUNS) {
    const outcome =
      stage.next === 0 ? 'the next call needs no login' : 'the next call exits 3 naming `vault login acme`';
    test(`${stage.name} (${store} store): ${outcome}`, async () => {
      // The login's access token outlives the run (the calls here all --force-refresh), so a
      // loaded machine cannot turn a slow answer into an expired token.
      const world = await startWorld({ accessTokenTtl: 300 });
      const box = await loggedInVia(world, { VAULT_STORE: store });
      try {
        const oldRefresh = storedRefreshToken(box);
        const oldAccess = storedEntry(box, ACCESS_KEY);
        assert.ok(oldAccess, 'login cached no access token');
        const refreshes = world.server.counts.refresh;

        let running;
        if ('dieAfterLine' in stage.how) {
          running = start(
            ['token', PROVIDER, '--force-refresh', '--debug'],
            { ...box.env, VAULT_TEST_SIGNAL_AT: stage.how.dieAfterLine.source },
            ['--import', DIE_AT],
          );
        } else {
          world.proxy.set(TOKEN_PATH, { kind: stage.how.proxy });
          running = start(['token', PROVIDER, '--force-refresh', '--debug'], box.env);
          await world.proxy.held();
          process.kill(running.pid, 'SIGKILL');
        }
        const killed = await running.done;
        world.proxy.set(TOKEN_PATH, undefined);
        assert.equal(
          killed.signal,
          'SIGKILL',
          `vault was not killed at the stage (exit ${killed.code}):\n${killed.stderr}`,
        );
        assert.equal(killed.stdout, '', 'a token was handed out before the kill');
        assertNoSecrets('stderr (--debug)', killed.stderr, world.server);

        // What the kill left behind.
        assert.equal(
          world.server.counts.refresh - refreshes,
          stage.rotated ? 1 : 0,
          'refresh grants the server completed',
        );
        const refreshAfter = storedRefreshToken(box);
        const accessAfter = storedEntry(box, ACCESS_KEY);
        if (stage.stored === 'old') {
          assert.equal(refreshAfter, oldRefresh, 'the stored refresh token changed');
          assert.equal(accessAfter, oldAccess, 'the cached access token changed');
        } else {
          assert.notEqual(refreshAfter, oldRefresh, 'the rotated refresh token was not stored');
          assert.equal(
            (await world.server.introspect(refreshAfter)).active,
            true,
            'the stored refresh token is not the live one',
          );
          if (stage.stored === 'new refresh token')
            assert.equal(accessAfter, oldAccess, 'the access token was written before the kill');
          else assert.notEqual(accessAfter, oldAccess, 'the new access token was not cached');
        }
        if (store === 'file') {
          assert.ok(entries(box), 'credentials.json does not parse');
          assert.deepEqual(
            readdirSync(box.env.VAULT_DATA_DIR!).filter((f) => f !== 'locks'),
            ['credentials.json'],
            'left-over files next to the store',
          );
        }

        // The next call, after the dead process's lock has gone stale.
        const { value: next, ms } = await timed(() => vault(box, ['token', PROVIDER, '--force-refresh']));
        // It waits for the dead holder's lock to go stale (5 s) and refreshes; a regression waits
        // out the in-flight mark (120 s) or forever. The bound sits between the two, far from
        // both, so a loaded machine does not cross it and the regression cannot pass under it.
        assert.ok(ms < TAKEOVER_BOUND_MS, `the next call took ${Math.round(ms)} ms`);
        if (stage.next === 0) {
          assert.equal(next.code, 0, next.stderr);
          assert.match(next.stdout, /^\S+\n$/);
          assert.equal(world.server.counts.authorizationCode, 1, 'a new login happened');
          assert.equal(world.server.counts.grantRevoked, 0, 'the server revoked the grant');
          assert.equal((await world.server.introspect(storedRefreshToken(box))).active, true);
        } else {
          assert.equal(next.code, 3, next.stderr);
          assert.equal(next.stdout, '');
          assert.match(next.stderr, /^error: refresh for acme failed: invalid_grant .* — run `vault login acme`\n$/);
          assert.equal(
            world.server.counts.grantRevoked,
            1,
            'reuse of the spent refresh token did not revoke the grant',
          );
          // The way back is the login the message names.
          await ok(box, ['login', PROVIDER]);
          await ok(box, ['token', PROVIDER, '--force-refresh']);
        }
        assertNoSecretsInFiles(box, world.server);
      } finally {
        argv.track(world.server);
        box.cleanup();
        await world.close();
      }
    });
  }
});

test('no issued token or code was ever in the argv of any process while the crashes ran', () => argv.check());
