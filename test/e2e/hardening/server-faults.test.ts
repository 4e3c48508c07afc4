// Faults at the authorization server, through the fault proxy in front of the real oidc-provider:
// for each, the exit code README prescribes after bounded retries, a one-line message, the store
// untouched byte for byte, the refresh token still honoured and usable afterwards, no secret in
// stderr (with --debug), in files or in any process's argv, and no hang. Then refresh grants the
// server did perform, with the answer late or lost on the way back: never sent twice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRANT_ANSWER_WAIT_S, SENT_GRANT_CASES, SERVER_FAULTS, type ServerFaultCase } from './cases.js';
import { runVault, vault } from '../../support/cli.js';
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

// The case that waits out GRANT_ANSWER_WAIT_S goes first, so the others run while it waits.
const HANG_FIRST = [...SERVER_FAULTS].sort((a, b) => Number(isHang(b)) - Number(isHang(a)));

function isHang(c: ServerFaultCase): boolean {
  return c.fault !== 'refused' && c.fault.kind === 'hang';
}

function serverFaults(): void {
  for (const c of HANG_FIRST) {
    test(`${c.name}: exit ${c.exit} after ${c.attempts} attempt(s), nothing lost`, async () => {
      const world = await startWorld();
      const box = await loggedInVia(world);
      try {
        const refreshToken = storedRefreshToken(box);
        const store = readFileSync(credentialsFile(box));
        const seen = world.proxy.attempts.length;
        const refreshesBefore = world.server.counts.refresh;

        if (c.fault === 'refused') await world.proxy.refuse();
        else world.proxy.set(TOKEN_PATH, c.fault);
        // A request once written is awaited GRANT_ANSWER_WAIT_S whatever VAULT_HTTP_TIMEOUT says.
        const hang = isHang(c);
        const bound = HANG_BOUND_MS + (hang ? GRANT_ANSWER_WAIT_S * 1000 : 0);
        const { value: r, ms } = await timed(() =>
          runVault(['token', PROVIDER, '--force-refresh', '--debug'], {
            // A 1 s timeout only where the timeout is the fault: on a loaded machine the proxy's
            // answer may take longer than 1 s.
            env: { ...box.env, VAULT_HTTP_TIMEOUT: hang ? '1' : '60' },
            timeoutMs: bound + 30_000,
          }),
        );
        if (c.fault === 'refused') await world.proxy.accept();
        else world.proxy.set(TOKEN_PATH, undefined);

        assert.equal(r.code, c.exit, r.stderr);
        assert.equal(r.stdout, '', 'a failed call printed something on stdout');
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0]!, /^error: refresh for acme failed: /);
        assert.match(errors[0]!, c.message);
        if (c.unknown) assert.match(errors[0]!, MAY_HAVE_ROTATED);
        else if (c.exit === 4) assert.match(errors[0]!, /\(temporary; try again\)$/);

        // A refused connection never reaches the proxy: vault's --debug lines count those attempts.
        const attempts =
          c.fault === 'refused'
            ? r.stderr.split('\n').filter((l) => /HTTP POST \S+\/token → connection refused/.test(l))
            : world.proxy.attempts.slice(seen).filter((a) => a.path === TOKEN_PATH);
        assert.equal(attempts.length, c.attempts, 'attempts at the token endpoint');
        for (let i = 1; i < attempts.length && c.minGapMs; i++) {
          const gap = (attempts[i] as { at: number }).at - (attempts[i - 1] as { at: number }).at;
          assert.ok(
            gap >= c.minGapMs - 5,
            `attempt ${i + 1} came ${gap} ms after the previous one, before Retry-After allowed`,
          );
        }
        assert.ok(ms < bound, `took ${Math.round(ms)} ms`);

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
}

/** The end of the message for a grant that may have reached the server (exit 4, nothing re-sent). */
const MAY_HAVE_ROTATED =
  /, after the request was sent — acme may have rotated the refresh token: run `vault token acme` again, and if it then says a login is needed, `vault login acme`$/;

function sentGrants(): void {
  for (const c of SENT_GRANT_CASES) {
    test(`${c.name}: exit ${c.exit}, ${c.attempts} request(s), ${c.refreshes} refresh(es) at the server, then exit ${c.next}`, async () => {
      // Tokens that outlive a 6 s answer: what is checked here is the refresh token's fate.
      const world = await startWorld({ accessTokenTtl: 300 });
      const box = await loggedInVia(world);
      try {
        if (c.rotationGrace !== undefined) {
          const file = join(box.env.VAULT_CONFIG_DIR!, 'config.toml');
          const text = readFileSync(file, 'utf8');
          assert.ok(text.includes('[providers.acme]\n'), text);
          writeFileSync(
            file,
            text.replace('[providers.acme]\n', `[providers.acme]\nrotation_grace = ${c.rotationGrace}\n`),
          );
          const shown = await vault(box, ['provider', 'show', PROVIDER]);
          assert.match(shown.stdout, new RegExp(`^rotation_grace +${c.rotationGrace}$`, 'm'), shown.stderr);
        }
        const refreshToken = storedRefreshToken(box);
        const store = readFileSync(credentialsFile(box));
        const seen = world.proxy.attempts.length;
        const refreshesBefore = world.server.counts.refresh;

        world.proxy.set(TOKEN_PATH, c.fault, c.times);
        const r = await vault(box, ['token', PROVIDER, '--force-refresh', '--debug'], {
          VAULT_HTTP_TIMEOUT: String(c.httpTimeout ?? 3),
        });
        world.proxy.set(TOKEN_PATH, undefined);

        const attempts = world.proxy.attempts.slice(seen).filter((a) => a.path === TOKEN_PATH);
        assert.equal(attempts.length, c.attempts, `requests at the token endpoint:\n${r.stderr}`);
        assert.equal(world.server.counts.refresh - refreshesBefore, c.refreshes, 'refresh grants at the server');
        assert.equal(world.server.counts.grantRevoked, 0, 'the server revoked the grant (a spent token was re-sent)');
        assert.equal(r.code, c.exit, r.stderr);
        assertNoSecrets('stderr (--debug)', r.stderr, world.server);
        if (c.exit === 0) {
          assert.match(r.stdout, /^\S+\n$/);
          if (c.refreshes)
            assert.notEqual(storedRefreshToken(box), refreshToken, 'the rotated refresh token was not stored');
          await assertLoginIntact(world, box, storedRefreshToken(box));
          return;
        }
        assert.equal(r.stdout, '');
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0]!, MAY_HAVE_ROTATED);
        assert.deepEqual(readFileSync(credentialsFile(box)), store, 'the store changed');
        assertNoSecretsInFiles(box, world.server);
        if (c.next === 0) {
          await assertLoginIntact(world, box, refreshToken);
          return;
        }
        // The server rotated, and the new refresh token was lost on the way: the stored one is
        // spent. The next refresh presents it once: the server refuses it (exit 3, log in again)
        // and its reuse detection ends the grant. Sending it again inside the failed call would
        // have done the same, only hidden behind a retry.
        const next = await vault(box, ['token', PROVIDER, '--force-refresh']);
        assert.equal(next.code, 3, next.stderr);
        assert.match(next.stderr, /invalid_grant .*run `vault login acme`/);
        assert.equal(world.server.counts.grantRevoked, 1, 'reuse detection at the server');
      } finally {
        argv.track(world.server);
        box.cleanup();
        await world.close();
      }
    });
  }
}

