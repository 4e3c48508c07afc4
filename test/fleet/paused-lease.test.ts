// A runner paused (SIGSTOP) while it holds the fleet's lease, past the lease's lifetime: another
// runner takes the lease over and refreshes; the paused one, once resumed, finds its lease lost
// right before the grant and hands out the other's token instead of spending the refresh token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { startTestServer, type TestServer } from '../harness/oidc-server.js';
import { VAULT_BIN } from '../helpers/cli.js';
import { expire } from '../token/setup.js';
import { startFleet, type Fleet } from './fleet.js';

const SIGNAL_AT = new URL('../helpers/signal-at.mjs', import.meta.url).pathname;

let server: TestServer;
let fleet: Fleet;
before(async () => {
  server = await startTestServer({ accessTokenTtl: 300 });
  fleet = await startFleet(server, { runners: 2, env: { VAULT_REDIS_LEASE: '1' } });
});
after(async () => {
  await fleet?.close();
  await server?.close();
});

function stopped(pid: number): boolean {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('T');
}

test('a lease holder paused past its lease does not spend the refresh token', async () => {
  const [a, b] = fleet.runners;
  await expire(a!);
  const refreshes = server.counts.refresh;
  const revoked = server.counts.grantRevoked;
  const paused = spawn(process.execPath, ['--import', SIGNAL_AT, VAULT_BIN, 'token', 'acme', '--debug'], {
    env: { ...a!.env, VAULT_TEST_SIGNAL: 'SIGSTOP', VAULT_TEST_SIGNAL_AT: 'HTTP GET .*openid-configuration' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    let out = '';
    let err = '';
    paused.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    paused.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = once(paused, 'exit');
    while (!stopped(paused.pid!)) await sleep(20);

    const other = await b!.run(['token', 'acme']);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(server.counts.refresh, refreshes + 1);

    paused.kill('SIGCONT');
    const [code] = await exited;
    assert.equal(code, 0, err);
    assert.equal(out, other.stdout, 'the resumed runner hands out the token the other runner obtained');
    assert.match(err, /lock: lost while paused; starting over/);
    assert.doesNotMatch(err, /refresh: acme/, 'no refresh grant was sent with the spent refresh token');
    assert.equal(server.counts.refresh, refreshes + 1);
    assert.equal(server.counts.grantRevoked, revoked);
  } finally {
    // The test owns the paused process's group: nothing of it outlives the test.
    try {
      process.kill(-paused.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});
