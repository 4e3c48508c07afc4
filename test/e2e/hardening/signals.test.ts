// Ctrl-C (SIGINT), `timeout` or CI cancellation (SIGTERM) and a closed terminal (SIGHUP) while a
// refresh grant, the code exchange of a login or a revocation is in flight. The proxy holds the
// real server's answer (the refresh token is already rotated, the code spent) while the signal
// arrives. vault waits for the answer, stores what it carries, and only then exits with the
// signal's code (128 + N): the login keeps working. Dying at once would lose it (RFC 9700 §4.14.2).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore } from '../../../src/infra/stores/file-store.js';
import { keychainStore } from '../../../src/infra/stores/index.js';
import type { Sandbox } from '../../support/cli.js';
import { SIGNAL_CASES, type SignalCase } from './cases.js';
import {
  PROVIDER,
  TOKEN_PATH,
  argvWatch,
  assertLoginIntact,
  assertNoSecrets,
  withLogin,
  credentialsFile,
  ok,
  start,
  storedEntry,
  storedRefreshToken,
  type World,
} from '../../support/world.js';

const argv = argvWatch();
const EXIT: Record<SignalCase['signal'], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const RT_KEY = `rt:${PROVIDER}:default`;
const AT_KEY = `at:${PROVIDER}:default:*`;
const REVOCATION_PATH = '/token/revocation';

/** Drops the cached access token (wherever the sandbox's store keeps it), so the next command must refresh. */
async function dropCachedToken(box: Sandbox): Promise<void> {
  const store = box.env.VAULT_STORE === 'keychain' ? keychainStore(box.env) : new FileStore(credentialsFile(box));
  assert.ok(await store.delete(AT_KEY), 'no cached access token to drop');
}

/** What the command must have said it finished before it stopped. */
const DONE: Record<SignalCase['kind'], string> = {
  refresh: `the new tokens for ${PROVIDER} were stored`,
  login: `the login to ${PROVIDER} was stored`,
  logout: `the login to ${PROVIDER} was removed`,
};

async function signalCase(c: SignalCase, world: World, box: Sandbox): Promise<void> {
  if (c.command === 'git-credential') await ok(box, ['provider', 'set', PROVIDER, '--git-host', 'git.example.test']);
  if (c.kind === 'refresh') await dropCachedToken(box);
  const oldRefresh = storedRefreshToken(box);
  const before = { ...world.server.counts };
  const held = c.kind === 'logout' ? REVOCATION_PATH : TOKEN_PATH;
  world.proxy.set(held, { kind: 'hold-response' });
  const running = start(c.args, { ...box.env, VAULT_DEBUG: '1' }, [], [], c.input);
  await world.proxy.held();
  process.kill(running.pid, c.signal);
  // vault says it holds the signal; only then does the answer go on.
  await running.line(new RegExp(`signal: ${c.signal} held until ${DONE[c.kind]}`));
  world.proxy.set(held, undefined);
  world.proxy.release();
  const r = await running.done;

  assert.equal(r.signal, null, `vault died of ${r.signal} instead of finishing first:\n${r.stderr}`);
  assert.equal(r.code, EXIT[c.signal], r.stderr);
  assert.equal(r.stdout, '', 'something was handed out after the signal');
  assert.match(r.stderr, new RegExp(`^error: stopped by ${c.signal} once ${DONE[c.kind]}$`, 'm'));
  assertNoSecrets('stderr (--debug)', r.stderr, world.server);

  if (c.kind === 'logout') {
    assert.equal(world.server.counts.revocations, before.revocations + 1);
    assert.equal(storedEntry(box, RT_KEY), undefined, 'the revoked login is still stored');
    assert.equal(storedEntry(box, AT_KEY), undefined, 'a cached access token is still stored');
    assert.equal((await world.server.introspect(oldRefresh)).active, false, 'the refresh token was not revoked');
    // Logged out cleanly: a new login works as usual.
    await ok(box, ['login', PROVIDER]);
    await ok(box, ['token', PROVIDER, '--force-refresh']);
    return;
  }
  assert.equal(world.server.counts.grantRevoked, before.grantRevoked, 'a grant was revoked');
  if (c.kind === 'login')
    assert.equal(
      world.server.counts.authorizationCode,
      before.authorizationCode + 1,
      'the code exchange did not happen',
    );
  else assert.equal(world.server.counts.refresh, before.refresh + 1, 'the refresh grant did not happen');
  const stored = storedRefreshToken(box);
  assert.notEqual(stored, oldRefresh, 'the new refresh token was not stored');
  if (c.command === 'exec') assert.ok(!existsSync(join(box.env.HOME!, 'exec-ran')), 'the command ran after the signal');
  await assertLoginIntact(world, box, stored);
}

describe(
  'SIGINT, SIGTERM and SIGHUP while an answer that carries or spends a token is in flight',
  { concurrency: 4 },
  () => {
    for (const c of SIGNAL_CASES) {
      test(`${c.args.slice(0, 2).join(' ')}: ${c.signal} during the ${c.kind === 'logout' ? 'revocation' : c.kind === 'login' ? 'code exchange' : 'refresh grant'} (${c.store} store) exits ${EXIT[c.signal]} once it is stored`, () =>
        withLogin(argv, { extra: { VAULT_STORE: c.store } }, (world, box) => signalCase(c, world, box)));
    }
  },
);

test('no issued token or code was ever in the argv of any process while these cases ran', () => argv.check());