async function codeExchange502(): Promise<void> {
  const world = await startWorld({ accessTokenTtl: 300 });
  const box = await loggedInVia(world);
  try {
    const store = readFileSync(credentialsFile(box));
    const seen = world.proxy.attempts.length;
    world.proxy.set(TOKEN_PATH, { kind: 'status', status: 502, body: 'Bad Gateway' });
    const r = await vault(box, ['login', PROVIDER]);
    world.proxy.set(TOKEN_PATH, undefined);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(world.proxy.attempts.slice(seen).filter((a) => a.path === TOKEN_PATH).length, 1, 'code sent twice');
    assert.match(
      r.stderr,
      /^error: login for acme failed: HTTP 502 Bad Gateway, after the request was sent — acme may have redeemed the code: run `vault login acme` again$/m,
    );
    assert.deepEqual(readFileSync(credentialsFile(box)), store, 'the store changed');
    await assertLoginIntact(world, box, storedRefreshToken(box));
  } finally {
    argv.track(world.server);
    box.cleanup();
    await world.close();
  }
}

// Every case has a world of its own, so the three parts run side by side (the long waits of some
// overlap the work of others); the argv check comes after all of them.
describe('the token endpoint failing, or its answer late or lost', { concurrency: 3 }, () => {
  describe('faults at the token endpoint during a refresh', { concurrency: 4 }, serverFaults);
  describe('refresh grants the server performed, with the answer late or lost', { concurrency: 3 }, sentGrants);
  test('a code exchange answered 502 by a gateway: sent once, exit 4, the previous login kept', codeExchange502);
});

test('no issued token or code was ever in the argv of any process while the faults ran', () => argv.check());
